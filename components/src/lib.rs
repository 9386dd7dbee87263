#![doc = include_str!("../README.md")]
// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod canonical;
mod class_id;
mod component;
mod config;
pub mod counters;
mod embedded;
mod erased;
mod error;
mod media;
mod output_cache;
mod registry;
mod rendering;
mod template_fragments;

pub use cache_core::BoxError;
pub use class_id::class_id;
pub use component::{Component, Data, NoProps, RenderFn, View};
pub use config::{ComponentsConfig, OutputCacheOverride};
pub use embedded::{embedded_caches, embedded_media_cache};
pub use error::ComponentError;
pub use media::endpoint::{MANAGER_JS, media_router};
pub use media::kind::MediaKind;
pub use media::store::{MEDIA_KEY_PREFIX, media_key};
pub use media::strategies::{CSS_PLACEHOLDER, InvalidStrategy, JS_PLACEHOLDER, Strategy};
pub use media::urls::{MANAGER_URL, MEDIA_PATH, media_url};
pub use media::variables::Variables;
pub use output_cache::key::KEY_PREFIX;
pub use output_cache::settings::{DEFAULT_ALIAS, OutputCache, Ttl};
pub use registry::{ComponentInfo, Registry};
pub use rendering::html::Html;
pub use rendering::output::{Dependency, InstanceId, RenderOutput, RenderStats};
pub use rendering::renderer::{Render, Renderer};
pub use rendering::slots::{DEFAULT_SLOT, Slots};
pub use template_fragments::key::{TEMPLATE_FRAGMENT_KEY_PREFIX, template_fragment_key};
pub use template_fragments::tag::TEMPLATE_FRAGMENTS_ALIAS;

/// How deep components may nest before a render fails with [`ComponentError::TooDeep`]: deep enough
/// for any real page, shallow enough to stop a component that includes itself.
pub const MAX_DEPTH: u32 = 64;
