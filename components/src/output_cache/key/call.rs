//! The digest of one component call: its class and code (through the class key), what identifies
//! its props, and its slots when its output is cached with them.

use crate::error::ComponentError;
use crate::output_cache::key::arguments::{self, ArgumentDigests};
use crate::output_cache::key::{self, Digest, KeySource};
use crate::rendering::call::{CallProps, PendingCall};
use crate::rendering::state::RendererState;

/// The digest of `call`: class, code fingerprint, what identifies its props, and the slots when
/// `with_slots`. The props part is streamed into the hasher: the template's arguments as given
/// (no typed props are built; their lists and maps memoised in `argument_digests`), else the
/// typed props or the component's own key. `canonical_slot` writes a slot's content with its
/// markers replaced by what they stand for, which only the page knows.
///
/// With slots it is the call's identity, computed once: a parent that caches with its slots has
/// already asked for it when the call is resolved.
pub(crate) fn digest(
    state: &RendererState,
    call: &PendingCall<'_>,
    with_slots: bool,
    argument_digests: &ArgumentDigests,
    mut canonical_slot: impl FnMut(&str, &mut Vec<u8>) -> Result<(), ComponentError>,
) -> Result<Digest, ComponentError> {
    if with_slots && let Some(identity) = call.identity.get() {
        return Ok(*identity);
    }
    let component = state.component(call.component);
    let entry = &component.entry;
    let own_key = component.output.as_ref().is_some_and(|output| output.settings.own_key);
    let given = match &call.props {
        CallProps::Arguments { args, .. } if !own_key => Some(args),
        _ => None,
    };
    let source = if given.is_some() {
        KeySource::Arguments
    } else {
        KeySource::Typed
    };
    key::with_input(&entry.class_key, source, |input| {
        let from_arguments =
            given.is_some_and(|args| arguments::encode_arguments(args, &mut input.sink, argument_digests).is_ok());
        if !from_arguments {
            // A value that can't be read out (an iterator, an object): keyed as typed props.
            if given.is_some() {
                input.restart(&entry.class_key, KeySource::Typed);
            }
            entry
                .component
                .key(call.props(entry)?, &mut input.sink)
                .map_err(|source| ComponentError::Props {
                    component: entry.name.to_owned(),
                    source,
                })?;
        }
        if with_slots {
            input.tag(1);
            input.count(call.slots.len());
            let mut canonical = Vec::new();
            for (name, content) in &call.slots {
                input.field(name.as_bytes());
                canonical.clear();
                canonical_slot(content, &mut canonical)?;
                input.field(&canonical);
            }
            let digest = input.finish();
            return Ok(*call.identity.get_or_init(|| digest));
        }
        input.tag(0);
        Ok(input.finish())
    })
}
