//! [`MediaKind`]: JS or CSS, as media keys, URLs and variables name them.

/// JS or CSS: which kind of media a class entry or a variables payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// JS variables (`js_data`).
    Js,
    /// CSS variables (`css_data`).
    Css,
}

impl MediaKind {
    /// `js` or `css`, as in media keys and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Js => "js",
            MediaKind::Css => "css",
        }
    }
}
