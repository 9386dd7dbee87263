//! Template fragment keys: Django's `make_template_fragment_key(fragment_name, vary_on)`, with the
//! `vary_on` values encoded injectively.
//!
//! Django's key is `template.cache.<name>.<md5 hex>`, the md5 over `str(value)` followed by `:`
//! for each value. Values containing `:` can share a key there — `("a:", "b")` and `("a", ":b")`
//! both hash `a::b:` — so here a `\` or `:` inside a value is escaped with a `\` first. A value
//! without either character is hashed exactly as Django hashes it, so the keys of ordinary values
//! (ids, user names, language codes) are Django's.

use std::fmt::Write;

use md5::{Digest, Md5};

/// What every template fragment key starts with (Django's `TEMPLATE_FRAGMENT_KEY_TEMPLATE`).
pub const TEMPLATE_FRAGMENT_KEY_PREFIX: &str = "template.cache.";

/// The key `{% call cache(timeout, name, vary_on…) %}` stores its fragment under (before the
/// alias' key function adds its prefix and version): Django's
/// `make_template_fragment_key(name, vary_on)`, with each value given as the template prints it
/// (`None`, `True`, `42`, `1.5`, `ada` print as Python's `str()` does; very large or small floats,
/// `NaN`, lists and maps print differently from Python, so their keys differ from Django's). Delete it from the alias to drop one fragment, as Django's
/// docs do with `cache.delete(make_template_fragment_key("sidebar", [username]))`.
///
/// Equal to Django's key for values holding no `:` or `\`; those characters are escaped with a
/// `\` before hashing, so different values never share a key (Django joins them with an unescaped
/// `:`, and `("a:", "b")` and `("a", ":b")` collide there).
///
/// ```
/// use cache_components::template_fragment_key;
///
/// // Django: make_template_fragment_key("sidebar", ["ada"])
/// assert_eq!(
///     template_fragment_key("sidebar", &["ada"]),
///     "template.cache.sidebar.7158bb7b44c13dd9c70c881b9720a741"
/// );
/// assert_ne!(template_fragment_key("f", &["a:", "b"]), template_fragment_key("f", &["a", ":b"]));
/// ```
pub fn template_fragment_key<S: AsRef<str>>(name: &str, vary_on: &[S]) -> String {
    let mut hasher = Md5::new();
    for value in vary_on {
        hash_value(&mut hasher, value.as_ref());
    }
    key_of(name, hasher)
}

/// Hashes one `vary_on` value and its terminator.
pub(crate) fn hash_value(hasher: &mut Md5, value: &str) {
    let mut rest = value;
    while let Some(at) = rest.find([':', '\\']) {
        hasher.update(&rest.as_bytes()[..at]);
        hasher.update([b'\\', rest.as_bytes()[at]]);
        rest = &rest[at + 1..];
    }
    hasher.update(rest.as_bytes());
    hasher.update(b":");
}

/// The key of `name` once every value is in `hasher`.
pub(crate) fn key_of(name: &str, hasher: Md5) -> String {
    let digest = hasher.finalize();
    let mut key = String::with_capacity(TEMPLATE_FRAGMENT_KEY_PREFIX.len() + name.len() + 33);
    key.push_str(TEMPLATE_FRAGMENT_KEY_PREFIX);
    key.push_str(name);
    // md5's digest prints as lower-case hex (`LowerHex`), as Python's `hexdigest()`.
    let _ = write!(key, ".{digest:x}");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of Django 5.2's `TestMakeTemplateFragmentKey` tests (tests/cache/tests.py), and a
    /// few more computed with python3's `hashlib.md5` exactly as `make_template_fragment_key`
    /// does: `str(v).encode()` then `b":"` per value.
    #[test]
    fn keys_equal_djangos_for_values_without_colons_or_backslashes() {
        let long = "x".repeat(10_000);
        let cases: &[(&str, &[&str], &str)] = &[
            // test_without_vary_on
            ("a", &[], "template.cache.a.d41d8cd98f00b204e9800998ecf8427e"),
            // test_with_one_vary_on
            ("foo", &["abc"], "template.cache.foo.493e283d571a73056196f1a68efd0f66"),
            // test_with_many_vary_on
            (
                "bar",
                &["abc", "def"],
                "template.cache.bar.17c1a507a0cb58384f4c639067a93520",
            ),
            // test_with_ints_vary_on: [1, 2, 3, 4, 5] print as "1" … "5".
            (
                "foo",
                &["1", "2", "3", "4", "5"],
                "template.cache.foo.7ae8fd2e0d25d651c683bdeebdb29461",
            ),
            // test_with_unicode_vary_on
            (
                "foo",
                &["42º", "😀"],
                "template.cache.foo.7ced1c94e543668590ba39b3c08b0237",
            ),
            // test_long_vary_on
            (
                "foo",
                &[long.as_str()],
                "template.cache.foo.3670b349b5124aa56bdb50678b02b23a",
            ),
            // hashlib: [None, True, 1.5], which minijinja prints as Python's str() does.
            (
                "menu",
                &["None", "True", "1.5"],
                "template.cache.menu.d2bdb12338f0e6c3b8d5832e3c704289",
            ),
            (
                "sidebar",
                &["ada"],
                "template.cache.sidebar.7158bb7b44c13dd9c70c881b9720a741",
            ),
        ];
        for (name, vary_on, expected) in cases {
            assert_eq!(template_fragment_key(name, vary_on), *expected, "{name}");
        }
    }

    /// Django's test_proper_escaping, `("spam", ["abc:def%"])`, is
    /// `template.cache.spam.06c8ae8e8c430b69fb0a6443504153dc` there; the `:` is escaped here.
    #[test]
    fn a_value_with_a_colon_differs_from_django_on_purpose() {
        assert_eq!(
            template_fragment_key("spam", &["abc:def%"]),
            // hashlib.md5(b"abc\\:def%:")
            "template.cache.spam.89801499036d9495eb1c2619f38f1cd8"
        );
    }

    #[test]
    fn colons_and_backslashes_are_escaped_so_values_never_share_a_key() {
        let key = |values: &[&str]| template_fragment_key("f", values);
        // Django: both are md5("a::b:").
        assert_ne!(key(&["a:", "b"]), key(&["a", ":b"]));
        assert_ne!(key(&["a\\", ":b"]), key(&["a\\:b"]));
        assert_ne!(key(&["a"]), key(&["a", ""]));
        assert_ne!(key(&[""]), key(&[]));
        // The escaped form: `a\:` then `:`, then `b:`.
        let mut hasher = Md5::new();
        hasher.update(b"a\\::b:");
        assert_eq!(key(&["a:", "b"]), key_of("f", hasher));
    }
}
