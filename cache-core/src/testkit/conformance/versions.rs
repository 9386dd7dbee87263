//! Versions: the alias' `version`, the per-call `.version(n)`, and moving a value between them.

use std::collections::HashMap;

use crate::testkit::Subject;
use crate::{Cache, CacheError};

/// The integer at `key`, read at the alias' version (`None`) or the given one.
async fn read(cache: &Cache, key: &str, version: Option<i64>) -> Option<i64> {
    match version {
        None => cache.get::<i64>(key).await.unwrap(),
        Some(version) => cache.get::<i64>(key).version(version).await.unwrap(),
    }
}

/// Asserts what `key` reads as through `cache` at its own version, version 1 and version 2.
async fn assert_versions(cache: &Cache, key: &str, expected: [Option<i64>; 3]) {
    let got = [
        read(cache, key, None).await,
        read(cache, key, Some(1)).await,
        read(cache, key, Some(2)).await,
    ];
    assert_eq!(
        got,
        expected,
        "`{key}` through alias `{}` at [its version, 1, 2]",
        cache.alias()
    );
}

/// `BaseCacheTests.test_cache_versioning_get_set`: a value is visible at the version it was set at only.
pub async fn cache_versioning_get_set(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    cache.set("answer1", &42).await.unwrap();
    assert_versions(&cache, "answer1", [Some(42), Some(42), None]).await;
    assert_versions(&v2, "answer1", [None, Some(42), None]).await;

    cache.set("answer2", &42).version(2).await.unwrap();
    assert_versions(&cache, "answer2", [None, None, Some(42)]).await;
    assert_versions(&v2, "answer2", [Some(42), None, Some(42)]).await;

    v2.set("answer3", &42).await.unwrap();
    assert_versions(&cache, "answer3", [None, None, Some(42)]).await;
    assert_versions(&v2, "answer3", [Some(42), None, Some(42)]).await;

    v2.set("answer4", &42).version(1).await.unwrap();
    assert_versions(&cache, "answer4", [Some(42), Some(42), None]).await;
    assert_versions(&v2, "answer4", [None, Some(42), None]).await;
}

/// `BaseCacheTests.test_cache_versioning_add`: `add` is decided per version.
pub async fn cache_versioning_add(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    assert!(cache.add("answer1", &42).version(2).await.unwrap());
    assert_versions(&cache, "answer1", [None, None, Some(42)]).await;
    assert!(!cache.add("answer1", &37).version(2).await.unwrap());
    assert_versions(&cache, "answer1", [None, None, Some(42)]).await;
    assert!(cache.add("answer1", &37).version(1).await.unwrap());
    assert_versions(&cache, "answer1", [Some(37), Some(37), Some(42)]).await;

    assert!(v2.add("answer2", &42).await.unwrap());
    assert_versions(&cache, "answer2", [None, None, Some(42)]).await;
    assert!(!v2.add("answer2", &37).await.unwrap());
    assert_versions(&cache, "answer2", [None, None, Some(42)]).await;
    assert!(v2.add("answer2", &37).version(1).await.unwrap());
    assert_versions(&cache, "answer2", [Some(37), Some(37), Some(42)]).await;

    assert!(v2.add("answer3", &42).version(1).await.unwrap());
    assert_versions(&cache, "answer3", [Some(42), Some(42), None]).await;
    assert!(!v2.add("answer3", &37).version(1).await.unwrap());
    assert_versions(&cache, "answer3", [Some(42), Some(42), None]).await;
    assert!(v2.add("answer3", &37).await.unwrap());
    assert_versions(&cache, "answer3", [Some(42), Some(42), Some(37)]).await;
}

/// `BaseCacheTests.test_cache_versioning_has_key`: `has_key` looks at one version.
pub async fn cache_versioning_has_key(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    cache.set("answer1", &42).await.unwrap();
    assert!(cache.has_key("answer1").await.unwrap());
    assert!(cache.has_key("answer1").version(1).await.unwrap());
    assert!(!cache.has_key("answer1").version(2).await.unwrap());
    assert!(!v2.has_key("answer1").await.unwrap());
    assert!(v2.has_key("answer1").version(1).await.unwrap());
    assert!(!v2.has_key("answer1").version(2).await.unwrap());
}

/// `BaseCacheTests.test_cache_versioning_delete`: `delete` removes one version only.
pub async fn cache_versioning_delete(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    let both = |key: &'static str| {
        let cache = cache.clone();
        async move {
            cache.set(key, &37).version(1).await.unwrap();
            cache.set(key, &42).version(2).await.unwrap();
        }
    };
    both("answer1").await;
    assert!(cache.delete("answer1").await.unwrap());
    assert_versions(&cache, "answer1", [None, None, Some(42)]).await;

    both("answer2").await;
    assert!(cache.delete("answer2").version(2).await.unwrap());
    assert_versions(&cache, "answer2", [Some(37), Some(37), None]).await;

    both("answer3").await;
    assert!(v2.delete("answer3").await.unwrap());
    assert_versions(&cache, "answer3", [Some(37), Some(37), None]).await;

    both("answer4").await;
    assert!(v2.delete("answer4").version(1).await.unwrap());
    assert_versions(&cache, "answer4", [None, None, Some(42)]).await;
}

/// `BaseCacheTests.test_cache_versioning_incr_decr`: incr and decr change one version only.
pub async fn cache_versioning_incr_decr(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    for key in ["answer1", "answer2", "answer3", "answer4"] {
        cache.set(key, &37).version(1).await.unwrap();
        cache.set(key, &42).version(2).await.unwrap();
    }
    assert_eq!(cache.incr("answer1", 1).await.unwrap(), 38);
    assert_versions(&cache, "answer1", [Some(38), Some(38), Some(42)]).await;
    assert_eq!(cache.decr("answer1", 1).await.unwrap(), 37);
    assert_versions(&cache, "answer1", [Some(37), Some(37), Some(42)]).await;

    assert_eq!(cache.incr("answer2", 1).version(2).await.unwrap(), 43);
    assert_versions(&cache, "answer2", [Some(37), Some(37), Some(43)]).await;
    assert_eq!(cache.decr("answer2", 1).version(2).await.unwrap(), 42);
    assert_versions(&cache, "answer2", [Some(37), Some(37), Some(42)]).await;

    assert_eq!(v2.incr("answer3", 1).await.unwrap(), 43);
    assert_versions(&cache, "answer3", [Some(37), Some(37), Some(43)]).await;
    assert_eq!(v2.decr("answer3", 1).await.unwrap(), 42);
    assert_versions(&cache, "answer3", [Some(37), Some(37), Some(42)]).await;

    assert_eq!(v2.incr("answer4", 1).version(1).await.unwrap(), 38);
    assert_versions(&cache, "answer4", [Some(38), Some(38), Some(42)]).await;
    assert_eq!(v2.decr("answer4", 1).version(1).await.unwrap(), 37);
    assert_versions(&cache, "answer4", [Some(37), Some(37), Some(42)]).await;
}

/// What `get_many` of `keys` through `cache` yields at its own version, version 1 and version 2.
async fn many_at_versions(cache: &Cache, keys: &[&str; 2]) -> [HashMap<String, i64>; 3] {
    [
        cache.get_many::<_, i64>(keys).await.unwrap(),
        cache.get_many::<_, i64>(keys).version(1).await.unwrap(),
        cache.get_many::<_, i64>(keys).version(2).await.unwrap(),
    ]
}

/// `BaseCacheTests.test_cache_versioning_get_set_many`: the four combinations of
/// `test_cache_versioning_get_set` through the batch methods.
pub async fn cache_versioning_get_set_many(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    let both = |a: &str, b: &str| HashMap::from([(a.to_owned(), 37), (b.to_owned(), 42)]);
    let none = HashMap::new;

    cache.set_many([("ford1", 37), ("arthur1", 42)]).await.unwrap();
    let found = both("ford1", "arthur1");
    let keys = ["ford1", "arthur1"];
    assert_eq!(
        many_at_versions(&cache, &keys).await,
        [found.clone(), found.clone(), none()]
    );
    assert_eq!(many_at_versions(&v2, &keys).await, [none(), found, none()]);

    cache
        .set_many([("ford2", 37), ("arthur2", 42)])
        .version(2)
        .await
        .unwrap();
    let found = both("ford2", "arthur2");
    let keys = ["ford2", "arthur2"];
    assert_eq!(many_at_versions(&cache, &keys).await, [none(), none(), found.clone()]);
    assert_eq!(many_at_versions(&v2, &keys).await, [found.clone(), none(), found]);

    v2.set_many([("ford3", 37), ("arthur3", 42)]).await.unwrap();
    let found = both("ford3", "arthur3");
    let keys = ["ford3", "arthur3"];
    assert_eq!(many_at_versions(&cache, &keys).await, [none(), none(), found.clone()]);
    assert_eq!(many_at_versions(&v2, &keys).await, [found.clone(), none(), found]);

    v2.set_many([("ford4", 37), ("arthur4", 42)]).version(1).await.unwrap();
    let found = both("ford4", "arthur4");
    let keys = ["ford4", "arthur4"];
    assert_eq!(
        many_at_versions(&cache, &keys).await,
        [found.clone(), found.clone(), none()]
    );
    assert_eq!(many_at_versions(&v2, &keys).await, [none(), found, none()]);
}

/// `BaseCacheTests.test_incr_version`: the value moves to `version + 1` and the new version is
/// returned; a missing key is `KeyNotFound` with the caller's key; a stored `None` moves too.
pub async fn incr_version(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    cache.set("answer", &42).version(2).await.unwrap();
    assert_eq!(read(&cache, "answer", None).await, None);
    assert_eq!(read(&cache, "answer", Some(2)).await, Some(42));
    assert_eq!(read(&cache, "answer", Some(3)).await, None);
    assert_eq!(cache.incr_version("answer", 1).version(2).await.unwrap(), 3);
    assert_eq!(read(&cache, "answer", None).await, None);
    assert_eq!(read(&cache, "answer", Some(2)).await, None);
    assert_eq!(read(&cache, "answer", Some(3)).await, Some(42));

    v2.set("answer2", &42).await.unwrap();
    assert_eq!(read(&v2, "answer2", None).await, Some(42));
    assert_eq!(read(&v2, "answer2", Some(1)).await, None);
    assert_eq!(read(&v2, "answer2", Some(3)).await, None);
    assert_eq!(v2.incr_version("answer2", 1).await.unwrap(), 3);
    assert_eq!(read(&v2, "answer2", None).await, None);
    assert_eq!(read(&v2, "answer2", Some(1)).await, None);
    assert_eq!(read(&v2, "answer2", Some(2)).await, None);
    assert_eq!(read(&v2, "answer2", Some(3)).await, Some(42));

    let missing = cache.incr_version("does_not_exist", 1).await;
    assert_err!(&missing, CacheError::KeyNotFound { key } if key == "does_not_exist");
    assert_eq!(missing.unwrap_err().to_string(), "Key 'does_not_exist' not found");

    cache.set("null", &None::<i64>).await.unwrap();
    assert_eq!(cache.incr_version("null", 1).await.unwrap(), 2);
    assert_eq!(cache.get::<Option<i64>>("null").version(2).await.unwrap(), Some(None));
}

/// `BaseCacheTests.test_decr_version`: the same, downwards.
pub async fn decr_version(s: &Subject) {
    let (cache, v2) = (s.cache(), s.v2());
    cache.set("answer", &42).version(2).await.unwrap();
    assert_eq!(cache.decr_version("answer", 1).version(2).await.unwrap(), 1);
    assert_eq!(read(&cache, "answer", None).await, Some(42));
    assert_eq!(read(&cache, "answer", Some(1)).await, Some(42));
    assert_eq!(read(&cache, "answer", Some(2)).await, None);

    v2.set("answer2", &42).await.unwrap();
    assert_eq!(v2.decr_version("answer2", 1).await.unwrap(), 1);
    assert_eq!(read(&v2, "answer2", None).await, None);
    assert_eq!(read(&v2, "answer2", Some(1)).await, Some(42));
    assert_eq!(read(&v2, "answer2", Some(2)).await, None);

    assert_err!(
        cache.decr_version("does_not_exist", 1).version(2).await,
        CacheError::KeyNotFound { key } if key == "does_not_exist"
    );

    cache.set("null", &None::<i64>).version(2).await.unwrap();
    assert_eq!(cache.decr_version("null", 1).version(2).await.unwrap(), 1);
    assert_eq!(cache.get::<Option<i64>>("null").version(1).await.unwrap(), Some(None));
}

/// No Django test (a deliberate difference: Django deletes the entry): a version delta of zero changes
/// nothing and yields the current version (Django sets the key, then deletes that same key, losing the
/// value).
pub async fn incr_version_with_zero_delta_changes_nothing(s: &Subject) {
    let cache = s.cache();
    cache.set("stay", &42).await.unwrap();
    assert_eq!(cache.incr_version("stay", 0).await.unwrap(), 1);
    assert_eq!(cache.decr_version("stay", 0).await.unwrap(), 1);
    assert_eq!(read(&cache, "stay", None).await, Some(42));
    assert_eq!(read(&cache, "stay", Some(2)).await, None);

    let v2 = s.v2();
    v2.set("stay2", &7).await.unwrap();
    assert_eq!(v2.incr_version("stay2", 0).await.unwrap(), 2);
    assert_eq!(read(&v2, "stay2", None).await, Some(7));
    assert_err!(
        cache.incr_version("missing", 0).await,
        CacheError::KeyNotFound { key } if key == "missing"
    );
}
