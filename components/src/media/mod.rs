//! Component JS/CSS: JS/CSS variables, the media store, render strategies putting media into
//! HTML, and the endpoint and client script pages load it with.

pub(crate) mod content;
pub(crate) mod endpoint;
pub(crate) mod kind;
pub(crate) mod store;
pub(crate) mod strategies;
pub(crate) mod urls;
pub(crate) mod variables;
