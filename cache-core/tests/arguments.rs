//! Keys and values are taken as callers hold them: `&str`, `String`, `&String` (and other
//! string-like references) for keys; a value by reference or by value.
#![cfg(feature = "testkit")]

#[allow(dead_code)]
#[path = "../examples/custom_backend.rs"]
mod custom_backend;

use std::borrow::Cow;
use std::sync::Arc;

use cache_core::{Cache, CacheOptions, Clock};

fn cache() -> Cache {
    let backend = custom_backend::HashMapBackend::new(Clock::manual());
    Cache::new("default", Arc::new(backend), CacheOptions::default())
}

#[tokio::test]
async fn keys_as_str_string_and_references() {
    let cache = cache();
    let owned = String::from("owned");
    let borrowed: &str = "borrowed";
    let boxed: Box<str> = "boxed".into();

    cache.set(format!("user:{}", 7), 1).await.unwrap(); // an owned String moves in
    cache.set(&owned, 2).await.unwrap(); // &String
    cache.set(borrowed, 3).await.unwrap(); // &str
    cache.set(&borrowed, 4).await.unwrap(); // &&str (overwrites "borrowed")
    cache.set(&boxed, 5).await.unwrap(); // &Box<str>
    cache.set(Cow::Borrowed("cow"), 6).await.unwrap();

    assert_eq!(cache.get::<i64>(String::from("user:7")).await.unwrap(), Some(1));
    assert_eq!(cache.get::<i64>(&owned).await.unwrap(), Some(2));
    assert_eq!(cache.get::<i64>("borrowed").await.unwrap(), Some(4));
    assert_eq!(cache.get::<i64>(&*boxed).await.unwrap(), Some(5));
    assert_eq!(cache.incr(String::from("cow"), 1).await.unwrap(), 7);
    assert!(cache.has_key(&owned).await.unwrap());
    assert!(cache.delete(owned.clone()).await.unwrap());
    assert!(!cache.has_key(owned).await.unwrap());
}

#[tokio::test]
async fn values_by_reference_or_by_value() {
    let cache = cache();
    let names = vec!["a".to_owned(), "b".to_owned()];
    cache.set("by-ref", &names).await.unwrap();
    cache.set("by-value", names.clone()).await.unwrap();
    cache.set("str", "text").await.unwrap();
    assert!(cache.add("added", String::from("x")).await.unwrap());
    assert!(!cache.add("added", &"y").await.unwrap());
    cache
        .set_many([("m1".to_owned(), names.clone()), ("m2".to_owned(), Vec::new())])
        .await
        .unwrap();

    assert_eq!(cache.get::<Vec<String>>("by-ref").await.unwrap().as_ref(), Some(&names));
    assert_eq!(
        cache.get::<Vec<String>>("by-value").await.unwrap().as_ref(),
        Some(&names)
    );
    assert_eq!(cache.get::<String>("str").await.unwrap().as_deref(), Some("text"));
    assert_eq!(cache.get::<String>("added").await.unwrap().as_deref(), Some("x"));
    assert_eq!(cache.get::<Vec<String>>("m2").await.unwrap(), Some(Vec::new()));
    let produced = cache
        .get_or_set(String::from("lazy"), || async { 41 + 1 })
        .await
        .unwrap();
    assert_eq!(produced, 42);
}
