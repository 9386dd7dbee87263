//! Random sequences of façade operations on a small locmem store agree with a reference model:
//! Django's LocMemCache (`django/core/cache/backends/locmem.py`) plus the deliberate differences the
//! README lists.
//!
//! The model is a plain list ordered most → least recently used, with expiries in milliseconds
//! on a manual time. It follows Django's documented behaviour, not the implementation:
//!
//! - `get` (and so `get_many`, `get_or_set`, `incr_version`) and a successful `incr` refresh
//!   recency; `touch`, `has_key` and a refused `add` don't.
//! - Expired entries linger, counting towards `max_entries`, until `get`, `has_key`, `incr`,
//!   `delete`, a cull or `clear` removes them; `touch` and a refused `add` leave them.
//! - Every write that stores (`set`, an `add` that stores, each item of `set_many`, the moved
//!   value of `incr_version`) culls first when the store holds `max_entries` entries, overwrites
//!   included; `incr` never culls.
//! - The cull drops expired entries first (a deliberate difference); only if the store is still full does Django's
//!   arithmetic apply to what is left: `len / cull_frequency` least recently used entries, or
//!   everything when `cull_frequency` is 0.
//! - A zero or negative timeout never stores (as in Django): `set`/`set_many` delete, `add` is
//!   "was the key free", `touch` deletes and reports whether a live entry was there, and
//!   `get_or_set` returns its value without writing. So such a write never culls either, where
//!   Django's `_set` would cull a full store and then park an already-expired entry in it.
//! - `delete` of an expired entry removes it and reports false; `touch` reports whether a live
//!   entry exists; `incr` of anything but an `i64` is `NotAnInteger` (an integer too large for
//!   an `i64` is `Overflow`), a result past the range is `Overflow`; `incr_version` by 0 is just
//!   the `get`; the moved value gets the alias' default timeout.
//!
//! After every operation the result, the entry count (expired ones included, so lazy removal is
//! checked without disturbing it) and `has_key` of every key the model can probe without
//! removing something are compared. At the end, half the cases first write fresh keys until the
//! sequence's entries are culled (recency is observable only through culls), then every value is
//! compared.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cache_core::call::Call;
use cache_core::{Cache, CacheError, CacheOptions, Clock, Timeout};
use cache_locmem::LocMemBackend;
use proptest::prelude::*;
use serde_json::{Value, json};

/// The caller's keys. `k 1` has a space: locmem is lenient, so it only warns and proceeds.
const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "k 1"];

/// Every version a sequence can reach: operations use the alias version (1) or 2, and
/// `incr_version`/`decr_version` move by at most 2.
const VERSIONS: std::ops::RangeInclusive<i64> = -1..=4;

// ---- the model -------------------------------------------------------------------------------

/// What a write's timeout resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Life {
    /// Store, expiring this many milliseconds after the write (`None`: never).
    Store(Option<u64>),
    /// Zero or negative: expired before it is written.
    AtOnce,
}

#[derive(Debug, Clone)]
struct ModelEntry {
    key: String,
    value: Value,
    /// Milliseconds on the model's clock; expired when `expires <= now` (Django's `exp <= now`).
    expires: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    KeyNotFound,
    NotAnInteger,
    Overflow,
}

#[derive(Debug)]
struct Model {
    /// Most recently used first.
    entries: Vec<ModelEntry>,
    now: u64,
    max_entries: usize,
    cull_frequency: usize,
    default_life: Life,
    version: i64,
}

impl Model {
    fn new(max_entries: usize, cull_frequency: usize, alias_timeout: Timeout) -> Self {
        let default_life = resolve(alias_timeout, Life::Store(Some(300_000)));
        Model {
            entries: Vec::new(),
            now: 0,
            max_entries,
            cull_frequency,
            default_life,
            version: 1,
        }
    }

    fn made(&self, key: &str, version: Option<i64>) -> String {
        format!(":{}:{key}", version.unwrap_or(self.version))
    }

    fn life(&self, timeout: Timeout) -> Life {
        resolve(timeout, self.default_life)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|entry| entry.key == key)
    }

    fn is_live(&self, index: usize) -> bool {
        self.entries[index].expires.is_none_or(|at| at > self.now)
    }

    /// A lingering expired entry: probing it with `has_key` would remove it.
    fn is_lingering(&self, key: &str) -> bool {
        self.position(key).is_some_and(|index| !self.is_live(index))
    }

    fn get(&mut self, key: &str) -> Option<Value> {
        let index = self.position(key)?;
        let entry = self.entries.remove(index);
        if entry.expires.is_some_and(|at| at <= self.now) {
            return None;
        }
        let value = entry.value.clone();
        self.entries.insert(0, entry);
        Some(value)
    }

    fn has_key(&mut self, key: &str) -> bool {
        match self.position(key) {
            None => false,
            Some(index) if self.is_live(index) => true,
            Some(index) => {
                self.entries.remove(index);
                false
            }
        }
    }

    /// Django's `_set`: cull when full (the key itself may be there), then store as most recent.
    fn store(&mut self, key: String, value: Value, after: Option<u64>) {
        self.cull_if_full();
        if let Some(index) = self.position(&key) {
            self.entries.remove(index);
        }
        let expires = after.map(|ms| self.now + ms);
        self.entries.insert(0, ModelEntry { key, value, expires });
    }

    fn cull_if_full(&mut self) {
        if self.entries.len() < self.max_entries {
            return;
        }
        let now = self.now;
        self.entries.retain(|entry| entry.expires.is_none_or(|at| at > now));
        if self.entries.len() < self.max_entries {
            return;
        }
        if self.cull_frequency == 0 {
            self.entries.clear();
            return;
        }
        let len = self.entries.len();
        self.entries.truncate(len - len / self.cull_frequency);
    }

    fn delete(&mut self, key: &str) -> bool {
        match self.position(key) {
            None => false,
            Some(index) => {
                let live = self.is_live(index);
                self.entries.remove(index);
                live
            }
        }
    }

    fn set(&mut self, key: String, value: Value, life: Life) {
        match life {
            Life::AtOnce => {
                self.delete(&key);
            }
            Life::Store(after) => self.store(key, value, after),
        }
    }

    fn add(&mut self, key: String, value: Value, life: Life) -> bool {
        match life {
            Life::AtOnce => !self.has_key(&key),
            Life::Store(after) => {
                if self.position(&key).is_some_and(|index| self.is_live(index)) {
                    return false;
                }
                self.store(key, value, after);
                true
            }
        }
    }

    fn touch(&mut self, key: &str, life: Life) -> bool {
        match life {
            Life::AtOnce => self.delete(key),
            Life::Store(after) => match self.position(key) {
                Some(index) if self.is_live(index) => {
                    self.entries[index].expires = after.map(|ms| self.now + ms);
                    true
                }
                _ => false,
            },
        }
    }

    fn incr(&mut self, key: &str, delta: i64) -> Result<i64, Failure> {
        let index = self.position(key).ok_or(Failure::KeyNotFound)?;
        if !self.is_live(index) {
            self.entries.remove(index);
            return Err(Failure::KeyNotFound);
        }
        let current = match &self.entries[index].value {
            Value::Number(number) => match number.as_i64() {
                Some(current) => current,
                // An integer no i64 holds (serde_json's u64 above i64::MAX).
                None if number.is_u64() => return Err(Failure::Overflow),
                None => return Err(Failure::NotAnInteger),
            },
            _ => return Err(Failure::NotAnInteger),
        };
        let new = current.checked_add(delta).ok_or(Failure::Overflow)?;
        let mut entry = self.entries.remove(index);
        entry.value = Value::from(new);
        self.entries.insert(0, entry);
        Ok(new)
    }

    fn decr(&mut self, key: &str, delta: i64) -> Result<i64, Failure> {
        // -i64::MIN has no i64: refused before the store is asked.
        let negated = delta.checked_neg().ok_or(Failure::Overflow)?;
        self.incr(key, negated)
    }

    /// Django's generic `incr_version`, with delta 0 changing nothing after the `get`.
    fn incr_version(&mut self, key: &str, version: Option<i64>, delta: i64) -> Result<i64, Failure> {
        let version = version.unwrap_or(self.version);
        let old = self.made(key, Some(version));
        let value = self.get(&old).ok_or(Failure::KeyNotFound)?;
        if delta == 0 {
            return Ok(version);
        }
        let new_version = version + delta;
        let life = self.default_life;
        self.set(self.made(key, Some(new_version)), value, life);
        self.delete(&old);
        Ok(new_version)
    }

    /// Django's generic `get_or_set`: get, else add then re-read (the default if that misses).
    fn get_or_set(&mut self, key: &str, value: Value, life: Life) -> Value {
        if let Some(found) = self.get(key) {
            return found;
        }
        self.add(key.to_owned(), value.clone(), life);
        self.get(key).unwrap_or(value)
    }
}

fn resolve(timeout: Timeout, default: Life) -> Life {
    match timeout {
        Timeout::Default => default,
        Timeout::Never => Life::Store(None),
        Timeout::Seconds(seconds) if seconds > 0.0 => Life::Store(Some((seconds * 1000.0) as u64)),
        Timeout::Seconds(_) => Life::AtOnce,
    }
}

// ---- operations ------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Set {
        key: &'static str,
        value: Value,
        timeout: Timeout,
        version: Option<i64>,
    },
    Add {
        key: &'static str,
        value: Value,
        timeout: Timeout,
        version: Option<i64>,
    },
    Touch {
        key: &'static str,
        timeout: Timeout,
        version: Option<i64>,
    },
    Get {
        key: &'static str,
        version: Option<i64>,
    },
    GetRaw {
        key: &'static str,
        version: Option<i64>,
    },
    HasKey {
        key: &'static str,
        version: Option<i64>,
    },
    Delete {
        key: &'static str,
        version: Option<i64>,
    },
    Incr {
        key: &'static str,
        delta: i64,
        version: Option<i64>,
    },
    Decr {
        key: &'static str,
        delta: i64,
        version: Option<i64>,
    },
    IncrVersion {
        key: &'static str,
        delta: i64,
        version: Option<i64>,
    },
    DecrVersion {
        key: &'static str,
        delta: i64,
        version: Option<i64>,
    },
    GetMany {
        keys: Vec<&'static str>,
        version: Option<i64>,
    },
    SetMany {
        items: Vec<(&'static str, Value)>,
        timeout: Timeout,
        version: Option<i64>,
    },
    DeleteMany {
        keys: Vec<&'static str>,
        version: Option<i64>,
    },
    GetOrSet {
        key: &'static str,
        value: Value,
        timeout: Timeout,
        version: Option<i64>,
    },
    Clear,
    Advance {
        millis: u64,
    },
}

/// What an operation yields, in a form both sides produce.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Done,
    Bool(bool),
    Int(i64),
    Value(Option<Value>),
    Bytes(Option<Vec<u8>>),
    Many(HashMap<String, Value>),
    Failed(Vec<String>),
    Err(Failure),
    /// An error the model never produces, e.g. a codec error.
    Unexpected(String),
}

fn outcome<T>(result: cache_core::Result<T>, ok: impl FnOnce(T) -> Outcome) -> Outcome {
    match result {
        Ok(value) => ok(value),
        Err(CacheError::KeyNotFound { .. }) => Outcome::Err(Failure::KeyNotFound),
        Err(CacheError::NotAnInteger { .. }) => Outcome::Err(Failure::NotAnInteger),
        Err(CacheError::Overflow { .. }) => Outcome::Err(Failure::Overflow),
        Err(other) => Outcome::Unexpected(format!("{other:?}")),
    }
}

fn model_outcome<T>(result: Result<T, Failure>, ok: impl FnOnce(T) -> Outcome) -> Outcome {
    result.map_or_else(Outcome::Err, ok)
}

/// Applies Django's `version=` when given.
fn at<'a, O>(call: Call<'a, O>, version: Option<i64>) -> Call<'a, O> {
    match version {
        Some(version) => call.version(version),
        None => call,
    }
}

fn encoded(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values encode")
}

impl Op {
    fn apply_to_model(&self, model: &mut Model) -> Outcome {
        match self {
            Op::Set {
                key,
                value,
                timeout,
                version,
            } => {
                let life = model.life(*timeout);
                model.set(model.made(key, *version), value.clone(), life);
                Outcome::Done
            }
            Op::Add {
                key,
                value,
                timeout,
                version,
            } => {
                let life = model.life(*timeout);
                Outcome::Bool(model.add(model.made(key, *version), value.clone(), life))
            }
            Op::Touch { key, timeout, version } => {
                let life = model.life(*timeout);
                Outcome::Bool(model.touch(&model.made(key, *version), life))
            }
            Op::Get { key, version } => Outcome::Value(model.get(&model.made(key, *version))),
            Op::GetRaw { key, version } => Outcome::Bytes(model.get(&model.made(key, *version)).as_ref().map(encoded)),
            Op::HasKey { key, version } => Outcome::Bool(model.has_key(&model.made(key, *version))),
            Op::Delete { key, version } => Outcome::Bool(model.delete(&model.made(key, *version))),
            Op::Incr { key, delta, version } => {
                model_outcome(model.incr(&model.made(key, *version), *delta), Outcome::Int)
            }
            Op::Decr { key, delta, version } => {
                model_outcome(model.decr(&model.made(key, *version), *delta), Outcome::Int)
            }
            Op::IncrVersion { key, delta, version } => {
                model_outcome(model.incr_version(key, *version, *delta), Outcome::Int)
            }
            Op::DecrVersion { key, delta, version } => {
                model_outcome(model.incr_version(key, *version, -*delta), Outcome::Int)
            }
            Op::GetMany { keys, version } => {
                let mut found = HashMap::new();
                for key in keys {
                    if let Some(value) = model.get(&model.made(key, *version)) {
                        found.insert((*key).to_owned(), value);
                    }
                }
                Outcome::Many(found)
            }
            Op::SetMany {
                items,
                timeout,
                version,
            } => {
                let life = model.life(*timeout);
                for (key, value) in items {
                    model.set(model.made(key, *version), value.clone(), life);
                }
                Outcome::Failed(Vec::new())
            }
            Op::DeleteMany { keys, version } => {
                for key in keys {
                    model.delete(&model.made(key, *version));
                }
                Outcome::Done
            }
            Op::GetOrSet {
                key,
                value,
                timeout,
                version,
            } => {
                let life = model.life(*timeout);
                Outcome::Value(Some(model.get_or_set(&model.made(key, *version), value.clone(), life)))
            }
            Op::Clear => {
                model.entries.clear();
                Outcome::Done
            }
            Op::Advance { millis } => {
                model.now += millis;
                Outcome::Done
            }
        }
    }

    async fn apply_to_cache(&self, cache: &Cache, clock: &Clock) -> Outcome {
        match self {
            Op::Set {
                key,
                value,
                timeout,
                version,
            } => outcome(at(cache.set(key, value).timeout(*timeout), *version).await, |()| {
                Outcome::Done
            }),
            Op::Add {
                key,
                value,
                timeout,
                version,
            } => outcome(
                at(cache.add(key, value).timeout(*timeout), *version).await,
                Outcome::Bool,
            ),
            Op::Touch { key, timeout, version } => {
                outcome(at(cache.touch(key).timeout(*timeout), *version).await, Outcome::Bool)
            }
            Op::Get { key, version } => outcome(at(cache.get::<Value>(key), *version).await, Outcome::Value),
            Op::GetRaw { key, version } => outcome(at(cache.get_raw(key), *version).await, |bytes| {
                Outcome::Bytes(bytes.map(|bytes| bytes.to_vec()))
            }),
            Op::HasKey { key, version } => outcome(at(cache.has_key(key), *version).await, Outcome::Bool),
            Op::Delete { key, version } => outcome(at(cache.delete(key), *version).await, Outcome::Bool),
            Op::Incr { key, delta, version } => outcome(at(cache.incr(key, *delta), *version).await, Outcome::Int),
            Op::Decr { key, delta, version } => outcome(at(cache.decr(key, *delta), *version).await, Outcome::Int),
            Op::IncrVersion { key, delta, version } => {
                outcome(at(cache.incr_version(key, *delta), *version).await, Outcome::Int)
            }
            Op::DecrVersion { key, delta, version } => {
                outcome(at(cache.decr_version(key, *delta), *version).await, Outcome::Int)
            }
            Op::GetMany { keys, version } => outcome(
                at(cache.get_many::<_, Value>(keys.as_slice()), *version).await,
                Outcome::Many,
            ),
            Op::SetMany {
                items,
                timeout,
                version,
            } => outcome(
                at(cache.set_many(items.iter().cloned()).timeout(*timeout), *version).await,
                Outcome::Failed,
            ),
            Op::DeleteMany { keys, version } => outcome(at(cache.delete_many(keys.as_slice()), *version).await, |()| {
                Outcome::Done
            }),
            Op::GetOrSet {
                key,
                value,
                timeout,
                version,
            } => {
                let value = value.clone();
                let call = cache.get_or_set(key, move || async move { value }).timeout(*timeout);
                outcome(at(call, *version).await, |value| Outcome::Value(Some(value)))
            }
            Op::Clear => outcome(cache.clear().await, |()| Outcome::Done),
            Op::Advance { millis } => {
                clock.advance(Duration::from_millis(*millis));
                Outcome::Done
            }
        }
    }
}

// ---- strategies ------------------------------------------------------------------------------

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&KEYS[..])
}

fn version() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![2 => Just(None), 1 => Just(Some(1)), 1 => Just(Some(2))]
}

/// Integers incr can work on (small ones, and the edges of the range), and what it must refuse.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        10 => (-3i64..=20).prop_map(Value::from),
        1 => Just(Value::from(i64::MAX)),
        1 => Just(Value::from(i64::MIN)),
        1 => Just(Value::from(u64::MAX)),
        1 => Just(json!(1.5)),
        1 => Just(json!(2.0)),
        1 => Just(json!("abc")),
        1 => Just(json!("12")),
        1 => Just(json!(true)),
        1 => Just(Value::Null),
        1 => Just(json!([1, 2])),
    ]
}

fn timeout() -> impl Strategy<Value = Timeout> {
    prop_oneof![
        3 => Just(Timeout::Default),
        2 => Just(Timeout::Never),
        1 => Just(Timeout::Seconds(-1.0)),
        1 => Just(Timeout::Seconds(0.0)),
        2 => Just(Timeout::Seconds(0.5)),
        2 => Just(Timeout::Seconds(1.0)),
        2 => Just(Timeout::Seconds(5.0)),
    ]
}

/// The alias' own `timeout`: Django's 300, short enough to expire within a sequence, never, or 0
/// (every default-timeout write expires at once).
fn alias_timeout() -> impl Strategy<Value = Timeout> {
    prop_oneof![
        3 => Just(Timeout::Seconds(300.0)),
        2 => Just(Timeout::Seconds(2.0)),
        1 => Just(Timeout::Never),
        1 => Just(Timeout::Seconds(0.0)),
    ]
}

fn delta() -> impl Strategy<Value = i64> {
    prop_oneof![8 => -3i64..=3, 1 => Just(i64::MAX), 1 => Just(i64::MIN)]
}

fn keys() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(key(), 0..=4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (key(), value(), timeout(), version())
            .prop_map(|(key, value, timeout, version)| Op::Set { key, value, timeout, version }),
        2 => (key(), value(), timeout(), version())
            .prop_map(|(key, value, timeout, version)| Op::Add { key, value, timeout, version }),
        3 => (key(), timeout(), version()).prop_map(|(key, timeout, version)| Op::Touch { key, timeout, version }),
        3 => (key(), version()).prop_map(|(key, version)| Op::Get { key, version }),
        1 => (key(), version()).prop_map(|(key, version)| Op::GetRaw { key, version }),
        2 => (key(), version()).prop_map(|(key, version)| Op::HasKey { key, version }),
        2 => (key(), version()).prop_map(|(key, version)| Op::Delete { key, version }),
        4 => (key(), delta(), version()).prop_map(|(key, delta, version)| Op::Incr { key, delta, version }),
        2 => (key(), delta(), version()).prop_map(|(key, delta, version)| Op::Decr { key, delta, version }),
        1 => (key(), -2i64..=2, version())
            .prop_map(|(key, delta, version)| Op::IncrVersion { key, delta, version }),
        1 => (key(), -2i64..=2, version())
            .prop_map(|(key, delta, version)| Op::DecrVersion { key, delta, version }),
        1 => (keys(), version()).prop_map(|(keys, version)| Op::GetMany { keys, version }),
        1 => (prop::collection::vec((key(), value()), 0..=4), timeout(), version())
            .prop_map(|(items, timeout, version)| Op::SetMany { items, timeout, version }),
        1 => (keys(), version()).prop_map(|(keys, version)| Op::DeleteMany { keys, version }),
        2 => (key(), value(), timeout(), version())
            .prop_map(|(key, value, timeout, version)| Op::GetOrSet { key, value, timeout, version }),
        1 => Just(Op::Clear),
        4 => prop_oneof![Just(0u64), Just(500), Just(1000), 0u64..=3000].prop_map(|millis| Op::Advance { millis }),
    ]
}

// ---- the property ----------------------------------------------------------------------------

/// Every made key a sequence can reach, with the caller's key and version that name it.
fn universe() -> Vec<(&'static str, i64)> {
    KEYS.iter()
        .flat_map(|&key| VERSIONS.map(move |version| (key, version)))
        .collect()
}

async fn check(
    max_entries: usize,
    cull_frequency: usize,
    alias_timeout: Timeout,
    ops: &[Op],
    drain: bool,
) -> Result<(), TestCaseError> {
    let clock = Clock::manual();
    let backend = LocMemBackend::builder()
        .max_entries(max_entries as u64)
        .cull_frequency(cull_frequency as u64)
        .clock(clock.clone())
        .build();
    let backend = Arc::new(backend);
    let options = CacheOptions::default().with_timeout(alias_timeout);
    let cache = Cache::new("default", backend.clone(), options);
    let mut model = Model::new(max_entries, cull_frequency, alias_timeout);
    let universe = universe();

    for (step, op) in ops.iter().enumerate() {
        let expected = op.apply_to_model(&mut model);
        let actual = op.apply_to_cache(&cache, &clock).await;
        prop_assert_eq!(&actual, &expected, "step {}: {:?}\nmodel: {:#?}", step, op, model);
        compare_contents(&cache, &backend, &mut model, &universe, &format!("step {step}: {op:?}")).await?;
    }

    // Recency is only observable through culls: fill the store with fresh keys until every key
    // of the sequence has been culled, checking after each write which of them are left. Two
    // stores whose orders differ lose their entries in a different order.
    if drain {
        for probe in 0..48 {
            if model.entries.iter().all(|entry| entry.key.starts_with(":1:probe-")) {
                break;
            }
            let key = format!("probe-{probe}");
            model.set(model.made(&key, None), json!(probe), Life::Store(None));
            cache.set(&key, &probe).timeout(Timeout::Never).await.expect("set");
            compare_contents(&cache, &backend, &mut model, &universe, &format!("drain write {key}")).await?;
        }
    }

    // Every value, read the same way on both sides (which refreshes recency on both).
    for &(key, version) in &universe {
        let made = model.made(key, Some(version));
        let expected = model.get(&made).as_ref().map(encoded);
        let actual = cache.get_raw(key).version(version).await.expect("get_raw");
        prop_assert_eq!(
            actual.as_deref(),
            expected.as_deref(),
            "final value of {:?}\nmodel: {:#?}",
            made,
            model
        );
    }
    prop_assert_eq!(backend.len(), model.entries.len(), "final entry count");
    Ok(())
}

/// The entry count (expired entries included, so lazy removal is checked without disturbing it),
/// and `has_key` of every key whose probing changes nothing: a missing or live entry. A lingering
/// expired one would be removed, so those are left to the entry count.
async fn compare_contents(
    cache: &Cache,
    backend: &LocMemBackend,
    model: &mut Model,
    universe: &[(&'static str, i64)],
    after: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        backend.len(),
        model.entries.len(),
        "entry count after {}\nmodel: {:#?}",
        after,
        model
    );
    for &(key, version) in universe {
        let made = model.made(key, Some(version));
        if model.is_lingering(&made) {
            continue;
        }
        let expected = model.has_key(&made);
        let actual = cache.has_key(key).version(version).await.expect("has_key");
        prop_assert_eq!(
            actual,
            expected,
            "has_key({:?}) after {}\nmodel: {:#?}",
            made,
            after,
            model
        );
    }
    Ok(())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Small stores (one shard, so Django's exact LRU and cull results must hold).
    #[test]
    fn locmem_agrees_with_the_model(
        max_entries in 0usize..=12,
        cull_frequency in 0usize..=4,
        alias_timeout in alias_timeout(),
        ops in prop::collection::vec(op(), 1..=60),
        drain in any::<bool>(),
    ) {
        block_on(check(max_entries, cull_frequency, alias_timeout, &ops, drain))?;
    }
}

/// An LRU example of Django's locmem culling (max 5) replayed through the model and the store, as a
/// sanity check that the model encodes the documented order and not merely the store's.
#[test]
fn model_follows_the_reference_lru_example() {
    let ops: Vec<Op> = (0..5)
        .map(|i| Op::Set {
            key: KEYS[i],
            value: json!(i),
            timeout: Timeout::Never,
            version: None,
        })
        .chain([
            Op::Get {
                key: "a",
                version: None,
            },
            Op::Touch {
                key: "b",
                timeout: Timeout::Never,
                version: None,
            },
            Op::HasKey {
                key: "c",
                version: None,
            },
            Op::Add {
                key: "a",
                value: json!("other"),
                timeout: Timeout::Never,
                version: None,
            },
            Op::Set {
                key: "d",
                value: json!("new"),
                timeout: Timeout::Never,
                version: None,
            },
        ])
        .collect();
    let mut model = Model::new(5, 3, Timeout::Seconds(300.0));
    for op in &ops {
        op.apply_to_model(&mut model);
    }
    let order: Vec<&str> = model.entries.iter().map(|entry| entry.key.as_str()).collect();
    // Django: [3,0,4,2] for keys 0..4 named a..e here.
    assert_eq!(order, [":1:d", ":1:a", ":1:e", ":1:c"]);
    block_on(check(5, 3, Timeout::Seconds(300.0), &ops, true)).expect("the store agrees");
}
