//! Rendering: the [`Renderer`](renderer::Renderer) users call, one page in progress, the calls
//! templates and render functions make, and the [`RenderOutput`](output::RenderOutput) handed back.

pub(crate) mod cache_warnings;
pub(crate) mod call;
pub(crate) mod html;
pub(crate) mod ids;
pub(crate) mod join;
pub(crate) mod markers;
pub(crate) mod output;
pub(crate) mod page;
pub(crate) mod renderer;
pub(crate) mod resolve;
pub(crate) mod slots;
pub(crate) mod stamp;
pub(crate) mod state;
pub(crate) mod template;
