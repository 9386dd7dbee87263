//! How per-call and alias-default timeouts resolve, checked without waiting for anything to expire
//! (except with a manual clock, which costs nothing to move).

use std::time::Duration;

use crate::Timeout;
use crate::testkit::{Subject, Time, aliases};

const DAY: u64 = 24 * 60 * 60;

/// Seconds memcached still reads as relative; one more and Django converts to an absolute time.
const THIRTY_DAYS: f64 = (30 * DAY) as f64;

/// `BaseCacheTests.test_zero_timeout`: a zero timeout stores nothing readable. `set`
/// deletes any old value, `add` yields true for a free key (false for a taken one, keeping it),
/// `set_many` yields no failed keys, `touch` yields true and removes the key.
pub async fn zero_timeout(s: &Subject) {
    let cache = s.cache();
    let zero = Timeout::Seconds(0.0);
    cache.set("key1", "eggs").timeout(zero).await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap(), None);

    assert!(cache.add("key2", "ham").timeout(zero).await.unwrap());
    assert_eq!(cache.get::<String>("key2").await.unwrap(), None);

    let failed = cache
        .set_many([("key3", "sausage"), ("key4", "lobster bisque")])
        .timeout(zero)
        .await
        .unwrap();
    assert!(failed.is_empty());
    assert_eq!(cache.get::<String>("key3").await.unwrap(), None);
    assert_eq!(cache.get::<String>("key4").await.unwrap(), None);

    cache
        .set("key5", "belgian fries")
        .timeout(Timeout::secs(5))
        .await
        .unwrap();
    assert!(cache.touch("key5").timeout(zero).await.unwrap());
    assert_eq!(cache.get::<String>("key5").await.unwrap(), None);

    // As in Django: the old value goes too, and add on a taken key keeps it.
    cache.set("key6", &1).await.unwrap();
    cache.set("key6", &2).timeout(zero).await.unwrap();
    assert_eq!(cache.get::<i64>("key6").await.unwrap(), None);
    cache.set("key7", &1).await.unwrap();
    assert!(!cache.add("key7", &2).timeout(zero).await.unwrap());
    assert_eq!(cache.get::<i64>("key7").await.unwrap(), Some(1));
}

/// No Django test (Django's backends treat it so): a negative timeout behaves as zero, for set, add, touch
/// and set_many.
pub async fn negative_timeout(s: &Subject) {
    let cache = s.cache();
    cache.set("neg1", "eggs").timeout(Timeout::Seconds(-1.0)).await.unwrap();
    assert_eq!(cache.get::<String>("neg1").await.unwrap(), None);

    cache.set("neg2", "old").await.unwrap();
    cache.set("neg2", "new").timeout(Timeout::Seconds(-1.0)).await.unwrap();
    assert_eq!(
        cache.get::<String>("neg2").await.unwrap(),
        None,
        "the old value goes too"
    );

    assert!(cache.add("neg3", &1).timeout(Timeout::Seconds(-5.0)).await.unwrap());
    assert_eq!(cache.get::<i64>("neg3").await.unwrap(), None);

    cache.set("neg4", &1).await.unwrap();
    assert!(cache.touch("neg4").timeout(Timeout::Seconds(-1.0)).await.unwrap());
    assert_eq!(cache.get::<i64>("neg4").await.unwrap(), None);

    let failed = cache
        .set_many([("neg5", 1), ("neg6", 2)])
        .timeout(Timeout::Seconds(-1.0))
        .await
        .unwrap();
    assert!(failed.is_empty());
    assert!(!cache.has_key("neg5").await.unwrap());
    assert!(!cache.has_key("neg6").await.unwrap());
}

/// `BaseCacheTests.test_float_timeout`: a fractional timeout stores the value.
pub async fn float_timeout(s: &Subject) {
    let cache = s.cache();
    cache
        .set("key1", "spam")
        .timeout(Timeout::Seconds(100.2))
        .await
        .unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap().as_deref(), Some("spam"));
}

/// `BaseCacheTests.test_long_timeout` (#12399): past memcached's 30-day limit the value is still
/// readable through set, add and set_many. With a manual clock: still there after 30 days, gone
/// after its 30 days and a second.
pub async fn long_timeout(s: &Subject) {
    let cache = s.cache();
    let long = Timeout::Seconds(THIRTY_DAYS + 1.0);
    cache.set("key1", "eggs").timeout(long).await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap().as_deref(), Some("eggs"));
    assert!(cache.add("key2", "ham").timeout(long).await.unwrap());
    assert_eq!(cache.get::<String>("key2").await.unwrap().as_deref(), Some("ham"));
    cache
        .set_many([("key3", "sausage"), ("key4", "lobster bisque")])
        .timeout(long)
        .await
        .unwrap();
    assert_eq!(cache.get::<String>("key3").await.unwrap().as_deref(), Some("sausage"));
    assert_eq!(
        cache.get::<String>("key4").await.unwrap().as_deref(),
        Some("lobster bisque")
    );

    if let Time::Manual(_) = s.time() {
        s.wait(Duration::from_secs(30 * DAY)).await;
        assert!(cache.has_key("key1").await.unwrap(), "alive 1 s before its end");
        s.wait(Duration::from_secs(2)).await;
        for key in ["key1", "key2", "key3", "key4"] {
            assert!(!cache.has_key(key).await.unwrap(), "{key} outlived its timeout");
        }
    }
}

/// `BaseCacheTests.test_forever_timeout` (the part without waiting): `Timeout::Never` stores through
/// set, add and set_many, and `add` on a taken key yields false and keeps the value. With a manual
/// clock: still there ten years later.
pub async fn forever_timeout(s: &Subject) {
    let cache = s.cache();
    cache.set("key1", "eggs").timeout(Timeout::Never).await.unwrap();
    assert_eq!(cache.get::<String>("key1").await.unwrap().as_deref(), Some("eggs"));
    assert!(cache.add("key2", "ham").timeout(Timeout::Never).await.unwrap());
    assert_eq!(cache.get::<String>("key2").await.unwrap().as_deref(), Some("ham"));
    assert!(!cache.add("key1", "new eggs").timeout(Timeout::Never).await.unwrap());
    assert_eq!(cache.get::<String>("key1").await.unwrap().as_deref(), Some("eggs"));
    cache
        .set_many([("key3", "sausage"), ("key4", "lobster bisque")])
        .timeout(Timeout::Never)
        .await
        .unwrap();
    assert_eq!(cache.get::<String>("key3").await.unwrap().as_deref(), Some("sausage"));

    if let Time::Manual(_) = s.time() {
        s.wait(Duration::from_secs(3650 * DAY)).await;
        for key in ["key1", "key2", "key3", "key4"] {
            assert!(cache.has_key(key).await.unwrap(), "{key} expired");
        }
    }
}

/// `BaseMemcachedTests.test_default_never_expiring_timeout` (#22845): an alias whose default timeout is
/// "never" stores for good.
pub async fn default_never_expiring_timeout(s: &Subject) {
    let cache = s.alias(aliases::NO_TIMEOUT);
    cache.set("infinite_foo", "bar").await.unwrap();
    assert_eq!(
        cache.get::<String>("infinite_foo").await.unwrap().as_deref(),
        Some("bar")
    );
    if let Time::Manual(_) = s.time() {
        s.wait(Duration::from_secs(400 * DAY)).await;
        assert!(cache.has_key("infinite_foo").await.unwrap());
    }
}

/// `BaseMemcachedTests.test_default_far_future_timeout`: a default timeout of a year (past memcached's 30-day
/// limit) stores. With a manual clock: there after 364 days, gone after 366.
pub async fn default_far_future_timeout(s: &Subject) {
    let cache = s.alias(aliases::ONE_YEAR_TIMEOUT);
    cache.set("future_foo", "bar").await.unwrap();
    assert_eq!(cache.get::<String>("future_foo").await.unwrap().as_deref(), Some("bar"));
    if let Time::Manual(_) = s.time() {
        s.wait(Duration::from_secs(364 * DAY)).await;
        assert!(cache.has_key("future_foo").await.unwrap());
        s.wait(Duration::from_secs(2 * DAY)).await;
        assert!(!cache.has_key("future_foo").await.unwrap());
    }
}

/// No Django test (Django's `TIMEOUT: 0`): an alias whose default timeout is 0 caches nothing: set stores nothing,
/// add yields true, set_many yields no failed keys, and get_or_set yields its value uncached.
pub async fn default_zero_timeout(s: &Subject) {
    let cache = s.alias(aliases::ZERO_TIMEOUT);
    cache.set("zero_foo", "bar").await.unwrap();
    assert_eq!(cache.get::<String>("zero_foo").await.unwrap(), None);
    assert!(cache.add("zero_foo", "bar").await.unwrap());
    assert_eq!(cache.get::<String>("zero_foo").await.unwrap(), None);
    assert!(cache.set_many([("zero_a", 1)]).await.unwrap().is_empty());
    assert_eq!(cache.get::<i64>("zero_a").await.unwrap(), None);
    let produced = cache.get_or_set("zero_gos", || async { 7i64 }).await.unwrap();
    assert_eq!(produced, 7);
    assert_eq!(cache.get::<i64>("zero_gos").await.unwrap(), None);
}

/// `BaseCacheTests.test_touch` (its last line), with a deliberate difference: `touch` yields whether the key
/// exists, with any timeout — including "never" on a key that already never expires, where Django's Redis
/// backend yields false.
pub async fn touch_returns_whether_key_exists(s: &Subject) {
    let cache = s.cache();
    assert!(!cache.touch("nonexistent").await.unwrap());
    assert!(!cache.touch("nonexistent").timeout(Timeout::Never).await.unwrap());

    cache.set("forever", &1).timeout(Timeout::Never).await.unwrap();
    assert!(cache.touch("forever").timeout(Timeout::Never).await.unwrap());
    assert!(cache.touch("forever").timeout(Timeout::Never).await.unwrap());
    assert!(cache.touch("forever").await.unwrap());
    assert!(cache.touch("forever").timeout(Timeout::secs(100)).await.unwrap());

    cache.set("expiring", &1).timeout(Timeout::secs(10)).await.unwrap();
    assert!(cache.touch("expiring").timeout(Timeout::Never).await.unwrap());
    assert!(cache.touch("expiring").timeout(Timeout::Never).await.unwrap());
    assert_eq!(
        cache.get::<i64>("expiring").await.unwrap(),
        Some(1),
        "touch keeps the value"
    );
}
