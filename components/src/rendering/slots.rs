//! [`Slots`]: slot contents given from Rust.

use std::collections::BTreeMap;

use crate::rendering::markers;

/// The name of the default slot: what a `{% call component(...) %}` body fills.
pub const DEFAULT_SLOT: &str = "default";

/// Slot contents for a render started from Rust ([`crate::Renderer::render`] or
/// [`crate::Html::child_with_slots`]). Contents are trusted HTML; give a slot twice and the last wins.
///
/// ```
/// let slots = cache_components::Slots::new().default_slot("<p>body</p>").fill("header", "<h1>Title</h1>");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    fills: BTreeMap<String, String>,
}

impl Slots {
    /// No slots filled.
    pub fn new() -> Self {
        Slots::default()
    }

    /// Fills slot `name` with `html`.
    pub fn fill(mut self, name: impl Into<String>, html: impl AsRef<str>) -> Self {
        // NUL would read as a render marker; an HTML parser shows it as U+FFFD anyway.
        let html = markers::sanitize(html.as_ref()).into_owned();
        self.fills.insert(name.into(), html);
        self
    }

    /// Fills the `default` slot.
    pub fn default_slot(self, html: impl AsRef<str>) -> Self {
        self.fill(DEFAULT_SLOT, html)
    }

    pub(crate) fn into_sorted(self) -> Vec<(String, String)> {
        self.fills.into_iter().collect()
    }
}
