//! The alias' `options`: timeouts, what `clear()` removes, cluster mode, replica waits, read
//! batching, TLS, the circuit breakers, and the options of Django's Redis backend and of
//! django-redis, each read as what it means here or refused with what to write instead.

use std::path::PathBuf;
use std::time::Duration;

use cache_core::option_values::{HasCircuit, OptionField};
use cache_core::{CacheError, CircuitSettings, Options, Result};

/// What `clear()` removes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ClearMode {
    /// Only the keys this alias makes: `SCAN MATCH <key_prefix>:[-0-9]*` and `UNLINK` of what it
    /// finds (Redis glob characters in the prefix are escaped). Needs the default key function; an
    /// alias with a custom one gets an error from `clear()` that says which option to set.
    #[default]
    Prefix,
    /// The keys matching this Redis glob pattern (`SCAN MATCH <pattern>` + `UNLINK`): for aliases
    /// whose custom key function makes keys the prefix rule can't see.
    Pattern(String),
    /// Django's behaviour: `FLUSHDB`, every key of the logical database (on every master of a cluster),
    /// whoever wrote it.
    FlushDb,
}

/// How a Redis alias connects and behaves, read from its `options` with
/// [`RedisOptions::from_options`]; set in code through
/// [`RedisBackend::builder`](crate::RedisBackend::builder). Non-exhaustive so that options can be
/// added: start from `RedisOptions::default()`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RedisOptions {
    /// How long one attempt to open a connection (TCP, TLS, `AUTH`, `SELECT`) may take.
    pub connect_timeout: Duration,
    /// How long one cache operation may take in all, waiting for a connection included; past it the
    /// call fails with a retryable error.
    pub response_timeout: Duration,
    /// What `clear()` removes.
    pub clear: ClearMode,
    /// Every location is a seed node of one Redis Cluster (instead of writer + readers).
    pub cluster: bool,
    /// After every write, wait (`WAIT <readers> <response_timeout>`, in the same round trip) until
    /// every reader has the write, so a read that follows sees it. Needs at least one reader.
    pub wait_for_replicas: bool,
    /// Send concurrent `get`s to one server as one `MGET` (see the crate docs, "Batched reads").
    /// Off: every `get` is a `GET` of its own.
    pub batch_reads: bool,
    /// A PEM file of the certificate authorities that sign the servers' certificates, for
    /// `rediss://` locations whose CA isn't in the system's store (needs the `tls` feature).
    pub tls_ca_file: Option<PathBuf>,
    /// Each server's circuit breaker (the writer's, each reader's; a cluster has one for its whole
    /// connection): after `circuit_failures` consecutive timeouts or lost connections, calls to
    /// that server fail at once (`CircuitOpen`) for `circuit_cooldown`, then one call probes it.
    /// 5 failures and one second by default; 0 failures turns it off.
    pub circuit: CircuitSettings,
    /// The password sent to every server whose URL has none (django-redis' `PASSWORD`, for a
    /// password that isn't URL-safe). Shown as `***` by `Debug`.
    pub password: Option<Password>,
    /// The logical database selected on every server whose URL selects none (Django's `db`
    /// option, redis-py's `db`).
    pub db: Option<i64>,
}

/// A password, kept out of `Debug` output and messages.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl RedisOptions {
    /// The default `connect_timeout`: one second.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    /// The default `response_timeout`: one second.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

    /// Reads an alias' options. Unknown options are refused with the alias and the option named
    /// (Django hands them to redis-py, which fails at the first connection).
    ///
    /// Timeouts are seconds: a number or a string holding one, greater than zero. The redis-py
    /// names `socket_connect_timeout` and `socket_timeout` are accepted for `connect_timeout` and
    /// `response_timeout`, so a Django `OPTIONS` dict using them loads as it is.
    pub fn from_options(alias: &str, options: &Options) -> Result<RedisOptions> {
        let read = options.read(alias, FIELDS)?;
        let given = |name: &str| options.get(name).is_some_and(|value| !value.is_null());
        if given("clear") && given("clear_pattern") {
            return Err(CacheError::config(
                Some(alias),
                "options.clear_pattern",
                "`clear_pattern` replaces `clear`: give one of them (`clear_pattern` alone scans that pattern, \
                 `clear = \"prefix\"` scans this alias' key prefix, `clear = \"flushdb\"` empties the database)",
            ));
        }
        Ok(read)
    }
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            response_timeout: Self::DEFAULT_RESPONSE_TIMEOUT,
            clear: ClearMode::Prefix,
            cluster: false,
            wait_for_replicas: false,
            batch_reads: true,
            tls_ca_file: None,
            circuit: CircuitSettings::default(),
            password: None,
            db: None,
        }
    }
}

/// Every option, by the names an alias' `options` gives it (redis-py's among them).
const FIELDS: &[OptionField<RedisOptions>] = &[
    OptionField::new(&["connect_timeout", "socket_connect_timeout"], |options, value| {
        options.connect_timeout = value.seconds()?;
        Ok(())
    }),
    OptionField::new(&["response_timeout", "socket_timeout"], |options, value| {
        options.response_timeout = value.seconds()?;
        Ok(())
    }),
    OptionField::new(&["clear"], |options, value| {
        options.clear = match value.value().as_str() {
            Some(mode) if mode.eq_ignore_ascii_case("prefix") => ClearMode::Prefix,
            Some(mode) if mode.eq_ignore_ascii_case("flushdb") => ClearMode::FlushDb,
            _ => return Err(value.invalid("\"prefix\" or \"flushdb\"")),
        };
        Ok(())
    }),
    OptionField::new(&["clear_pattern"], |options, value| {
        let pattern = value.text("a non-empty Redis glob pattern such as \"myapp:*\"")?;
        options.clear = ClearMode::Pattern(pattern.to_owned());
        Ok(())
    }),
    OptionField::new(&["cluster"], |options, value| {
        options.cluster = value.flag()?;
        Ok(())
    }),
    OptionField::new(&["wait_for_replicas"], |options, value| {
        options.wait_for_replicas = value.flag()?;
        Ok(())
    }),
    OptionField::new(&["batch_reads"], |options, value| {
        options.batch_reads = value.flag()?;
        Ok(())
    }),
    OptionField::new(&["tls_ca_file"], |options, value| {
        options.tls_ca_file = Some(PathBuf::from(value.text("the path of a PEM file")?));
        Ok(())
    }),
    OptionField::circuit_failures(&["circuit_failures"]),
    OptionField::circuit_cooldown(&["circuit_cooldown"]),
    // django-redis' and Django's own options.
    OptionField::new(&["password"], |options, value| {
        options.password = Some(Password(value.text("the password, a non-empty string")?.to_owned()));
        Ok(())
    }),
    OptionField::new(&["db"], |options, value| {
        let db = value.whole_number(0..=i64::MAX as u64, "a database number, 0 or more")?;
        // Within 0..=i64::MAX, so it fits.
        options.db = Some(db as i64);
        Ok(())
    }),
    OptionField::new(&["client_class"], |_, value| match value.value().as_str() {
        Some(DEFAULT_CLIENT) => Ok(()),
        Some("django_redis.client.HerdClient") => Err(value.refuse(
            "the herd client isn't needed: `get_or_set` already lets one caller per process compute a \
             missing value while the others wait; remove `client_class`",
        )),
        Some("django_redis.client.ShardClient") => Err(value.refuse(
            "client-side sharding isn't supported; spread keys with a Redis Cluster instead (`cluster = true`, \
             its nodes as `location`) and remove `client_class`",
        )),
        Some("django_redis.client.SentinelClient") => Err(value.refuse(SENTINEL)),
        _ => Err(value.invalid(&format!(
            "\"{DEFAULT_CLIENT}\", the only client here (or leave `client_class` out)"
        ))),
    }),
    OptionField::new(&["connection_pool_kwargs"], |options, value| {
        value.read_table(options, POOL_KWARGS)
    }),
    OptionField::refused(
        &["pool_class", "connection_pool_class", "connection_pool_class_kwargs"],
        "each server gets one multiplexed connection that carries every concurrent call, so there is no \
         connection pool to choose or size; remove it",
    ),
    OptionField::refused(
        &["parser_class"],
        "replies are parsed by redis-rs, so there is no parser to choose; remove it",
    ),
    OptionField::refused(
        &["serializer"],
        "values are encoded by the alias' `codec` (JSON, with integers stored as plain decimals any client \
         can read and INCRBY); remove it",
    ),
    OptionField::refused(
        &["pickle_version"],
        "values are encoded by the alias' `codec` (JSON), never pickled; remove it",
    ),
    OptionField::refused(
        &["compressor"],
        "values are stored uncompressed; remove it (compress a large value yourself and store the bytes \
         with `set_raw`)",
    ),
    OptionField::refused(
        &["redis_client_class", "redis_client_kwargs", "connection_factory"],
        "the client is redis-rs and can't be replaced; remove it",
    ),
    OptionField::refused(&["sentinels", "sentinel_kwargs"], SENTINEL),
];

impl HasCircuit for RedisOptions {
    fn circuit_settings(&mut self) -> &mut CircuitSettings {
        &mut self.circuit
    }
}

/// django-redis' default client: what this backend is.
const DEFAULT_CLIENT: &str = "django_redis.client.DefaultClient";

const SENTINEL: &str = "Redis Sentinel isn't supported; list the master's URL first in `location` and its \
                        replicas after it, and remove the Sentinel options";

/// django-redis' `CONNECTION_POOL_KWARGS`: redis-py's connection pool arguments.
const POOL_KWARGS: &[OptionField<RedisOptions>] = &[
    OptionField::new(&["max_connections"], |_, value| {
        // Each server has one multiplexed connection here, so any limit of one or more is kept.
        value.whole_number(1..=u64::MAX, "a whole number of connections, 1 or more")?;
        Ok(())
    }),
    OptionField::refused(
        &["ssl_cert_reqs", "ssl_ca_certs"],
        "certificates of rediss:// servers are always checked, against the system's authorities or those of \
         `tls_ca_file` (a PEM file, in `options`); remove it",
    ),
    OptionField::refused(
        &["retry_on_timeout", "retry"],
        "a call that times out fails with a retryable error (`CacheError::is_retryable`) rather than being \
         retried blindly, since a write may already have landed; remove it and retry in the caller where that \
         is safe",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(value: Value) -> Result<RedisOptions> {
        match value {
            Value::Object(map) => RedisOptions::from_options("a", &Options::from_map(map)),
            _ => unreachable!("options are an object"),
        }
    }

    fn error(value: Value) -> String {
        parse(value).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let options = parse(json!({})).unwrap();
        assert_eq!(options, RedisOptions::default());
        assert_eq!(options.connect_timeout, Duration::from_secs(1));
        assert_eq!(options.response_timeout, Duration::from_secs(1));
        assert_eq!(options.clear, ClearMode::Prefix);
        assert!(!options.cluster && !options.wait_for_replicas);
        assert!(options.batch_reads);
        assert_eq!(options.circuit, CircuitSettings::new(5, Duration::from_secs(1)));
        assert_eq!(
            parse(json!({"cluster": null, "clear": null})).unwrap(),
            RedisOptions::default()
        );
    }

    #[test]
    fn every_option() {
        let options = parse(json!({
            "connect_timeout": 0.25,
            "response_timeout": "2",
            "clear": "FLUSHDB",
            "cluster": true,
            "wait_for_replicas": true,
            "batch_reads": false,
            "tls_ca_file": "/etc/redis/ca.pem",
            "circuit_failures": 0,
            "circuit_cooldown": 2.5,
        }))
        .unwrap();
        let expected = RedisOptions {
            connect_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_secs(2),
            clear: ClearMode::FlushDb,
            cluster: true,
            wait_for_replicas: true,
            batch_reads: false,
            tls_ca_file: Some("/etc/redis/ca.pem".into()),
            circuit: CircuitSettings::new(0, Duration::from_millis(2500)),
            password: None,
            db: None,
        };
        assert_eq!(options, expected);
        let pattern = parse(json!({"clear_pattern": "CUSTOM-*"})).unwrap();
        assert_eq!(pattern.clear, ClearMode::Pattern("CUSTOM-*".into()));
    }

    #[test]
    fn redis_py_names_are_accepted() {
        let options = parse(json!({"socket_connect_timeout": 3, "socket_timeout": 0.5})).unwrap();
        assert_eq!(options.connect_timeout, Duration::from_secs(3));
        assert_eq!(options.response_timeout, Duration::from_millis(500));
    }

    #[test]
    fn django_redis_and_djangos_options() {
        let options = parse(json!({
            "client_class": "django_redis.client.DefaultClient",
            "password": "s3cret",
            "db": "10",
            "socket_connect_timeout": 5,
            "socket_timeout": 5,
            "connection_pool_kwargs": {"MAX_CONNECTIONS": 100},
        }))
        .unwrap();
        assert_eq!(options.password, Some(Password("s3cret".into())));
        assert_eq!(options.db, Some(10));
        assert_eq!(options.connect_timeout, Duration::from_secs(5));
        assert!(!format!("{options:?}").contains("s3cret"));
    }

    #[test]
    fn other_clients_options_are_refused_with_what_to_write() {
        for (options, field, fix) in [
            (
                json!({"serializer": "django_redis.serializers.json.JSONSerializer"}),
                "serializer",
                "`codec`",
            ),
            (
                json!({"compressor": "django_redis.compressors.zlib.ZlibCompressor"}),
                "compressor",
                "uncompressed",
            ),
            (
                json!({"parser_class": "redis.connection.HiredisParser"}),
                "parser_class",
                "parsed by redis-rs",
            ),
            (
                json!({"pool_class": "redis.BlockingConnectionPool"}),
                "pool_class",
                "one multiplexed connection",
            ),
            (
                json!({"connection_pool_class": "x"}),
                "connection_pool_class",
                "one multiplexed connection",
            ),
            (json!({"pickle_version": -1}), "pickle_version", "never pickled"),
            (
                json!({"client_class": "django_redis.client.HerdClient"}),
                "client_class",
                "`get_or_set`",
            ),
            (
                json!({"client_class": "django_redis.client.ShardClient"}),
                "client_class",
                "`cluster = true`",
            ),
            (
                json!({"client_class": "django_redis.client.SentinelClient"}),
                "client_class",
                "Sentinel",
            ),
            (json!({"client_class": "x"}), "client_class", "the only client here"),
            (json!({"sentinels": [["h", 26379]]}), "sentinels", "Sentinel"),
            (
                json!({"connection_pool_kwargs": {"retry_on_timeout": true}}),
                "connection_pool_kwargs.retry_on_timeout",
                "retryable",
            ),
            (
                json!({"connection_pool_kwargs": {"max_connections": 0}}),
                "connection_pool_kwargs.max_connections",
                "1 or more",
            ),
            (
                json!({"connection_pool_kwargs": {"health_check_interval": 5}}),
                "connection_pool_kwargs.health_check_interval",
                "accepted here are `max_connections`",
            ),
            (json!({"db": -1}), "db", "a database number"),
        ] {
            let message = error(options.clone());
            assert!(
                message.starts_with(&format!("cache alias `a`: options.{field}: ")) && message.contains(fix),
                "{options}: {message}"
            );
        }
        let all = error(json!({"serializer": 1, "compressor": 1, "timeout": 1}));
        assert!(all.starts_with("3 problems in the cache configuration:\n- "), "{all}");
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            error(json!({"max_entries": 30})),
            "cache alias `a`: options.max_entries: unknown option; the options this backend accepts are \
             `connect_timeout`, `socket_connect_timeout`, `response_timeout`, `socket_timeout`, `clear`, \
             `clear_pattern`, `cluster`, `wait_for_replicas`, `batch_reads`, `tls_ca_file`, `circuit_failures`, \
             `circuit_cooldown`, `password`, `db`, `client_class`, `connection_pool_kwargs`; every alias also accepts \
             `ignore_exceptions`, `log_keys` and `latency_histogram`"
        );
        for (value, shown) in [
            (json!(0), "0"),
            (json!(-1), "-1"),
            (json!("abc"), "\"abc\""),
            (json!(1e9), "1000000000.0"),
        ] {
            assert_eq!(
                error(json!({"response_timeout": value})),
                format!(
                    "cache alias `a`: options.response_timeout: expected a number of seconds above 0 and at most a day \
                     (86400); got {shown}"
                )
            );
        }
        assert_eq!(
            error(json!({"cluster": "yes"})),
            "cache alias `a`: options.cluster: expected true or false; got \"yes\""
        );
        assert_eq!(
            error(json!({"batch_reads": 1})),
            "cache alias `a`: options.batch_reads: expected true or false; got 1"
        );
        assert_eq!(
            error(json!({"clear": "all"})),
            "cache alias `a`: options.clear: expected \"prefix\" or \"flushdb\"; got \"all\""
        );
        assert!(error(json!({"clear": "flushdb", "clear_pattern": "x:*"})).contains("replaces `clear`"));
        assert!(error(json!({"clear_pattern": ""})).contains("non-empty Redis glob"));
        assert!(
            error(json!({"circuit_failures": -1})).starts_with("cache alias `a`: options.circuit_failures: expected ")
        );
        assert!(
            error(json!({"circuit_cooldown": 0})).starts_with("cache alias `a`: options.circuit_cooldown: expected ")
        );
    }
}
