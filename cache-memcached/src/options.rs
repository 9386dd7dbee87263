//! The alias' `options`: timeouts, the server's item size limit, the connections per server and
//! each server's circuit breaker.

use std::time::Duration;

use cache_core::option_values::{HasCircuit, MAX_TIMEOUT, OptionField};
use cache_core::{CacheError, CircuitSettings, Options, Result};
use serde_json::Value;

/// How the backend talks to its servers.
///
/// Read from an alias' `options` with [`MemcachedOptions::from_options`]; set in code through
/// [`MemcachedBackend::builder`](crate::MemcachedBackend::builder). Non-exhaustive so that options
/// can be added: start from `MemcachedOptions::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemcachedOptions {
    /// How long opening a connection may take (DNS included) before the operation fails with a
    /// retryable error. One second by default.
    pub connect_timeout: Duration,
    /// How long a request may wait for its complete response, from the moment it is queued on a
    /// connection. Past it the operation fails with a retryable error and the connection is
    /// closed (a server that doesn't answer in time is not trusted with the next request). One
    /// second by default.
    pub response_timeout: Duration,
    /// The servers' item size limit in bytes: memcached's `-I` (`item_size_max` in its
    /// `stats settings`), 1 MiB by default. Values up to this less [`ITEM_OVERHEAD`] bytes are
    /// accepted; larger ones are refused before anything is sent.
    pub item_size_max: usize,
    /// Connections opened to each server, 2 by default. Each carries any number of concurrent
    /// requests, pipelined, so a few are enough; memcached gives each connection to one of its
    /// worker threads, so more than its `-t` gains little.
    pub pool_size: usize,
    /// Whether to set `TCP_NODELAY` on TCP connections (pymemcache's `no_delay`); on by default.
    /// Requests are already written in batches, so Nagle's algorithm only adds latency.
    pub no_delay: bool,
    /// Each server's circuit breaker: after `circuit_failures` consecutive timeouts or lost
    /// connections on one server, calls for its keys fail at once (`CircuitOpen`) for
    /// `circuit_cooldown`, then one call probes it. 5 failures and one second by default; 0
    /// failures turns it off. The other servers' keys are not affected.
    pub circuit: CircuitSettings,
}

/// Bytes of an item memcached spends on its header and the key: a value is accepted when it is at
/// most `item_size_max - ITEM_OVERHEAD` bytes long.
///
/// Measured on memcached 1.6: with a 250-byte key the largest value that fits a 1 MiB item is
/// 1 048 267 bytes (309 bytes of overhead); 512 leaves room for the header to grow. Refusing in the
/// client matters because memcached, refusing a `set` as too large, also deletes the value stored
/// before.
pub const ITEM_OVERHEAD: usize = 512;

impl Default for MemcachedOptions {
    fn default() -> Self {
        MemcachedOptions {
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            item_size_max: 1024 * 1024,
            pool_size: 2,
            no_delay: true,
            circuit: CircuitSettings::default(),
        }
    }
}

/// Every option, by the name an alias' `options` gives it.
const FIELDS: &[OptionField<MemcachedOptions>] = &[
    OptionField::new(&["connect_timeout"], |options, value| {
        options.connect_timeout = value.seconds()?;
        Ok(())
    }),
    // `timeout` is pymemcache's (and so Django's) name; `response_timeout` matches cache-redis.
    OptionField::new(&["timeout", "response_timeout"], |options, value| {
        options.response_timeout = value.seconds()?;
        Ok(())
    }),
    OptionField::new(&["item_size_max"], |options, value| {
        let bytes = match value.value() {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => parse_size(text.trim()),
            _ => None,
        };
        options.item_size_max = bytes
            .and_then(|bytes| usize::try_from(bytes).ok())
            .filter(|bytes| ITEM_SIZES.contains(bytes))
            .ok_or_else(|| {
                value
                    .invalid("a size in bytes from 2 KiB to 1 GiB: a whole number or one ending in `k` or `m` (\"2m\")")
            })?;
        Ok(())
    }),
    // pymemcache's `max_pool_size` caps the connections its pool opens to a server; here they are
    // opened up front, each carrying any number of concurrent requests.
    OptionField::new(&["pool_size", "max_pool_size"], |options, value| {
        let size = value.whole_number(1..=MAX_POOL_SIZE as u64, POOL_SIZE)?;
        // Within 1..=64, so it fits.
        options.pool_size = size as usize;
        Ok(())
    }),
    OptionField::new(&["no_delay"], |options, value| {
        options.no_delay = value.flag()?;
        Ok(())
    }),
    OptionField::circuit_failures(&["circuit_failures"]),
    OptionField::circuit_cooldown(&["circuit_cooldown"]),
    // pymemcache's options that Django users set, and pylibmc's.
    OptionField::new(&["use_pooling"], |options, value| {
        // Without pooling pymemcache keeps one connection per server.
        if !value.flag()? {
            options.pool_size = 1;
        }
        Ok(())
    }),
    OptionField::new(&["default_noreply"], |_, value| match value.flag()? {
        false => Ok(()),
        true => Err(value.refuse(
            "every write waits for memcached's answer here, so a failed `set` is reported rather than lost \
             (Django's PyMemcacheCache sets `default_noreply = false` itself); remove it",
        )),
    }),
    OptionField::new(&["allow_unicode_keys"], |_, value| match value.flag()? {
        true => Ok(()),
        false => Err(value.refuse(
            "keys are always sent as UTF-8 here (Django's PyMemcacheCache sets `allow_unicode_keys = true` \
             itself); remove it",
        )),
    }),
    OptionField::new(&["binary"], |_, value| match value.flag()? {
        false => Ok(()),
        true => {
            Err(value.refuse("this client speaks memcached's text protocol, which every memcached serves; remove it"))
        }
    }),
    OptionField::new(&["behaviors"], |options, value| value.read_table(options, BEHAVIORS)),
    OptionField::refused(
        &["serde", "serializer", "deserializer"],
        "values are encoded by the alias' `codec` (JSON, with integers stored as plain decimals memcached \
         can `incr`); remove it",
    ),
    OptionField::refused(&["retry_attempts", "retry_timeout", "dead_timeout"], CIRCUIT),
    OptionField::refused(
        &["username", "password"],
        "SASL authentication isn't supported by this client; remove it (and reach memcached over a private \
         network or a unix socket)",
    ),
];

impl HasCircuit for MemcachedOptions {
    fn circuit_settings(&mut self) -> &mut CircuitSettings {
        &mut self.circuit
    }
}

/// What replaces pymemcache's and pylibmc's dead-server handling.
const CIRCUIT: &str = "each server has a circuit breaker instead: write `circuit_failures` (consecutive \
                       failures before its calls fail at once, 5 by default) and `circuit_cooldown` (seconds \
                       before one call probes it again, 1 by default), and remove this option";

/// pylibmc's `behaviors`: libmemcached's client settings.
const BEHAVIORS: &[OptionField<MemcachedOptions>] = &[
    OptionField::new(&["tcp_nodelay"], |options, value| {
        options.no_delay = value.flag()?;
        Ok(())
    }),
    // libmemcached's connect timeout is in milliseconds.
    OptionField::new(&["connect_timeout"], |options, value| {
        let milliseconds = value.whole_number(
            1..=MAX_TIMEOUT.as_millis() as u64,
            "a whole number of milliseconds from 1 to 86400000 (pylibmc's unit)",
        )?;
        options.connect_timeout = Duration::from_millis(milliseconds);
        Ok(())
    }),
    OptionField::refused(
        &["ketama", "ketama_weighted", "ketama_hash", "hash", "distribution"],
        "keys are placed by pymemcache's rendezvous hash, so this client and Django's PyMemcacheCache agree \
         on where each key lives; remove it",
    ),
    OptionField::refused(
        &["no_block"],
        "requests never block a thread here (they are pipelined on async connections); remove it",
    ),
    OptionField::refused(
        &[
            "remove_failed",
            "retry_timeout",
            "dead_timeout",
            "failure_limit",
            "auto_eject",
        ],
        CIRCUIT,
    ),
    OptionField::refused(
        &["send_timeout", "receive_timeout", "_poll_timeout"],
        "write `timeout` in `options` instead, in seconds (how long a request may wait for its answer), and \
         remove it",
    ),
];

impl MemcachedOptions {
    /// The largest value accepted: `item_size_max - ITEM_OVERHEAD`.
    pub fn max_value_bytes(&self) -> usize {
        self.item_size_max.saturating_sub(ITEM_OVERHEAD)
    }

    /// Reads the options of an alias. Unknown options are refused, naming the ones accepted.
    ///
    /// - `connect_timeout`, `timeout`: seconds, above 0 and at most a day; a number or a string
    ///   holding one (`0.25`, `"2"`).
    /// - `item_size_max`: bytes, as memcached's `-I` takes it: a whole number, or one with a `k` or
    ///   `m` suffix (`"2m"`, `"512k"`); from 2 KiB to 1 GiB.
    /// - `pool_size`: a whole number from 1 to 64.
    /// - `no_delay`: a boolean.
    /// - `circuit_failures`: a whole number from 0 (no circuit breaker) to 10000.
    /// - `circuit_cooldown`: seconds, above 0 and at most a day.
    pub fn from_options(alias: &str, options: &Options) -> Result<MemcachedOptions> {
        let read = options.read(alias, FIELDS)?;
        let given = |name: &str| options.get(name).is_some_and(|value| !value.is_null());
        let no_pooling = options
            .get("use_pooling")
            .is_some_and(|value| value.as_bool() == Some(false));
        if no_pooling && (given("pool_size") || given("max_pool_size")) {
            return Err(CacheError::config(
                Some(alias),
                "options.use_pooling",
                "`use_pooling = false` means one connection per server, which contradicts the pool size given; \
                 keep one of them",
            ));
        }
        Ok(read)
    }

    /// The rules [`MemcachedOptions::from_options`] enforces, for options set in code: the field
    /// at fault and what to give instead.
    pub(crate) fn check(&self) -> std::result::Result<(), (String, String)> {
        let refuse = |field: &str, expected: &str, got: String| {
            Err((format!("options.{field}"), format!("expected {expected}; got {got}")))
        };
        for (field, duration) in [
            ("connect_timeout", self.connect_timeout),
            ("response_timeout", self.response_timeout),
        ] {
            if duration.is_zero() || duration > MAX_TIMEOUT {
                return refuse(field, "a duration above 0 and at most a day", format!("{duration:?}"));
            }
        }
        if !ITEM_SIZES.contains(&self.item_size_max) {
            return refuse(
                "item_size_max",
                "from 2 KiB to 1 GiB (memcached's `-I` range)",
                self.item_size_max.to_string(),
            );
        }
        if !(1..=MAX_POOL_SIZE).contains(&self.pool_size) {
            return refuse("pool_size", POOL_SIZE, self.pool_size.to_string());
        }
        if let Some((field, message)) = self.circuit.check() {
            return Err((field.to_owned(), message));
        }
        Ok(())
    }
}

/// memcached's `-I` range: 2 KiB to 1 GiB.
const ITEM_SIZES: std::ops::RangeInclusive<usize> = 2 * 1024..=1024 * 1024 * 1024;
const MAX_POOL_SIZE: usize = 64;
const POOL_SIZE: &str = "a whole number from 1 to 64";

/// Bytes as memcached's `-I` reads them: digits with an optional `k`/`m` suffix (either case).
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 1024),
        b'm' | b'M' => (&text[..text.len() - 1], 1024 * 1024),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<MemcachedOptions> {
        match value {
            Value::Object(map) => MemcachedOptions::from_options("a", &Options::from_map(map)),
            _ => unreachable!("options are an object"),
        }
    }

    fn error(value: Value) -> String {
        parse(value).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let options = parse(json!({})).unwrap();
        assert_eq!(options, MemcachedOptions::default());
        assert_eq!(options.connect_timeout, Duration::from_secs(1));
        assert_eq!(options.response_timeout, Duration::from_secs(1));
        assert_eq!(options.item_size_max, 1024 * 1024);
        assert_eq!(options.max_value_bytes(), 1024 * 1024 - 512);
        assert_eq!(options.pool_size, 2);
        assert!(options.no_delay);
        assert_eq!(options.circuit.failures(), 5);
        assert_eq!(options.circuit.cool_down(), Duration::from_secs(1));
        assert_eq!(parse(json!({"timeout": null})).unwrap(), MemcachedOptions::default());
    }

    #[test]
    fn every_option() {
        let options = parse(json!({
            "connect_timeout": 0.25,
            "timeout": "2",
            "item_size_max": "2m",
            "pool_size": 4,
            "no_delay": false,
            "circuit_failures": 3,
            "circuit_cooldown": "0.5",
        }))
        .unwrap();
        assert_eq!(options.circuit, CircuitSettings::new(3, Duration::from_millis(500)));
        assert!(!parse(json!({"circuit_failures": "0"})).unwrap().circuit.is_enabled());
        assert_eq!(options.connect_timeout, Duration::from_millis(250));
        assert_eq!(options.response_timeout, Duration::from_secs(2));
        assert_eq!(options.item_size_max, 2 * 1024 * 1024);
        assert_eq!(options.pool_size, 4);
        assert!(!options.no_delay);
        assert_eq!(parse(json!({"item_size_max": 4096})).unwrap().item_size_max, 4096);
        assert_eq!(
            parse(json!({"item_size_max": "512K"})).unwrap().item_size_max,
            512 * 1024
        );
        assert_eq!(parse(json!({"pool_size": "1"})).unwrap().pool_size, 1);
    }

    #[test]
    fn pymemcache_and_pylibmc_options() {
        let options = parse(json!({
            "max_pool_size": 4,
            "default_noreply": false,
            "allow_unicode_keys": true,
            "binary": false,
            "behaviors": {"TCP_NODELAY": false, "connect_timeout": 250},
        }))
        .unwrap();
        assert_eq!(options.pool_size, 4);
        assert!(!options.no_delay, "pylibmc's tcp_nodelay behavior");
        assert_eq!(options.connect_timeout, Duration::from_millis(250));
        assert_eq!(parse(json!({"use_pooling": false})).unwrap().pool_size, 1);
        assert_eq!(parse(json!({"use_pooling": true})).unwrap().pool_size, 2);
        assert!(error(json!({"use_pooling": false, "max_pool_size": 4})).contains("keep one of them"));
    }

    #[test]
    fn other_clients_options_are_refused_with_what_to_write() {
        for (options, field, fix) in [
            (
                json!({"default_noreply": true}),
                "default_noreply",
                "every write waits for memcached's answer",
            ),
            (
                json!({"allow_unicode_keys": false}),
                "allow_unicode_keys",
                "keys are always sent as UTF-8",
            ),
            (json!({"binary": true}), "binary", "text protocol"),
            (json!({"serde": "x"}), "serde", "alias' `codec`"),
            (json!({"dead_timeout": 60}), "dead_timeout", "write `circuit_failures`"),
            (
                json!({"behaviors": {"ketama": true}}),
                "behaviors.ketama",
                "rendezvous hash",
            ),
            (
                json!({"behaviors": {"no_block": true}}),
                "behaviors.no_block",
                "never block a thread",
            ),
            (
                json!({"behaviors": {"receive_timeout": 1}}),
                "behaviors.receive_timeout",
                "write `timeout`",
            ),
            (
                json!({"behaviors": {"verify_key": 1}}),
                "behaviors.verify_key",
                "unknown option; the options accepted here",
            ),
            (json!({"password": "x"}), "password", "SASL"),
        ] {
            let message = error(options.clone());
            assert!(
                message.starts_with(&format!("cache alias `a`: options.{field}: ")) && message.contains(fix),
                "{options}: {message}"
            );
        }
        // Every problem at once.
        let all = error(json!({"binary": true, "serde": 1, "pool_size": 0}));
        assert!(all.starts_with("3 problems in the cache configuration:"), "{all}");
    }

    #[test]
    fn unknown_options_are_refused() {
        assert_eq!(
            error(json!({"max_entries": 30})),
            "cache alias `a`: options.max_entries: unknown option; the options this backend accepts are \
             `connect_timeout`, `timeout`, `response_timeout`, `item_size_max`, `pool_size`, `max_pool_size`, \
             `no_delay`, `circuit_failures`, `circuit_cooldown`, `use_pooling`, `default_noreply`, \
             `allow_unicode_keys`, `binary`, `behaviors`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`"
        );
    }

    #[test]
    fn bad_values_name_the_option() {
        for (options, field) in [
            (json!({"timeout": 0}), "timeout"),
            (json!({"timeout": -1}), "timeout"),
            (json!({"timeout": "soon"}), "timeout"),
            (json!({"timeout": 86401}), "timeout"),
            (json!({"connect_timeout": true}), "connect_timeout"),
            (json!({"item_size_max": 1024}), "item_size_max"),
            (json!({"item_size_max": "2g"}), "item_size_max"),
            (json!({"item_size_max": "m"}), "item_size_max"),
            (json!({"item_size_max": "2048m"}), "item_size_max"),
            (json!({"item_size_max": 1.5}), "item_size_max"),
            (json!({"pool_size": 0}), "pool_size"),
            (json!({"pool_size": 65}), "pool_size"),
            (json!({"pool_size": -1}), "pool_size"),
            (json!({"no_delay": "yes"}), "no_delay"),
            (json!({"circuit_failures": -1}), "circuit_failures"),
            (json!({"circuit_failures": 10001}), "circuit_failures"),
            (json!({"circuit_failures": 1.5}), "circuit_failures"),
            (json!({"circuit_cooldown": 0}), "circuit_cooldown"),
        ] {
            let message = error(options.clone());
            assert!(
                message.starts_with(&format!("cache alias `a`: options.{field}: expected ")),
                "{options}: {message}"
            );
        }
        assert_eq!(
            error(json!({"timeout": "soon"})),
            "cache alias `a`: options.timeout: expected a number of seconds above 0 and at most a day (86400); \
             got \"soon\""
        );
    }

    #[test]
    fn options_built_in_code_are_checked() {
        let zero = MemcachedOptions {
            response_timeout: Duration::ZERO,
            ..MemcachedOptions::default()
        };
        assert_eq!(zero.check().unwrap_err().0, "options.response_timeout");
        let tiny = MemcachedOptions {
            item_size_max: 100,
            ..MemcachedOptions::default()
        };
        assert_eq!(tiny.check().unwrap_err().0, "options.item_size_max");
        let instant = MemcachedOptions {
            circuit: CircuitSettings::new(5, Duration::ZERO),
            ..MemcachedOptions::default()
        };
        assert_eq!(instant.check().unwrap_err().0, "options.circuit_cooldown");
        assert!(MemcachedOptions::default().check().is_ok());
    }
}
