//! Class ids: `<Name>_<short hash of the type's path>`, the same in every process running the same build.

use crate::component::Component;

/// How many hex characters of the hash follow the name (django-components uses six of an md5).
const HASH_CHARS: usize = 6;

/// The class id of `C`: its name, `_`, and the first six hex characters of the BLAKE3 hash of
/// [`std::any::type_name`]`::<C>()` (for example `Card_1a2b3c`).
///
/// The type's path, not an address or a counter, is hashed, so every process running the same
/// build computes the same id: HTML rendered (and cached) by one replica names classes another
/// replica can resolve (django-components' #930). The name keeps ids readable; the hash tells two
/// components of the same name in different modules apart. `type_name` is stable for one
/// compiler and one source tree, so an upgrade may change ids — which also retires old cache
/// entries, harmlessly.
pub fn class_id<C: Component>() -> String {
    class_id_of(C::NAME, std::any::type_name::<C>())
}

pub(crate) fn class_id_of(name: &str, type_path: &str) -> String {
    let hash = blake3::hash(type_path.as_bytes());
    let mut id = String::with_capacity(name.len() + 1 + HASH_CHARS);
    id.push_str(name);
    id.push('_');
    id.push_str(&hash.to_hex()[..HASH_CHARS]);
    id
}

/// Names go into cache keys, memcached keys and (later) URLs, so they stay within `[A-Za-z0-9_]`
/// and start with a letter or `_` (an identifier in templates too).
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("the name is empty".to_owned()),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => {
            return Err(format!(
                "the name must start with an ASCII letter or `_`, not {first:?}"
            ));
        }
        _ => {}
    }
    match chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
        Some(bad) => Err(format!(
            "the name may only hold ASCII letters, digits and `_` (it goes into cache keys and URLs), not {bad:?}"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_name_and_a_hash_of_the_path() {
        let id = class_id_of("Card", "my_app::ui::Card");
        let expected = &blake3::hash(b"my_app::ui::Card").to_hex()[..6];
        assert_eq!(id, format!("Card_{expected}"));
        // Same input, same id: nothing per-process goes in.
        assert_eq!(id, class_id_of("Card", "my_app::ui::Card"));
        assert_ne!(id, class_id_of("Card", "other_app::Card"));
    }

    #[test]
    fn names_are_identifiers() {
        assert!(check_name("Card").is_ok());
        assert!(check_name("_card_2").is_ok());
        for bad in ["", "2card", "my card", "card-x", "carte·", "a:b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
