#![doc = include_str!("../README.md")]

mod canonical;
mod class_id;
mod component;
mod config;
mod deps;
mod embedded;
mod endpoint;
mod erased;
mod error;
mod fragment;
mod html;
mod ids;
mod join;
mod key;
mod markers;
mod media;
mod output;
mod page;
mod registry;
mod renderer;
mod resolve;
mod settings;
mod slots;
mod template;
mod vars;

pub use cache_core::BoxError;
pub use class_id::class_id;
pub use component::{Component, Data, NoProps, RenderFn, View};
pub use config::{ComponentsConfig, OutputCacheOverride};
pub use deps::{CSS_PLACEHOLDER, InvalidStrategy, JS_PLACEHOLDER, MANAGER_URL, MEDIA_PATH, Strategy, media_url};
pub use embedded::{embedded_caches, embedded_media_cache};
pub use endpoint::{MANAGER_JS, media_router};
pub use error::ComponentError;
pub use html::Html;
pub use key::KEY_PREFIX;
pub use media::{MEDIA_KEY_PREFIX, media_key};
pub use output::{Dependency, InstanceId, MediaKind, RenderOutput, RenderStats, Variables};
pub use registry::{ComponentInfo, Registry};
pub use renderer::{Render, Renderer};
pub use settings::{DEFAULT_ALIAS, OutputCache, Ttl};
pub use slots::Slots;
pub use template::DEFAULT_SLOT;

/// How deep components may nest before a render fails with [`ComponentError::TooDeep`]: deep enough
/// for any real page, shallow enough to stop a component that includes itself.
pub const MAX_DEPTH: u32 = 64;
