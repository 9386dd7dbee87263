//! Keys on arbitrary input: making, validating and quoting them never panics, and the rules are
//! exactly Django's (`BaseCache.validate_key` and `memcache_key_warnings`): a made key is refused
//! or warned about when it is longer than the limit in characters or holds U+0000–U+0020 or
//! U+007F, length first; a strict backend refuses exactly what `key_problems` reports, before any
//! I/O, and a lenient one gets the made key as is.

use std::sync::{Arc, Mutex};

use cache_core::key::{KeyFunction, MAX_KEY_LENGTH, key_problems, python_repr};
use cache_core::{
    BackendResult, Bytes, Cache, CacheBackend, CacheError, CacheOptions, Capabilities, Expiry, KeyProblem, KeyRule,
    Result, async_trait,
};
use futures::executor::block_on;
use proptest::prelude::*;
use unicode_general_category::{GeneralCategory, get_general_category};

// ---- strategies ------------------------------------------------------------------------------

/// Characters at the edges of the rules: the forbidden range and its neighbours, DEL, the C1
/// controls, non-ASCII spaces and separators (allowed), quotes and backslashes (for `repr`),
/// multi-byte and astral characters (characters, not bytes, are counted).
const EDGES: &str = "\u{0}\t\n\r\u{1f} !~\u{7f}\u{80}\u{85}\u{9f}\u{a0}\u{ad}\u{2028}\u{2029}\u{200b}\u{3000}\
                     \u{e000}\u{fffd}\u{10ffff}\u{e0001}'\"\\:清😀é";

fn edges() -> Vec<char> {
    EDGES.chars().collect()
}

fn edge_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => prop::sample::select(edges()),
        1 => any::<char>(),
    ]
}

/// Strings mostly of one filler (ASCII or a 3-byte CJK character, so byte and character lengths
/// differ) sprinkled with edge characters, with lengths around the 250-character limit; and
/// arbitrary strings.
fn text(max_len: usize) -> impl Strategy<Value = String> {
    let filler = prop_oneof![Just('x'), Just('清'), Just('😀')];
    let sprinkled = (
        filler,
        prop::collection::vec(
            prop_oneof![12 => Just(None), 1 => edge_char().prop_map(Some)],
            0..=max_len,
        ),
    )
        .prop_map(|(filler, chars)| chars.into_iter().map(|c| c.unwrap_or(filler)).collect::<String>());
    prop_oneof![
        3 => sprinkled,
        1 => prop::collection::vec(edge_char(), 0..=12).prop_map(|chars| chars.into_iter().collect()),
        1 => any::<String>(),
    ]
}

fn key() -> impl Strategy<Value = String> {
    text(270)
}

fn prefix() -> impl Strategy<Value = String> {
    prop_oneof![3 => Just(String::new()), 2 => text(12), 1 => text(40)]
}

fn version() -> impl Strategy<Value = i64> {
    prop_oneof![3 => -3i64..=12, 1 => any::<i64>(), 1 => Just(i64::MAX), 1 => Just(i64::MIN)]
}

fn max_length() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(MAX_KEY_LENGTH), 1 => 0usize..=300]
}

// ---- independent statements of the rules -----------------------------------------------------

/// Django's `memcache_key_warnings`: `[\x00-\x20\x7f]`.
fn is_forbidden(c: char) -> bool {
    c <= ' ' || c == '\u{7f}'
}

/// Django's warnings for a made key, in Django's order.
fn expected_rules(made: &str, max_length: usize) -> Vec<KeyRule> {
    let mut rules = Vec::new();
    if made.chars().count() > max_length {
        rules.push(KeyRule::TooLong { limit: max_length });
    }
    if made.chars().any(is_forbidden) {
        rules.push(KeyRule::ForbiddenCharacter);
    }
    rules
}

/// Python's `str.isprintable()` for one character, which Django's `repr` of a key in its warnings follows.
fn python_printable(c: char) -> bool {
    c == ' '
        || !matches!(
            get_general_category(c),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::Surrogate
                | GeneralCategory::PrivateUse
                | GeneralCategory::Unassigned
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::SpaceSeparator
        )
}

/// Reads a Python `str` literal of the forms `repr()` writes; `None` if it is not one.
fn python_unrepr(literal: &str) -> Option<String> {
    let mut chars = literal.chars();
    let quote = chars.next().filter(|&q| q == '\'' || q == '"')?;
    let body: Vec<char> = chars.collect();
    let (&last, body) = body.split_last()?;
    if last != quote {
        return None;
    }
    let mut out = String::new();
    let mut rest = body.iter().copied();
    while let Some(c) = rest.next() {
        if c == quote {
            return None; // an unescaped quote would end the literal early
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |rest: &mut dyn Iterator<Item = char>, digits: usize| {
            let text: String = rest.take(digits).collect();
            (text.len() == digits && text.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(&text, 16).ok())
                .flatten()
                .and_then(char::from_u32)
        };
        out.push(match rest.next()? {
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '\'' => '\'',
            '"' => '"',
            'x' => hex(&mut rest, 2)?,
            'u' => hex(&mut rest, 4)?,
            'U' => hex(&mut rest, 8)?,
            _ => return None,
        });
    }
    Some(out)
}

// ---- a backend that records the keys it is given ---------------------------------------------

#[derive(Debug)]
struct Recorder {
    capabilities: Capabilities,
    /// Whether it answers `get` through `get_now`, as an in-process backend does.
    in_process: bool,
    seen: Mutex<Vec<String>>,
}

impl Recorder {
    fn saw(&self, key: &str) {
        self.seen.lock().unwrap().push(key.to_owned());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Every key holds `1`, so reads hit and `incr_version` goes on to make its second key.
#[async_trait]
impl CacheBackend for Recorder {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        self.saw(key);
        Ok(Some(Bytes::from_static(b"1")))
    }

    async fn set(&self, key: &str, _value: Bytes, _expiry: Expiry) -> BackendResult<()> {
        self.saw(key);
        Ok(())
    }

    async fn add(&self, key: &str, _value: Bytes, _expiry: Expiry) -> BackendResult<bool> {
        self.saw(key);
        Ok(true)
    }

    async fn touch(&self, key: &str, _expiry: Expiry) -> BackendResult<bool> {
        self.saw(key);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        self.saw(key);
        Ok(true)
    }

    async fn incr(&self, key: &str, delta: i64) -> BackendResult<i64> {
        self.saw(key);
        Ok(1 + delta)
    }

    async fn clear(&self) -> BackendResult<()> {
        Ok(())
    }

    fn get_now(&self, key: &str) -> Option<BackendResult<Option<Bytes>>> {
        self.in_process.then(|| {
            self.saw(key);
            Ok(Some(Bytes::from_static(b"1")))
        })
    }
}

// ---- the façade's key path -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOp {
    Get,
    GetRaw,
    Set,
    Add,
    Touch,
    Delete,
    HasKey,
    Incr,
    Decr,
    GetMany,
    SetMany,
    DeleteMany,
    GetOrSet,
    IncrVersion,
}

const KEY_OPS: [KeyOp; 14] = [
    KeyOp::Get,
    KeyOp::GetRaw,
    KeyOp::Set,
    KeyOp::Add,
    KeyOp::Touch,
    KeyOp::Delete,
    KeyOp::HasKey,
    KeyOp::Incr,
    KeyOp::Decr,
    KeyOp::GetMany,
    KeyOp::SetMany,
    KeyOp::DeleteMany,
    KeyOp::GetOrSet,
    KeyOp::IncrVersion,
];

/// Runs `op` on `keys` (one key, or two for the batches) and reduces its result to what the
/// key rules decide: `Ok(())`, or the error.
async fn run(cache: &Cache, op: KeyOp, first: &str, second: &str, version: Option<i64>) -> Result<()> {
    macro_rules! at {
        ($call:expr) => {
            match version {
                Some(version) => $call.version(version).await,
                None => $call.await,
            }
        };
    }
    let pair = [first, second];
    match op {
        KeyOp::Get => at!(cache.get::<i64>(first)).map(drop),
        KeyOp::GetRaw => at!(cache.get_raw(first)).map(drop),
        KeyOp::Set => at!(cache.set(first, &1)),
        KeyOp::Add => at!(cache.add(first, &1)).map(drop),
        KeyOp::Touch => at!(cache.touch(first)).map(drop),
        KeyOp::Delete => at!(cache.delete(first)).map(drop),
        KeyOp::HasKey => at!(cache.has_key(first)).map(drop),
        KeyOp::Incr => at!(cache.incr(first, 1)).map(drop),
        KeyOp::Decr => at!(cache.decr(first, 1)).map(drop),
        KeyOp::GetMany => at!(cache.get_many::<_, i64>(&pair)).map(drop),
        KeyOp::SetMany => at!(cache.set_many([(first, 1), (second, 2)])).map(drop),
        KeyOp::DeleteMany => at!(cache.delete_many(&pair)),
        KeyOp::GetOrSet => at!(cache.get_or_set(first, || async { 1i64 })).map(drop),
        KeyOp::IncrVersion => at!(cache.incr_version(first, 1)).map(drop),
    }
}

/// What the façade must do with `op`, from Django's rules: the keys it makes, in order, each
/// validated before it is used; the first problem stops the call on a strict backend.
struct Expected {
    /// `Err` with the problem a strict backend reports, or `Ok` with the keys the backend sees.
    strict: std::result::Result<Vec<String>, KeyProblem>,
    /// The keys a lenient backend sees.
    lenient: Vec<String>,
    /// `incr_version` past `i64::MAX`: `VersionOverflow` once the old key is through.
    version_overflows: bool,
}

fn expected(cache: &Cache, op: KeyOp, first: &str, second: &str, version: Option<i64>, max: usize) -> Expected {
    let made = |key: &str, version: Option<i64>| cache.make_key(key, version);
    // A strict backend also refuses a key within the character limit but over it in bytes.
    let problem = |made: &str| {
        key_problems(made, max).next().or_else(|| {
            (made.len() > max).then(|| KeyProblem {
                key: made.to_owned(),
                rule: KeyRule::TooManyBytes { limit: max },
            })
        })
    };
    let (m1, m2) = (made(first, version), made(second, version));
    match op {
        KeyOp::GetMany | KeyOp::SetMany | KeyOp::DeleteMany => Expected {
            // Every key is made and validated before any I/O.
            strict: match problem(&m1).or_else(|| problem(&m2)) {
                Some(problem) => Err(problem),
                None => Ok(vec![m1.clone(), m2.clone()]),
            },
            lenient: vec![m1, m2],
            version_overflows: false,
        },
        KeyOp::IncrVersion => {
            let old_version = version.unwrap_or(cache.options().version());
            match old_version.checked_add(1) {
                // get(old), then the new key is made: set(new), delete(old).
                Some(new_version) => {
                    let new = made(first, Some(new_version));
                    Expected {
                        strict: match (problem(&m1), problem(&new)) {
                            (Some(problem), _) => Err(problem),
                            (None, Some(problem)) => Err(problem),
                            (None, None) => Ok(vec![m1.clone(), new.clone(), m1.clone()]),
                        },
                        lenient: vec![m1.clone(), new, m1],
                        version_overflows: false,
                    }
                }
                None => Expected {
                    strict: problem(&m1).map_or_else(|| Ok(vec![m1.clone()]), Err),
                    lenient: vec![m1],
                    version_overflows: true,
                },
            }
        }
        _ => Expected {
            strict: problem(&m1).map_or_else(|| Ok(vec![m1.clone()]), Err),
            lenient: vec![m1],
            version_overflows: false,
        },
    }
}

#[derive(Debug, Clone)]
struct Alias {
    prefix: String,
    version: i64,
    custom_key_function: bool,
    max_length: usize,
    in_process: bool,
}

fn alias() -> impl Strategy<Value = Alias> {
    (prefix(), version(), any::<bool>(), max_length(), any::<bool>()).prop_map(
        |(prefix, version, custom_key_function, max_length, in_process)| Alias {
            prefix,
            version,
            custom_key_function,
            max_length,
            in_process,
        },
    )
}

fn cache(alias: &Alias, strict: bool) -> (Cache, Arc<Recorder>) {
    let mut capabilities = Capabilities::lenient();
    capabilities.max_key_length = alias.max_length;
    if strict {
        capabilities = capabilities.with_strict_keys();
    }
    let recorder = Arc::new(Recorder {
        capabilities,
        in_process: alias.in_process,
        seen: Mutex::new(Vec::new()),
    });
    let key_function = if alias.custom_key_function {
        // Django's test custom_key_func: "CUSTOM-" + "-".join([key_prefix, str(version), key]).
        KeyFunction::custom("custom", |key, prefix, version| {
            format!("CUSTOM-{prefix}-{version}-{key}")
        })
    } else {
        KeyFunction::default_format()
    };
    let options = CacheOptions::default()
        .with_key_prefix(alias.prefix.clone())
        .with_version(alias.version)
        .with_key_function(key_function);
    (Cache::new("keys", recorder.clone(), options), recorder)
}

fn check_key_path(
    alias: &Alias,
    first: &str,
    second: &str,
    version: Option<i64>,
) -> std::result::Result<(), TestCaseError> {
    let (strict, strict_backend) = cache(alias, true);
    let (lenient, lenient_backend) = cache(alias, false);
    for op in KEY_OPS {
        let want = expected(&strict, op, first, second, version, alias.max_length);

        let got = block_on(run(&strict, op, first, second, version));
        let seen = strict_backend.take();
        prop_assert!(
            seen.iter()
                .all(|key| key_problems(key, alias.max_length).next().is_none()),
            "{:?}: a strict backend was sent a key it refuses: {:?}",
            op,
            seen
        );
        match (&want.strict, got) {
            (Err(problem), Err(CacheError::InvalidKey(refused))) => {
                prop_assert_eq!(&refused, problem, "{:?}", op);
            }
            (Err(problem), other) => prop_assert!(false, "{:?}: expected {:?}, got {:?}", op, problem, other),
            (Ok(keys), got) => {
                if want.version_overflows {
                    prop_assert!(
                        matches!(got, Err(CacheError::VersionOverflow { .. })),
                        "{:?}: {:?}",
                        op,
                        got
                    );
                } else {
                    prop_assert!(got.is_ok(), "{:?}: {:?}", op, got);
                }
                prop_assert_eq!(&seen, keys, "{:?}", op);
            }
        }

        // Lenient: warned about, never refused; the backend gets the made keys unchanged.
        let got = block_on(run(&lenient, op, first, second, version));
        if want.version_overflows {
            prop_assert!(
                matches!(got, Err(CacheError::VersionOverflow { .. })),
                "{:?}: {:?}",
                op,
                got
            );
        } else {
            prop_assert!(got.is_ok(), "{:?}: {:?}", op, got);
        }
        prop_assert_eq!(lenient_backend.take(), want.lenient, "{:?}", op);
    }
    Ok(())
}

// ---- properties ------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// `key_problems` reports exactly Django's rules, length first, about the key given;
    /// so a key it accepts has at most `max` characters and no character in U+0000–U+0020/U+007F.
    #[test]
    fn key_problems_are_exactly_djangos_rules(made in key(), max in max_length()) {
        let problems: Vec<KeyProblem> = key_problems(&made, max).collect();
        let rules: Vec<KeyRule> = problems.iter().map(|problem| problem.rule).collect();
        prop_assert_eq!(&rules, &expected_rules(&made, max));
        prop_assert!(problems.iter().all(|problem| problem.key == made));
        if problems.is_empty() {
            prop_assert!(made.chars().count() <= max);
            prop_assert!(!made.chars().any(is_forbidden));
        }
        for problem in &problems {
            let message = problem.to_string();
            let quoted = python_repr(&made);
            let expected = match problem.rule {
                KeyRule::TooLong { limit } => {
                    format!("Cache key will cause errors if used with memcached: {quoted} (longer than {limit})")
                }
                KeyRule::ForbiddenCharacter => {
                    format!("Cache key contains characters that will cause errors if used with memcached: {quoted}")
                }
                other => panic!("key_problems reports only Django's two rules, not {other:?}"),
            };
            prop_assert_eq!(message, expected);
        }
    }

    /// `python_repr` reads back as the same string, picks Python's quote, and leaves no control
    /// character unescaped.
    #[test]
    fn python_repr_round_trips(text in key()) {
        let repr = python_repr(&text);
        let read_back = python_unrepr(&repr);
        prop_assert_eq!(read_back.as_deref(), Some(text.as_str()), "repr: {}", repr);
        let double = text.contains('\'') && !text.contains('"');
        prop_assert_eq!(repr.starts_with('"'), double, "repr: {}", repr);
        prop_assert!(!repr.chars().any(char::is_control), "repr: {:?}", repr);
        if text.chars().all(|c| (' '..='~').contains(&c) && c != '\\' && c != '\'') {
            prop_assert_eq!(repr, format!("'{text}'"));
        }
    }

    /// Each character is written as itself exactly when Python counts it printable (as `repr` in
    /// Django's key warnings does), and otherwise with the shortest of `\xNN`, `\uNNNN`, `\UNNNNNNNN` (or `\n`, `\r`, `\t`).
    #[test]
    fn python_repr_escapes_exactly_the_non_printable(c in prop_oneof![any::<char>(), prop::sample::select(edges())]) {
        let text = c.to_string();
        let body = python_repr(&text);
        let body = &body[1..body.len() - 1];
        let code = c as u32;
        let expected = match c {
            '\\' => "\\\\".to_owned(),
            '\n' => "\\n".to_owned(),
            '\r' => "\\r".to_owned(),
            '\t' => "\\t".to_owned(),
            '\'' => "'".to_owned(), // a lone ' is quoted with "
            c if python_printable(c) => c.to_string(),
            _ if code < 0x100 => format!("\\x{code:02x}"),
            _ if code < 0x10000 => format!("\\u{code:04x}"),
            _ => format!("\\U{code:08x}"),
        };
        prop_assert_eq!(body, expected);
    }

    /// The default key function is Django's `"%s:%s:%s" % (key_prefix, version, key)`, whatever
    /// the parts hold, and `make_into` only appends.
    #[test]
    fn make_key_is_prefix_version_key(key in key(), prefix in prefix(), version in version(), start in text(8)) {
        let function = KeyFunction::default_format();
        let expected = format!("{prefix}:{version}:{key}");
        prop_assert_eq!(function.make(&key, &prefix, version), expected.clone());
        let mut out = start.clone();
        function.make_into(&mut out, &key, &prefix, version);
        prop_assert_eq!(out, format!("{start}{expected}"));

        let alias = Alias { prefix: prefix.clone(), version, custom_key_function: false, max_length: MAX_KEY_LENGTH, in_process: true };
        let (cache, _) = cache(&alias, false);
        prop_assert_eq!(cache.make_key(&key, None), expected);
        prop_assert_eq!(cache.make_key(&key, Some(version ^ 1)), format!("{prefix}:{}:{key}", version ^ 1));
    }

    /// Through the façade, every operation: a strict backend refuses exactly the first problem
    /// `key_problems` reports for the keys the call makes, and is sent none of them; a lenient
    /// backend is sent every made key, unchanged.
    #[test]
    fn the_facade_refuses_exactly_what_key_problems_reports(
        alias in alias(),
        first in key(),
        second in key(),
        version in prop_oneof![2 => Just(None), 1 => version().prop_map(Some)],
    ) {
        check_key_path(&alias, &first, &second, version)?;
    }
}

/// Django's worked examples (`BaseCacheTests.test_invalid_key_characters`, `test_invalid_key_length`), through the strict façade.
#[test]
fn djangos_examples_through_the_facade() {
    let alias = Alias {
        prefix: String::new(),
        version: 1,
        custom_key_function: false,
        max_length: MAX_KEY_LENGTH,
        in_process: true,
    };
    let (strict, _) = cache(&alias, true);
    let refused = |key: &str| match block_on(strict.get_raw(key).into_future()) {
        Err(CacheError::InvalidKey(problem)) => Some(problem.rule),
        Ok(_) => None,
        Err(other) => panic!("{other:?}"),
    };
    assert_eq!(refused(&"x".repeat(247)), None, "':1:' + 247 chars = 250 passes");
    assert_eq!(refused(&"x".repeat(248)), Some(KeyRule::TooLong { limit: 250 }));
    // Django counts characters and lets it through; memcached counts bytes (744 here) and pymemcache
    // then fails. A strict backend refuses it before any I/O instead.
    assert_eq!(
        refused(&"清".repeat(247)),
        Some(KeyRule::TooManyBytes { limit: 250 }),
        "a strict backend counts bytes"
    );
    assert_eq!(refused("a b"), Some(KeyRule::ForbiddenCharacter));
    assert_eq!(refused("a\u{a0}b"), None, "NBSP is allowed");
    assert_eq!(
        refused(&format!("{} ", "x".repeat(250))),
        Some(KeyRule::TooLong { limit: 250 }),
        "length is reported first"
    );

    // incr_version validates the new key before writing it: ":9:" + 247 = 250 characters pass,
    // ":10:" + 247 = 251 don't, so the call stops after reading the old key.
    let (strict, backend) = cache(&Alias { version: 9, ..alias }, true);
    let key = "x".repeat(247);
    match block_on(strict.incr_version(&key, 1).into_future()) {
        Err(CacheError::InvalidKey(problem)) => assert_eq!(problem.key, format!(":10:{key}")),
        other => panic!("{other:?}"),
    }
    assert_eq!(backend.take(), [format!(":9:{key}")]);
}
