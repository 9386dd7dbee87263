//! The per-alias counters (Django has none): hits, misses, sets, deletes, server and caller errors.

use bytes::Bytes;

use crate::Metrics;
use crate::testkit::Subject;

/// The counters as one tuple, so a test compares them all at once: hits, misses, sets, deletes,
/// server errors, caller errors.
fn counted(metrics: Metrics) -> (u64, u64, u64, u64, u64, u64) {
    (
        metrics.hits(),
        metrics.misses(),
        metrics.sets(),
        metrics.deletes(),
        metrics.errors(),
        metrics.caller_errors(),
    )
}

/// No Django test: each operation counts what it did, on its own alias only. A read counts a hit or
/// a miss per key; `set`, a stored `add`, each `set_many` key and `incr` count a set; a `delete`
/// that removed something and each `delete_many` key count a delete; a value that can't be decoded
/// (after its hit) and an `incr` of a missing key are the caller's errors, not the server's.
pub async fn metrics_count_operations(s: &Subject) {
    let cache = s.cache();
    let other_alias = s.v2();
    let before = cache.metrics();
    let other_before = other_alias.metrics();

    cache.set("m_a", &1).await.unwrap(); // set
    cache.get::<i64>("m_a").await.unwrap().unwrap(); // hit
    assert_eq!(cache.get::<i64>("m_missing").await.unwrap(), None); // miss
    cache.get_raw("m_a").await.unwrap().unwrap(); // hit
    cache.get_many::<_, i64>(&["m_a", "m_missing"]).await.unwrap(); // hit, miss
    assert!(!cache.add("m_a", &2).await.unwrap()); // nothing
    assert!(cache.add("m_b", &2).await.unwrap()); // set
    cache.set_many([("m_c", 3), ("m_d", 4)]).await.unwrap(); // 2 sets
    cache.incr("m_a", 1).await.unwrap(); // set
    assert!(cache.delete("m_a").await.unwrap()); // delete
    assert!(!cache.delete("m_missing").await.unwrap()); // nothing
    cache.delete_many(&["m_c", "m_d"]).await.unwrap(); // 2 deletes
    cache.set_raw("m_bad", Bytes::from_static(b"not json")).await.unwrap(); // set
    cache.get::<i64>("m_bad").await.unwrap_err(); // hit, error
    cache.get_or_set("m_gos", || async { 1i64 }).await.unwrap(); // miss, set
    cache.get_or_set("m_gos", || async { 2i64 }).await.unwrap(); // hit
    cache.incr("m_missing", 1).await.unwrap_err(); // caller error

    assert_eq!(counted(cache.metrics().since(&before)), (5, 3, 7, 3, 0, 2));
    assert_eq!(other_alias.metrics(), other_before, "another alias' counters moved");
}

/// No Django test: `caller_errors` counts calls that returned an error of the caller's making, once
/// each, when they are awaited — a call built and dropped unawaited counts nothing.
pub async fn metrics_count_each_failed_call_once(s: &Subject) {
    let cache = s.cache();
    // JSON can't encode a map whose keys aren't strings.
    let unencodable: std::collections::HashMap<(i64, i64), i64> = [((1, 2), 3)].into();
    let before = cache.metrics().caller_errors();
    let server_errors_before = cache.metrics().errors();
    drop(cache.set("m_unencodable", &unencodable));
    drop(cache.set_many([("m_unencodable", &unencodable)]));
    assert_eq!(
        cache.metrics().caller_errors(),
        before,
        "calls never awaited count nothing"
    );
    cache.set("m_unencodable", &unencodable).await.unwrap_err();
    cache
        .set_many([("m_x", &unencodable), ("m_y", &unencodable)])
        .await
        .unwrap_err();
    assert_eq!(cache.metrics().caller_errors(), before + 2, "one error per failed call");
    assert_eq!(
        cache.metrics().errors(),
        server_errors_before,
        "an unencodable value is not the server's failure"
    );
}
