//! The top-level call's cache read, made before any page exists: on a hit the caller's page is
//! stamped straight from the stored bytes — no `Page`, no `Fragment`, no copy of the HTML but the
//! page itself, and of the vectors only those the caller gets (the dependencies; the variables
//! when there are any). A hit is what a cached component is for, so this is the path that
//! decides what caching one buys.
//!
//! Anything else goes on through a page, told what the read found so it doesn't read again.

use crate::error::ComponentError;
use crate::output_cache::fragment::IdRef;
use crate::output_cache::key::arguments::ArgumentDigests;
use crate::output_cache::key::{self, output_key};
use crate::output_cache::lookup::{self, FirstRead};
use crate::output_cache::stored_form::{DecodeError, StoredView};
use crate::registry::Registry;
use crate::rendering::cache_warnings::CacheRole;
use crate::rendering::call::{CallProps, PendingCall};
use crate::rendering::ids::IdSequence;
use crate::rendering::output::{RenderOutput, RenderStats};
use crate::rendering::stamp::{self, Places};
use crate::rendering::state::RendererState;

/// What the top-level call's own read gave.
pub(crate) enum TopLevel {
    /// Served from the cache: the page as the caller gets it.
    Hit(RenderOutput),
    /// Render it through a page: after the read (a miss, or a cache that failed), or without one
    /// (not cached, or not a call this read takes).
    Render(Option<FirstRead>),
}

/// Reads the top-level `call`'s stored render, when its output is cached, and on a hit stamps the
/// page with ids from `ids`.
///
/// Calls with slots go through the page: a slot's content is keyed with its markers read against
/// the page's calls. Top-level props are always typed (a template's arguments only reach nested
/// calls), so no argument lists are memoised either.
pub(crate) async fn read(
    state: &RendererState,
    call: &PendingCall<'_>,
    ids: &mut IdSequence,
) -> Result<TopLevel, ComponentError> {
    let component = state.component(call.component);
    let takes = call.slots.is_empty() && !matches!(call.props, CallProps::Arguments { .. });
    let Some(output) = component.output.as_ref().filter(|_| takes) else {
        return Ok(TopLevel::Render(None));
    };
    // Never asked for slot content: the call has none.
    let no_slots = |_: &str, _: &mut Vec<u8>| Ok(());
    let digest = key::call::digest(
        state,
        call,
        output.settings.include_slots,
        &ArgumentDigests::default(),
        no_slots,
    )?;
    let key = output_key(&component.entry.class_id, &digest);
    let registry = &state.registry;
    let stored = lookup::read(state, &output.cache, &key, CacheRole::Output, |bytes| {
        page_of(bytes, registry, ids)
    });
    Ok(match stored.await.hit() {
        Ok(page) => TopLevel::Hit(page),
        Err(found) => TopLevel::Render(Some(FirstRead { digest, found })),
    })
}

/// The caller's page from a stored render: what `Page::finish` makes of a decoded one, read in
/// place. Everything is checked before the first id is taken, so a bad value is a miss that
/// leaves the id sequence as it was (seeded ids come out the same as without the bad value).
fn page_of(stored: &[u8], registry: &Registry, ids: &mut IdSequence) -> Result<RenderOutput, DecodeError> {
    let view = StoredView::parse(stored, true)?;
    let dependencies: Vec<_> = (view.instances(registry))
        .map(|instance| stamp::dependency(instance, ids))
        .collect();
    let places = Places {
        ids: view.ids().map(|(offset, n)| (offset, IdRef::Local(n))),
        roots: view.roots(),
        counts: view.id_and_root_counts(),
    };
    let html = stamp::page_html(view.html, places, &dependencies);
    let stats = RenderStats {
        hits: 1,
        ..RenderStats::default()
    };
    Ok(stamp::output(html, dependencies, view.variables(registry), stats))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::output_cache::fragment::Fragment;
    use crate::output_cache::fragment::tests::sample;

    proptest! {
        /// Any bytes after a stored render's header, and a stored render with any bytes
        /// overwritten, are refused or make a page: never a panic, in the parse or the stamping.
        /// What is read is read alike by the nested path (`Fragment::decode`).
        #[test]
        fn any_stored_bytes_are_refused_or_make_a_page(
            tail in prop::collection::vec(any::<u8>(), 0..160),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let registry = Registry::new();
            let mut stored = sample().encode();
            let header = stored.iter().position(|&b| b == b'\n').expect("the header ends a line") + 1;
            let mut foreign = stored[..header].to_vec();
            foreign.extend_from_slice(&tail);
            for (at, byte) in &edits {
                let at = at.index(stored.len());
                stored[at] = *byte;
            }
            for bytes in [&foreign, &stored] {
                let page = page_of(bytes, &registry, &mut IdSequence::new());
                let fragment = Fragment::decode(bytes, &registry, true);
                prop_assert_eq!(page.is_ok(), fragment.is_ok());
            }
        }
    }

    /// Read in place, a stored render gives what decoding it and finishing it through a page do.
    #[test]
    fn a_page_read_in_place_matches_one_decoded_then_finished() {
        let stored = sample().encode();
        let registry = Registry::new();
        let page = page_of(&stored, &registry, &mut IdSequence::counting_from(0)).unwrap();
        assert_eq!(
            page.html,
            "<div id=\"c000000\" data-djc-id-c000000=\"\">é<span id=\"c000001\" data-djc-id-c000001=\"\" \
             data-djc-css-1234567890abcdef=\"\"></span></div>"
        );
        let decoded = crate::output_cache::fragment::Fragment::decode(&stored, &registry, true).unwrap();
        assert_eq!(page.variables, decoded.variables);
        assert_eq!(page.dependencies.len(), decoded.instances.len());
        assert_eq!(page.stats.hits, 1);
    }

    /// A value refused after its instances were read (a variables payload that isn't UTF-8 comes
    /// last) takes no id: the render that follows starts where a clean miss would.
    #[test]
    fn a_refused_value_takes_no_ids() {
        let mut stored = sample().encode();
        let json = stored
            .windows(7)
            .position(|w| w == b"{\"a\":1}")
            .expect("the payload is stored");
        stored[json] = 0xff;
        let mut ids = IdSequence::counting_from(0);
        assert!(page_of(&stored, &Registry::new(), &mut ids).is_err());
        assert_eq!(ids.next_id().as_str(), "c000000");
    }

    /// Every reply is untrusted: cut short or with any byte flipped, a stored render is refused or
    /// read, never a panic (an out-of-range id or root would index past the dependencies).
    #[test]
    fn any_truncation_or_flipped_byte_is_refused_or_read_never_a_panic() {
        let stored = sample().encode();
        let registry = Registry::new();
        for len in 0..stored.len() {
            assert!(
                page_of(&stored[..len], &registry, &mut IdSequence::new()).is_err(),
                "{len}"
            );
        }
        for at in 0..stored.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut corrupt = stored.clone();
                corrupt[at] ^= flip;
                let _ = page_of(&corrupt, &registry, &mut IdSequence::new());
            }
        }
    }
}
