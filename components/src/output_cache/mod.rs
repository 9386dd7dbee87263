//! The output cache: django-components' `Component.Cache`, made correct — settings, keys, the
//! structured render that is stored, and reading and writing it through the component's alias.

pub(crate) mod fragment;
pub(crate) mod key;
pub(crate) mod lookup;
pub(crate) mod roots;
pub(crate) mod settings;
pub(crate) mod stored_form;
pub(crate) mod target;
pub(crate) mod top_level;
