//! Entries that expire while the suite waits.
//!
//! With [`Time::Real`](crate::testkit::Time::Real) these sleep, so the runner starts them all at
//! once and they overlap: about five seconds in all. Each uses keys of its own for that reason.
//! Timeouts are whole seconds because Redis and memcached store whole seconds.

use std::time::Duration;

use futures::future::join;

use crate::testkit::{Subject, aliases};
use crate::{CacheError, Remaining, Timeout};

/// The short timeout the tests give entries.
const SHORT: Timeout = Timeout::Seconds(1.0);

/// How long until a [`SHORT`] entry is surely gone: memcached's clock ticks in whole seconds, so an
/// entry given one second may live for up to two.
const PAST_SHORT: Duration = Duration::from_millis(2100);

/// The timeout of an entry a test still acts on right after writing it (`touch`, `incr`): with
/// memcached's whole-second clock a [`SHORT`] entry can be gone before a call made a moment later
/// on a loaded machine arrives (seen: `incr` of a one-second entry found no key); one given two
/// seconds lives for at least one.
const BRIEF: Timeout = Timeout::Seconds(2.0);

/// How long until a [`BRIEF`] entry is surely gone.
const PAST_BRIEF: Duration = Duration::from_millis(3100);

/// `BaseCacheTests.test_expiration`: an expired key reads as missing, can be `add`ed again, and
/// `has_key` is false for it.
pub async fn expiration(s: &Subject) {
    let cache = s.cache();
    for key in ["expire1", "expire2", "expire3"] {
        cache.set(key, "very quickly").timeout(SHORT).await.unwrap();
    }
    s.wait(PAST_SHORT).await;
    assert_eq!(cache.get::<String>("expire1").await.unwrap(), None);
    assert!(cache.add("expire2", "newvalue").await.unwrap());
    assert_eq!(
        cache.get::<String>("expire2").await.unwrap().as_deref(),
        Some("newvalue")
    );
    assert!(!cache.has_key("expire3").await.unwrap());
}

/// `BaseCacheTests.test_touch`: `touch` replaces the timeout, with a given one or the alias default.
pub async fn touch(s: &Subject) {
    let cache = s.cache();
    let given = async {
        cache.set("touch1", "very quickly").timeout(BRIEF).await.unwrap();
        assert!(cache.touch("touch1").timeout(Timeout::secs(5)).await.unwrap());
        // Past the original two seconds: only the new timeout keeps it.
        s.wait(PAST_BRIEF).await;
        assert!(
            cache.has_key("touch1").await.unwrap(),
            "touch did not extend the timeout"
        );
        // Past the five seconds, with memcached's second of slack.
        s.wait(Duration::from_millis(3100)).await;
        assert!(
            !cache.has_key("touch1").await.unwrap(),
            "touch's timeout was not applied"
        );
    };
    let default = async {
        cache.set("touch2", "very quickly").timeout(BRIEF).await.unwrap();
        assert!(cache.touch("touch2").await.unwrap());
        s.wait(PAST_BRIEF).await;
        assert!(
            cache.has_key("touch2").await.unwrap(),
            "touch without a timeout must apply the alias default"
        );
    };
    // With a manual clock the two must not move time under each other: run them one after the other.
    if s.time_is_manual() {
        given.await;
        default.await;
    } else {
        join(given, default).await;
    }
    assert!(!cache.touch("touch_nonexistent").await.unwrap());
}

/// `BaseCacheTests.test_set_many_expiration`: set_many's timeout applies to every key.
pub async fn set_many_expiration(s: &Subject) {
    let cache = s.cache();
    cache
        .set_many([("many1", "spam"), ("many2", "eggs")])
        .timeout(SHORT)
        .await
        .unwrap();
    s.wait(PAST_SHORT).await;
    assert_eq!(cache.get::<String>("many1").await.unwrap(), None);
    assert_eq!(cache.get::<String>("many2").await.unwrap(), None);
}

/// `BaseCacheTests.test_forever_timeout` (the waiting part): `touch` with "never" removes the timeout.
pub async fn forever_timeout_touch(s: &Subject) {
    let cache = s.cache();
    cache.set("forever5", "belgian fries").timeout(BRIEF).await.unwrap();
    assert!(cache.touch("forever5").timeout(Timeout::Never).await.unwrap());
    s.wait(PAST_BRIEF).await;
    assert_eq!(
        cache.get::<String>("forever5").await.unwrap().as_deref(),
        Some("belgian fries")
    );
}

/// `LocMemCacheTests.test_incr_decr_timeout`: incr and decr keep the entry's timeout (Django's
/// base implementation re-sets with the default; locmem, Redis and memcached keep it).
pub async fn incr_keeps_timeout(s: &Subject) {
    let cache = s.cache();
    cache.set("incr_ttl", &1).timeout(BRIEF).await.unwrap();
    assert_eq!(cache.incr("incr_ttl", 1).await.unwrap(), 2);
    assert_eq!(cache.decr("incr_ttl", 1).await.unwrap(), 1);
    s.wait(PAST_BRIEF).await;
    assert_eq!(
        cache.get::<i64>("incr_ttl").await.unwrap(),
        None,
        "incr/decr must keep the entry's timeout"
    );
}

/// No Django test (Django's `incr_version` is a get, a set and a delete): `incr_version` re-sets the value
/// with the alias' default timeout, whatever the entry had: a short-lived entry outlives its two
/// seconds, a never-expiring one gets the default.
pub async fn incr_version_uses_default_timeout(s: &Subject) {
    let cache = s.cache();
    cache.set("iv_short", &1).timeout(BRIEF).await.unwrap();
    assert_eq!(cache.incr_version("iv_short", 1).await.unwrap(), 2);

    let one_second = s.alias(aliases::ONE_SECOND_TIMEOUT);
    one_second.set("iv_never", &1).timeout(Timeout::Never).await.unwrap();
    assert_eq!(one_second.incr_version("iv_never", 1).await.unwrap(), 2);

    s.wait(PAST_BRIEF).await;
    assert_eq!(
        cache.get::<i64>("iv_short").version(2).await.unwrap(),
        Some(1),
        "the moved value must get the default timeout (300 s), not keep its two seconds"
    );
    assert_eq!(
        one_second.get::<i64>("iv_never").version(2).await.unwrap(),
        None,
        "the moved value must get the alias default (1 s), not keep \"never\""
    );
}

/// No Django test (a deliberate difference: Django's locmem keeps expired entries until read): an expired
/// entry is missing to every operation — `delete` and `touch` yield false, `get_many` leaves it out, `incr`
/// reports the key not found.
pub async fn expired_entry_is_missing(s: &Subject) {
    let cache = s.cache();
    for key in ["gone_delete", "gone_touch", "gone_many", "gone_incr"] {
        cache.set(key, &1).timeout(SHORT).await.unwrap();
    }
    s.wait(PAST_SHORT).await;
    assert!(
        !cache.delete("gone_delete").await.unwrap(),
        "delete of an expired entry"
    );
    assert!(!cache.touch("gone_touch").await.unwrap(), "touch of an expired entry");
    assert!(
        !cache.has_key("gone_touch").await.unwrap(),
        "touch revived an expired entry"
    );
    assert!(cache.get_many::<_, i64>(&["gone_many"]).await.unwrap().is_empty());
    assert_err!(
        cache.incr("gone_incr", 1).await,
        CacheError::KeyNotFound { key } if key == "gone_incr"
    );
}

/// No Django test: what `get_with_remaining` and `get_many_with_remaining` report (for a near tier
/// kept in front of the backend) agrees with `get`, in the keys' order, and a lifetime, when the
/// backend can tell it, is never longer than the entry was written with.
pub async fn remaining_lifetimes_agree_with_reads(s: &Subject) {
    let cache = s.cache();
    cache
        .set("remaining1", "thirty")
        .timeout(Timeout::secs(30))
        .await
        .unwrap();
    cache
        .set("remaining2", "forever")
        .timeout(Timeout::Never)
        .await
        .unwrap();
    let keys = ["remaining1", "remaining_missing", "remaining2"].map(|key| cache.make_key(key, None));
    let backend = cache.backend();
    let within = |left: &Remaining, written: Option<Duration>| match (left, written) {
        (Remaining::Unknown, _) | (Remaining::Never, None) => true,
        (Remaining::For(left), Some(written)) => !left.is_zero() && *left <= written,
        _ => false,
    };
    let lifetimes = [Some(Duration::from_secs(30)), None, None];
    let mut one_by_one = Vec::new();
    for key in &keys {
        one_by_one.push(backend.get_with_remaining(key).await.unwrap());
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let together = backend.get_many_with_remaining(&keys).await.unwrap();
    for found in [one_by_one, together] {
        assert_eq!(found.len(), 3);
        assert_eq!(found[1], None, "a missing key has no value");
        for at in [0, 2] {
            let (value, left) = found[at].as_ref().expect("stored");
            assert_eq!(
                Some(value),
                backend.get(keys[at]).await.unwrap().as_ref(),
                "{}",
                keys[at]
            );
            assert!(within(left, lifetimes[at]), "{}: {left:?}", keys[at]);
        }
    }
}
