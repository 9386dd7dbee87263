//! JS/CSS variables of one render ([`Variables`]): canonical JSON, a 64-bit hash instances refer to
//! them by, and the script or style sheet that hands them to the page.

use std::sync::Arc;

use crate::canonical;
use crate::component::Data;
use crate::error::ComponentError;
use crate::media::content::{css_variables_sheet, js_string, script_safe};
use crate::media::kind::MediaKind;
use crate::registry::RegisteredComponent;

/// Hex characters of the hash: 64 bits (django-components uses six hex characters, 24 bits, which
/// by the birthday bound collide at a few thousand distinct payloads per class).
const HASH_CHARS: usize = 16;

/// The payload of `data` for `entry`, or `None` when there is nothing to register: no data, or no
/// JS (resp. CSS) to hand it to.
pub(crate) fn payload(
    entry: &RegisteredComponent,
    kind: MediaKind,
    data: Data,
) -> Result<Option<Variables>, ComponentError> {
    if data.is_empty() || !entry.has_media(kind) {
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

/// One distinct JS or CSS variables payload of a component class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    /// The component's class id.
    pub class_id: Arc<str>,
    /// JS or CSS.
    pub kind: MediaKind,
    /// 16 hex characters (64 bits) of the BLAKE3 hash of `json`; instances refer to the payload by it.
    pub hash: Arc<str>,
    /// The variables as canonical JSON (keys sorted).
    pub json: Arc<str>,
}

impl Variables {
    /// What the media entry of these variables holds: a script registering the JS variables, or
    /// a style sheet setting the CSS ones on the instances that use them.
    pub(crate) fn content(&self) -> String {
        match self.kind {
            MediaKind::Js => format!(
                "DjangoComponents.manager.registerComponentData({}, {}, {});",
                js_string(&self.class_id),
                js_string(&self.hash),
                script_safe(&self.json)
            ),
            MediaKind::Css => css_variables_sheet(&self.class_id, &self.hash, &self.json),
        }
    }
}
