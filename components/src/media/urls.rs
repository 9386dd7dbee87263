//! Where the media endpoint serves component JS/CSS and the client script: the URLs pages name.

use crate::media::kind::MediaKind;

/// Where media URLs start: `/components/cache/<class id>[.<hash>].<js|css>`.
pub const MEDIA_PATH: &str = "/components/cache/";

/// The URL of the client script.
pub const MANAGER_URL: &str = "/components/manager.js";

/// The media URL of a class entry (`hash` `None`) or of a variables payload.
pub fn media_url(class_id: &str, kind: MediaKind, hash: Option<&str>) -> String {
    match hash {
        None => format!("{MEDIA_PATH}{class_id}.{}", kind.as_str()),
        Some(hash) => format!("{MEDIA_PATH}{class_id}.{hash}.{}", kind.as_str()),
    }
}
