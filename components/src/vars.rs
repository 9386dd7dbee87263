//! JS/CSS variables of one render: canonical JSON and a 64-bit hash instances refer to them by.

use std::sync::Arc;

use crate::canonical;
use crate::component::Data;
use crate::error::ComponentError;
use crate::output::{MediaKind, Variables};
use crate::registry::Entry;

/// Hex characters of the hash: 64 bits (django-components uses 24, which collide at a few
/// thousand distinct payloads per class — reference §14 item 6).
const HASH_CHARS: usize = 16;

/// The payload of `data` for `entry`, or `None` when there is nothing to register: no data, or no
/// JS (resp. CSS) to hand it to.
pub(crate) fn payload(entry: &Entry, kind: MediaKind, data: Data) -> Result<Option<Variables>, ComponentError> {
    let has_media = match kind {
        MediaKind::Js => entry.js.is_some(),
        MediaKind::Css => entry.css.is_some(),
    };
    if data.is_empty() || !has_media {
        return Ok(None);
    }
    let json = canonical::to_string(&data).map_err(|error| ComponentError::Render {
        component: entry.name.to_owned(),
        source: format!("its {}_data can't be serialized: {error}", kind.as_str()).into(),
    })?;
    let hash = &blake3::hash(json.as_bytes()).to_hex()[..HASH_CHARS];
    Ok(Some(Variables {
        class_id: Arc::clone(&entry.class_id),
        kind,
        hash: hash.into(),
        json: json.into(),
    }))
}
