//! The everyday operations: get, set, add, delete, has_key, clear, close, and what survives a round trip.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Cache;
use crate::Timeout;
use crate::testkit::Subject;

/// `BaseCacheTests.test_simple`: a set value is read back.
pub async fn simple(s: &Subject) {
    let cache = s.cache();
    cache.set("key", "value").await.unwrap();
    assert_eq!(cache.get::<String>("key").await.unwrap().as_deref(), Some("value"));
}

/// `BaseCacheTests.test_default_used_when_none_is_set`: a stored `None` is a hit, so the caller's
/// default does not apply. In Rust the hit is `Some(None)` when reading an `Option<T>`.
pub async fn default_used_when_none_is_set(s: &Subject) {
    let cache = s.cache();
    cache.set("key_default_none", &None::<String>).await.unwrap();
    let got = cache.get::<Option<String>>("key_default_none").await.unwrap();
    assert_eq!(got, Some(None), "a stored None must read back as a hit");
    assert_eq!(got.unwrap_or_else(|| Some("default".to_owned())), None);
}

/// `BaseCacheTests.test_add`: `add` stores only when the key is free.
pub async fn add(s: &Subject) {
    let cache = s.cache();
    assert!(cache.add("addkey1", "value").await.unwrap());
    assert!(!cache.add("addkey1", "newvalue").await.unwrap());
    assert_eq!(cache.get::<String>("addkey1").await.unwrap().as_deref(), Some("value"));
}

/// `BaseCacheTests.test_prefix`: aliases with different key prefixes don't see each other's keys.
pub async fn prefix(s: &Subject) {
    let cache = s.cache();
    let prefixed = s.prefix();
    cache.set("somekey", "value").await.unwrap();
    assert!(!prefixed.has_key("somekey").await.unwrap());
    prefixed.set("somekey", "value2").await.unwrap();
    assert_eq!(cache.get::<String>("somekey").await.unwrap().as_deref(), Some("value"));
    assert_eq!(
        prefixed.get::<String>("somekey").await.unwrap().as_deref(),
        Some("value2")
    );
}

/// `BaseCacheTests.test_non_existent`: a missing key is a miss (`Ok(None)`), never an error.
pub async fn non_existent(s: &Subject) {
    let cache = s.cache();
    assert_eq!(cache.get::<String>("does_not_exist").await.unwrap(), None);
    let with_default = cache.get::<String>("does_not_exist").await.unwrap();
    assert_eq!(with_default.unwrap_or_else(|| "bang!".to_owned()), "bang!");
}

/// `BaseCacheTests.test_delete`: `delete` removes one key, says it did, and leaves the others.
pub async fn delete(s: &Subject) {
    let cache = s.cache();
    cache.set_many([("key1", "spam"), ("key2", "eggs")]).await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap().as_deref(), Some("spam"));
    assert!(cache.delete("key1").await.unwrap());
    assert_eq!(cache.get::<String>("key1").await.unwrap(), None);
    assert_eq!(cache.get::<String>("key2").await.unwrap().as_deref(), Some("eggs"));
}

/// `BaseCacheTests.test_delete_nonexistent`: deleting a missing key yields false.
pub async fn delete_nonexistent(s: &Subject) {
    assert!(!s.cache().delete("nonexistent_key").await.unwrap());
}

/// `BaseCacheTests.test_has_key` and `test_in` (Rust has no `in`): true for a set key, a key that
/// never expires and a stored `None`; false for a missing key.
pub async fn has_key(s: &Subject) {
    let cache = s.cache();
    cache.set("hello1", "goodbye1").await.unwrap();
    assert!(cache.has_key("hello1").await.unwrap());
    assert!(!cache.has_key("goodbye1").await.unwrap());
    cache.set("no_expiry", "here").timeout(Timeout::Never).await.unwrap();
    assert!(cache.has_key("no_expiry").await.unwrap());
    cache.set("null", &None::<i64>).await.unwrap();
    assert!(cache.has_key("null").await.unwrap());
}

/// `BaseCacheTests.test_close`: `close` succeeds, and the cache still works afterwards.
pub async fn close(s: &Subject) {
    let cache = s.cache();
    cache.close().await.unwrap();
    cache.set("after_close", &1).await.unwrap();
    assert_eq!(cache.get::<i64>("after_close").await.unwrap(), Some(1));
}

/// `BaseCacheTests.test_clear`: `clear` removes every key.
pub async fn clear(s: &Subject) {
    let cache = s.cache();
    cache.set_many([("key1", "spam"), ("key2", "eggs")]).await.unwrap();
    cache.clear().await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap(), None);
    assert_eq!(cache.get::<String>("key2").await.unwrap(), None);
}

/// A struct with a field of every shape, for [`data_types`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stuff {
    string: String,
    int: i64,
    float: f64,
    boolean: bool,
    list: Vec<i64>,
    tuple: (String, u8, bool),
    map: BTreeMap<String, Vec<String>>,
    optional: Option<Box<Stuff>>,
    choice: Choice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Choice {
    Unit,
    Pair(i32, i32),
    Named { name: String },
}

async fn round_trip<T>(cache: &Cache, key: &str, value: T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + Send + 'static,
{
    cache.set(key, &value).await.unwrap();
    assert_eq!(cache.get::<T>(key).await.unwrap(), Some(value), "round trip of `{key}`");
}

/// `BaseCacheTests.test_data_types`: every serde shape reads back equal (Django's functions and classes
/// become structs and enums: what a Rust value can be).
pub async fn data_types(s: &Subject) {
    let cache = s.cache();
    round_trip(&cache, "string", "this is a string".to_owned()).await;
    round_trip(&cache, "int", 42i64).await;
    round_trip(&cache, "extreme_ints", (i64::MIN, i64::MAX, u64::MAX)).await;
    round_trip(&cache, "float", 1.5f64).await;
    round_trip(&cache, "bool", true).await;
    round_trip(&cache, "unit", ()).await;
    round_trip(&cache, "list", vec![1i64, 2, 3, 4]).await;
    round_trip(&cache, "tuple", ("a".to_owned(), 1i32, false)).await;
    round_trip(&cache, "bytes_as_list", vec![0u8, 1, 255]).await;
    round_trip(
        &cache,
        "hash_map",
        HashMap::from([("a".to_owned(), 1i64), ("b".to_owned(), 2)]),
    )
    .await;
    round_trip(&cache, "some", Some("x".to_owned())).await;
    round_trip(&cache, "none", None::<String>).await;
    let inner = Stuff {
        string: "Iñtërnâtiônàlizætiøn".to_owned(),
        int: -7,
        float: -0.25,
        boolean: false,
        list: Vec::new(),
        tuple: ("t".to_owned(), 255, true),
        map: BTreeMap::new(),
        optional: None,
        choice: Choice::Unit,
    };
    let outer = Stuff {
        string: "outer".to_owned(),
        int: 42,
        float: 3.75,
        boolean: true,
        list: vec![1, 2, 3],
        tuple: ("u".to_owned(), 0, false),
        map: BTreeMap::from([("k".to_owned(), vec!["v".to_owned()])]),
        optional: Some(Box::new(inner)),
        choice: Choice::Named { name: "n".to_owned() },
    };
    round_trip(&cache, "struct", outer).await;
    round_trip(&cache, "enum", vec![Choice::Unit, Choice::Pair(1, -1)]).await;
}

/// `BaseCacheTests.test_unicode`: non-ASCII keys and values through set, add and set_many.
pub async fn unicode(s: &Subject) {
    let cache = s.cache();
    let stuff = [
        ("ascii", serde_json::json!("ascii_value")),
        ("unicode_ascii", serde_json::json!("Iñtërnâtiônàlizætiøn1")),
        ("Iñtërnâtiônàlizætiøn", serde_json::json!("Iñtërnâtiônàlizætiøn2")),
        ("ascii2", serde_json::json!({"x": 1})),
    ];
    for (key, value) in &stuff {
        cache.set(key, value).await.unwrap();
        assert_eq!(cache.get::<serde_json::Value>(key).await.unwrap().as_ref(), Some(value));
    }
    for (key, value) in &stuff {
        assert!(cache.delete(key).await.unwrap(), "delete {key}");
        assert!(cache.add(key, value).await.unwrap(), "add {key}");
        assert_eq!(cache.get::<serde_json::Value>(key).await.unwrap().as_ref(), Some(value));
    }
    for (key, _) in &stuff {
        assert!(cache.delete(key).await.unwrap(), "delete {key}");
    }
    assert!(cache.set_many(stuff.iter().cloned()).await.unwrap().is_empty());
    for (key, value) in &stuff {
        assert_eq!(cache.get::<serde_json::Value>(key).await.unwrap().as_ref(), Some(value));
    }
}

/// `BaseCacheTests.test_binary_string`: arbitrary bytes (every byte value, invalid UTF-8) survive the
/// raw methods: set, add and set_many.
pub async fn binary_string(s: &Subject) {
    let cache = s.cache();
    let mut value: Vec<u8> = (0..=255u8).collect();
    value.extend_from_slice(b"\r\nEND\r\n\x00\xff\xfe");
    let value = Bytes::from(value);
    cache.set_raw("binary1", value.clone()).await.unwrap();
    assert_eq!(cache.get_raw("binary1").await.unwrap(), Some(value.clone()));
    assert!(cache.add_raw("binary1-add", value.clone()).await.unwrap());
    assert_eq!(cache.get_raw("binary1-add").await.unwrap(), Some(value.clone()));
    let failed = cache.set_many_raw([("binary1-set_many", value.clone())]).await.unwrap();
    assert!(failed.is_empty());
    assert_eq!(cache.get_raw("binary1-set_many").await.unwrap(), Some(value));
}

/// No Django test of its own (Django's stored `None` is a hit on every backend that stores): stored "empty"
/// values are hits — `None`, empty bytes, an empty string, an empty list — for `get`, `has_key` and
/// `get_many` alike.
pub async fn stored_empty_values_are_hits(s: &Subject) {
    let cache = s.cache();
    cache.set("none", &None::<i64>).await.unwrap();
    cache.set_raw("empty_raw", Bytes::new()).await.unwrap();
    cache.set("empty_string", "").await.unwrap();
    cache.set("empty_list", &Vec::<i64>::new()).await.unwrap();

    assert_eq!(cache.get::<Option<i64>>("none").await.unwrap(), Some(None));
    assert_eq!(cache.get_raw("empty_raw").await.unwrap(), Some(Bytes::new()));
    assert_eq!(cache.get::<String>("empty_string").await.unwrap().as_deref(), Some(""));
    assert_eq!(cache.get::<Vec<i64>>("empty_list").await.unwrap(), Some(Vec::new()));
    for key in ["none", "empty_raw", "empty_string", "empty_list"] {
        assert!(cache.has_key(key).await.unwrap(), "has_key({key})");
    }

    let found = cache.get_many::<_, Option<i64>>(&["none", "missing"]).await.unwrap();
    assert_eq!(found, HashMap::from([("none".to_owned(), None)]));
    let found = cache.get_many_raw(&["empty_raw", "missing"]).await.unwrap();
    assert_eq!(found, HashMap::from([("empty_raw".to_owned(), Bytes::new())]));
}
