//! Values the codec can't encode, and stored bytes it can't decode: Django's pickling tests
//! (`BaseCacheTests.test_add_fail_on_pickleerror`, `test_set_fail_on_pickleerror`), where an unpicklable
//! value raises from `set` and `add`.

use bytes::Bytes;
use serde::{Deserialize, Serialize, Serializer};

use crate::CacheError;
use crate::testkit::Subject;

/// A value whose `Serialize` always fails: Django's `Unpicklable`.
#[derive(Debug, Deserialize)]
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("Unserializable refuses to be encoded"))
    }
}

/// `BaseCacheTests.test_add_fail_on_pickleerror`: `add` of a value that can't be encoded is a `Codec`
/// error, and nothing is stored.
pub async fn add_fail_on_codec_error(s: &Subject) {
    let cache = s.cache();
    assert_err!(
        cache.add("unpicklable", &Unserializable).await,
        CacheError::Codec { key, action: "encode", .. } if key == "unpicklable"
    );
    assert!(!cache.has_key("unpicklable").await.unwrap());
}

/// `BaseCacheTests.test_set_fail_on_pickleerror`: `set` of a value that can't be encoded is a `Codec`
/// error, and the old value stays.
pub async fn set_fail_on_codec_error(s: &Subject) {
    let cache = s.cache();
    cache.set("unpicklable", "old").await.unwrap();
    assert_err!(
        cache.set("unpicklable", &Unserializable).await,
        CacheError::Codec { key, action: "encode", .. } if key == "unpicklable"
    );
    assert_eq!(
        cache.get::<String>("unpicklable").await.unwrap().as_deref(),
        Some("old")
    );
}

/// The batch and computed forms of `test_add_fail_on_pickleerror` and `test_set_fail_on_pickleerror`:
/// `set_many` with one value that can't be encoded stores none of the batch; `get_or_set` whose value can't
/// be encoded stores nothing.
pub async fn codec_error_in_set_many_and_get_or_set(s: &Subject) {
    let cache = s.cache();
    let batch = [("fine", None), ("unpicklable", Some(Unserializable))];
    assert_err!(
        cache.set_many(batch).await,
        CacheError::Codec { key, action: "encode", .. } if key == "unpicklable"
    );
    assert!(
        !cache.has_key("fine").await.unwrap(),
        "a failed batch must store nothing"
    );

    assert_err!(
        cache.get_or_set("computed", || async { Unserializable }).await,
        CacheError::Codec { key, action: "encode", .. } if key == "computed"
    );
    assert!(!cache.has_key("computed").await.unwrap());
}

/// Reading stored bytes as a type they don't decode to is a `Codec` error naming the key, and
/// leaves the entry alone.
pub async fn decode_error(s: &Subject) {
    let cache = s.cache();
    cache
        .set_raw("not_json", Bytes::from_static(b"\xff not json"))
        .await
        .unwrap();
    assert_err!(
        cache.get::<i64>("not_json").await,
        CacheError::Codec { key, action: "decode", .. } if key == "not_json"
    );
    cache.set("a_number", &42).await.unwrap();
    assert_err!(
        cache.get::<String>("a_number").await,
        CacheError::Codec { key, action: "decode", .. } if key == "a_number"
    );
    assert_eq!(cache.get::<i64>("a_number").await.unwrap(), Some(42));
    assert_eq!(
        cache.get_raw("not_json").await.unwrap(),
        Some(Bytes::from_static(b"\xff not json"))
    );
}
