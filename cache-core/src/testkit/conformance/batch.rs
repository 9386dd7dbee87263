//! get_many, set_many and delete_many.

use std::collections::HashMap;

use crate::testkit::Subject;

fn map<V: Clone>(pairs: &[(&str, V)]) -> HashMap<String, V> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// `BaseCacheTests.test_get_many`: found keys only, by the caller's key; a stored `None` is found.
/// Django accepts any iterable of keys; here any slice of `AsRef<str>` (`&str` or `String`).
pub async fn get_many(s: &Subject) {
    let cache = s.cache();
    let stored = cache
        .set_many([("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")])
        .await
        .unwrap();
    assert!(stored.is_empty());
    assert_eq!(
        cache.get_many::<_, String>(&["a", "c", "d"]).await.unwrap(),
        map(&[("a", "a".to_owned()), ("c", "c".to_owned()), ("d", "d".to_owned())])
    );
    assert_eq!(
        cache.get_many::<_, String>(&["a", "b", "e"]).await.unwrap(),
        map(&[("a", "a".to_owned()), ("b", "b".to_owned())])
    );
    let owned: Vec<String> = ["b", "c"].map(str::to_owned).to_vec();
    assert_eq!(
        cache.get_many::<_, String>(&owned).await.unwrap(),
        map(&[("b", "b".to_owned()), ("c", "c".to_owned())])
    );
    // Duplicates name one entry (Django's Redis and memcached collapse them the same way).
    assert_eq!(
        cache.get_many::<_, String>(&["a", "a"]).await.unwrap(),
        map(&[("a", "a".to_owned())])
    );
    // No keys, no result (Django returns an empty dict).
    assert!(cache.get_many::<&str, String>(&[]).await.unwrap().is_empty());

    cache.set_many([("x", None), ("y", Some(1i64))]).await.unwrap();
    assert_eq!(
        cache.get_many::<_, Option<i64>>(&["x", "y"]).await.unwrap(),
        map(&[("x", None), ("y", Some(1))])
    );
}

/// `BaseCacheTests.test_set_many`: every pair is stored.
pub async fn set_many(s: &Subject) {
    let cache = s.cache();
    cache.set_many([("key1", "spam"), ("key2", "eggs")]).await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap().as_deref(), Some("spam"));
    assert_eq!(cache.get::<String>("key2").await.unwrap().as_deref(), Some("eggs"));
}

/// `BaseCacheTests.test_set_many_returns_empty_list_on_success`: no failed keys.
pub async fn set_many_returns_empty_list_on_success(s: &Subject) {
    let failed = s.cache().set_many([("key1", "spam"), ("key2", "eggs")]).await.unwrap();
    assert_eq!(failed, Vec::<String>::new());
}

/// `BaseCacheTests.test_set_many_empty_data`: nothing to store, no failed keys.
pub async fn set_many_empty_data(s: &Subject) {
    let failed = s.cache().set_many(Vec::<(&str, i64)>::new()).await.unwrap();
    assert_eq!(failed, Vec::<String>::new());
}

/// `BaseCacheTests.test_delete_many`: the named keys go, the others stay.
pub async fn delete_many(s: &Subject) {
    let cache = s.cache();
    cache
        .set_many([("key1", "spam"), ("key2", "eggs"), ("key3", "ham")])
        .await
        .unwrap();
    cache.delete_many(&["key1", "key2"]).await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap(), None);
    assert_eq!(cache.get::<String>("key2").await.unwrap(), None);
    assert_eq!(cache.get::<String>("key3").await.unwrap().as_deref(), Some("ham"));
}

/// `BaseCacheTests.test_delete_many_no_keys`: deleting nothing succeeds.
pub async fn delete_many_no_keys(s: &Subject) {
    s.cache().delete_many::<&str>(&[]).await.unwrap();
}
