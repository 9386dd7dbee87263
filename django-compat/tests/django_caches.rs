//! Real-world Django `CACHES` settings — from Django's cache documentation, django-redis' README,
//! pymemcache's and pylibmc's usage in Django's docs, and projects on GitHub — pasted as written
//! in a `settings.py`. Each either loads with the meaning it has in Django (the backend's options
//! as its own parser reads them) or is refused with its exact message, which says what to write.

use std::time::Duration;

use cache_core::{Caches, CachesConfig, ConfigFormat, CullOptions, Location, Timeout};
use cache_django_compat::{BackendOptions, Meaning, backends, meaning, settings_to_json};
use cache_redis::{ClearMode, Password};

/// A snippet and what it must do here.
struct Snippet {
    /// Where it comes from.
    source: &'static str,
    /// The `CACHES = {…}` of a settings module.
    settings: &'static str,
    expect: Expect,
}

enum Expect {
    /// Loads and builds; the function checks what it means.
    Loads(fn(&Loaded)),
    /// Refused with exactly this message (by `CachesConfig` or by `Caches::build`).
    Refused(&'static str),
}

/// A snippet that loaded and built.
struct Loaded {
    config: CachesConfig,
    caches: Caches,
}

impl Loaded {
    fn meaning(&self, alias: &str) -> Meaning {
        meaning(&self.config, alias).unwrap_or_else(|error| panic!("{error}"))
    }

    fn redis(&self, alias: &str) -> cache_redis::RedisOptions {
        match self.meaning(alias).options {
            BackendOptions::Redis(options) => options,
            other => panic!("not a Redis alias: {other:?}"),
        }
    }

    fn memcached(&self, alias: &str) -> cache_memcached::MemcachedOptions {
        match self.meaning(alias).options {
            BackendOptions::Memcached(options) => options,
            other => panic!("not a memcached alias: {other:?}"),
        }
    }

    fn cull(&self, alias: &str) -> CullOptions {
        match self.meaning(alias).options {
            BackendOptions::Cull(options) => options,
            other => panic!("not a culling alias: {other:?}"),
        }
    }
}

/// File locations are moved into a temporary directory, the one change made to a snippet.
const FILE_DIR: &str = "/var/tmp/django_cache";

const DJANGO_DOCS: &str = "Django's documentation, topics/cache";
const DJANGO_REDIS: &str = "django-redis' README";

fn servers(location: &[&str]) -> Location {
    Location::Many(location.iter().map(|server| (*server).to_owned()).collect())
}

const SNIPPETS: &[Snippet] = &[
    // Django's documentation.
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let meaning = loaded.meaning("default");
            assert_eq!(meaning.backend, "memcached");
            assert_eq!(meaning.timeout, Timeout::Seconds(300.0));
            assert_eq!(loaded.memcached("default"), Default::default());
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "unix:/tmp/memcached.sock",
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").backend, "memcached")),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": [
            "172.19.26.240:11211",
            "172.19.26.242:11211",
        ],
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(
                loaded.meaning("default").location.servers(),
                ["172.19.26.240:11211", "172.19.26.242:11211"]
            );
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": [
            "172.19.26.240:11211",
            "172.19.26.242:11212",
            "172.19.26.244:11213",
        ],
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").location.servers().len(), 3)),
    },
    Snippet {
        source: "Django's documentation before 3.2 (a `;`-separated string)",
        settings: r#"CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.memcached.MemcachedCache',
        'LOCATION': '172.19.26.240:11211;172.19.26.242:11211',
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: unknown backend `django.core.cache.backends.memcached.MemcachedCache`; registered backends are: django.core.cache.backends.dummy.DummyCache, django.core.cache.backends.filebased.FileBasedCache, django.core.cache.backends.locmem.LocMemCache, django.core.cache.backends.memcached.PyLibMCCache, django.core.cache.backends.memcached.PyMemcacheCache, django.core.cache.backends.redis.RedisCache, django_redis.cache.RedisCache, dummy, file, locmem, memcached, redis. Register the backend crate's factory with `Backends::register` or fix the name",
        ),
    },
    Snippet {
        source: "Django's documentation before 3.2, with the backend Django 3.2 names",
        settings: r#"CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.memcached.PyMemcacheCache',
        'LOCATION': '172.19.26.240:11211;172.19.26.242:11211',
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(
                loaded.meaning("default").location.servers(),
                ["172.19.26.240:11211", "172.19.26.242:11211"]
            );
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
        "LOCATION": "127.0.0.1:11211",
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").backend, "memcached")),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
        "LOCATION": "/tmp/memcached.sock",
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").backend, "memcached")),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379",
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(loaded.meaning("default").backend, "redis");
            assert_eq!(loaded.redis("default"), Default::default());
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://username:password@127.0.0.1:6379",
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(loaded.meaning("default").backend, "redis");
            assert!(
                !format!("{:?}", loaded.caches).contains(":password@"),
                "the password is hidden"
            );
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": [
            "redis://127.0.0.1:6379",  # leader
            "redis://127.0.0.1:6378",  # read-replica 1
            "redis://127.0.0.1:6377",  # read-replica 2
        ],
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(
                loaded.meaning("default").location,
                servers(&[
                    "redis://127.0.0.1:6379",
                    "redis://127.0.0.1:6378",
                    "redis://127.0.0.1:6377"
                ])
            );
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379",
        "OPTIONS": {
            "db": "10",
            "parser_class": "redis.connection.PythonParser",
            "pool_class": "redis.BlockingConnectionPool",
        },
    }
}"#,
        expect: Expect::Refused(
            "2 problems in the cache configuration:\n- cache alias `default`: options.parser_class: replies are parsed by redis-rs, so there is no parser to choose; remove it\n- cache alias `default`: options.pool_class: each server gets one multiplexed connection that carries every concurrent call, so there is no connection pool to choose or size; remove it",
        ),
    },
    Snippet {
        source: "Django's documentation, with the pool and parser left out",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379",
        "OPTIONS": {"db": "10"},
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.redis("default").db, Some(10))),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "my_cache_table",
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: unknown backend `django.core.cache.backends.db.DatabaseCache`; registered backends are: django.core.cache.backends.dummy.DummyCache, django.core.cache.backends.filebased.FileBasedCache, django.core.cache.backends.locmem.LocMemCache, django.core.cache.backends.memcached.PyLibMCCache, django.core.cache.backends.memcached.PyMemcacheCache, django.core.cache.backends.redis.RedisCache, django_redis.cache.RedisCache, dummy, file, locmem, memcached, redis. Register the backend crate's factory with `Backends::register` or fix the name",
        ),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/var/tmp/django_cache",
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(loaded.meaning("default").backend, "file");
            assert_eq!(loaded.cull("default"), CullOptions::default());
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "unique-snowflake",
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let meaning = loaded.meaning("default");
            assert_eq!(
                (meaning.backend, meaning.location),
                ("locmem", Location::One("unique-snowflake".into()))
            );
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache",
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").backend, "dummy")),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/var/tmp/django_cache",
        "TIMEOUT": 60,
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(loaded.meaning("default").timeout, Timeout::Seconds(60.0));
            assert_eq!(loaded.cull("default").max_entries, 1000);
        }),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
        "LOCATION": "127.0.0.1:11211",
        "OPTIONS": {
            "binary": True,
            "username": "user",
            "password": "pass",
            "behaviors": {
                "ketama": True,
            },
        },
    }
}"#,
        expect: Expect::Refused(
            "4 problems in the cache configuration:\n- cache alias `default`: options.behaviors.ketama: keys are placed by pymemcache's rendezvous hash, so this client and Django's PyMemcacheCache agree on where each key lives; remove it\n- cache alias `default`: options.binary: this client speaks memcached's text protocol, which every memcached serves; remove it\n- cache alias `default`: options.password: SASL authentication isn't supported by this client; remove it (and reach memcached over a private network or a unix socket)\n- cache alias `default`: options.username: SASL authentication isn't supported by this client; remove it (and reach memcached over a private network or a unix socket)",
        ),
    },
    Snippet {
        source: DJANGO_DOCS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211",
        "OPTIONS": {
            "no_delay": True,
            "ignore_exc": True,
            "max_pool_size": 4,
            "use_pooling": True,
        },
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let options = loaded.memcached("default");
            assert!(options.no_delay);
            assert_eq!(options.pool_size, 4);
            assert!(loaded.meaning("default").ignore_exceptions);
            assert!(loaded.caches.default_cache().options().ignore_exceptions());
        }),
    },
    Snippet {
        source: "Django's documentation (cache arguments: several of them)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "site1-snowflake",
        "TIMEOUT": None,
        "KEY_PREFIX": "site1",
        "VERSION": 2,
        "OPTIONS": {"MAX_ENTRIES": 500, "CULL_FREQUENCY": 0},
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let meaning = loaded.meaning("default");
            assert_eq!(
                (meaning.timeout, meaning.key_prefix.as_str(), meaning.version),
                (Timeout::Never, "site1", 2)
            );
            let cull = loaded.cull("default");
            assert_eq!((cull.max_entries, cull.cull_frequency), (500, 0));
            assert_eq!(loaded.caches.default_cache().make_key("k", None), "site1:2:k");
        }),
    },
    Snippet {
        source: "Django's documentation (KEY_FUNCTION names a dotted path)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "myproject.cache.make_key",
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: key_function: no key function named `myproject.cache.make_key` is registered (known: default); register it with `Backends::key_function`",
        ),
    },
    // django-redis' README.
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
        }
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let meaning = loaded.meaning("default");
            assert_eq!(meaning.backend, "redis");
            assert_eq!(loaded.redis("default"), Default::default());
        }),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://django@localhost:6379/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "PASSWORD": "mysecret"
        }
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(loaded.redis("default").password, Some(Password("mysecret".into())));
            assert!(!format!("{:?}", loaded.caches).contains("mysecret"));
        }),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://django:mysecret@localhost:6379/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
        }
    }
}"#,
        expect: Expect::Loads(|loaded| assert!(!format!("{:?}", loaded.caches).contains("mysecret"))),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "PASSWORD": "mysecret"
        }
    }
}"#,
        expect: Expect::Loads(|loaded| assert!(loaded.redis("default").password.is_some())),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "PICKLE_VERSION": -1  # Use the latest protocol version
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.pickle_version: values are encoded by the alias' `codec` (JSON), never pickled; remove it",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 5,  # seconds
            "SOCKET_TIMEOUT": 5,  # seconds
        }
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let options = loaded.redis("default");
            assert_eq!(
                (options.connect_timeout, options.response_timeout),
                (Duration::from_secs(5), Duration::from_secs(5))
            );
        }),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.compressor: values are stored uncompressed; remove it (compress a large value yourself and store the bytes with `set_raw`)",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "COMPRESSOR": "django_redis.compressors.lz4.Lz4Compressor",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.compressor: values are stored uncompressed; remove it (compress a large value yourself and store the bytes with `set_raw`)",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
        }
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert!(loaded.meaning("default").ignore_exceptions);
            assert!(loaded.caches.default_cache().options().ignore_exceptions());
        }),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "CONNECTION_POOL_KWARGS": {"max_connections": 100}
        }
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.redis("default"), Default::default())),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "CONNECTION_POOL_KWARGS": {"max_connections": 100, "retry_on_timeout": True}
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.connection_pool_kwargs.retry_on_timeout: a call that times out fails with a retryable error (`CacheError::is_retryable`) rather than being retried blindly, since a write may already have landed; remove it and retry in the caller where that is safe",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "CONNECTION_POOL_CLASS": "myproj.mypool.MyOwnPool",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.connection_pool_class: each server gets one multiplexed connection that carries every concurrent call, so there is no connection pool to choose or size; remove it",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "PARSER_CLASS": "redis.connection.HiredisParser",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.parser_class: replies are parsed by redis-rs, so there is no parser to choose; remove it",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": [
            "redis://127.0.0.1:6379/1",
            "redis://127.0.0.1:6378/1",
        ],
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(
                loaded.meaning("default").location,
                servers(&["redis://127.0.0.1:6379/1", "redis://127.0.0.1:6378/1"])
            );
        }),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": [
            "redis://127.0.0.1:6379/1",
            "redis://127.0.0.1:6379/2",
        ],
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.ShardClient",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.client_class: client-side sharding isn't supported; spread keys with a Redis Cluster instead (`cluster = true`, its nodes as `location`) and remove `client_class`",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.HerdClient",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.client_class: the herd client isn't needed: `get_or_set` already lets one caller per process compute a missing value while the others wait; remove `client_class`",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://mymaster/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "SENTINELS": [("sentinel-1", 26379), ("sentinel-2", 26379)],
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
        },
    }
}"#,
        expect: Expect::Refused(
            "3 problems in the cache configuration:\n- cache alias `default`: options.client_class: Redis Sentinel isn't supported; list the master's URL first in `location` and its replicas after it, and remove the Sentinel options\n- cache alias `default`: options.connection_factory: the client is redis-rs and can't be replaced; remove it\n- cache alias `default`: options.sentinels: Redis Sentinel isn't supported; list the master's URL first in `location` and its replicas after it, and remove the Sentinel options",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.serializer: values are encoded by the alias' `codec` (JSON, with integers stored as plain decimals any client can read and INCRBY); remove it",
        ),
    },
    Snippet {
        source: DJANGO_REDIS,
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {
            "SERIALIZER": "django_redis.serializers.msgpack.MSGPackSerializer",
        }
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.serializer: values are encoded by the alias' `codec` (JSON, with integers stored as plain decimals any client can read and INCRBY); remove it",
        ),
    },
    Snippet {
        source: "django-redis' README (a database in the query string)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://localhost?db=3",
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").backend, "redis")),
    },
    Snippet {
        source: "django-redis' README (a unix socket)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "unix:///var/run/redis/redis.sock?db=0",
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.meaning("default").backend, "redis")),
    },
    Snippet {
        source: "django-redis on Heroku Redis (its REDIS_URL filled in)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://h:6379/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "CONNECTION_POOL_KWARGS": {"ssl_cert_reqs": None},
        },
    }
}"#,
        expect: Expect::Refused(
            "cache alias `default`: options.connection_pool_kwargs.ssl_cert_reqs: certificates of rediss:// servers are always checked, against the system's authorities or those of `tls_ca_file` (a PEM file, in `options`); remove it",
        ),
    },
    Snippet {
        source: "github.com/kanatai/real-estate project/settings/redis.py",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://redis:6379/1",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "PICKLE_VERSION": -1,  # Will use highest protocol version available
            "SOCKET_CONNECT_TIMEOUT": 5,  # seconds
            "SOCKET_TIMEOUT": 5,  # seconds
            "COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor",

        }
    }
}"#,
        expect: Expect::Refused(
            "2 problems in the cache configuration:\n- cache alias `default`: options.compressor: values are stored uncompressed; remove it (compress a large value yourself and store the bytes with `set_raw`)\n- cache alias `default`: options.pickle_version: values are encoded by the alias' `codec` (JSON), never pickled; remove it",
        ),
    },
    Snippet {
        source: "github.com/fs/python-base-graphql-api server/settings/components/caching.py",
        settings: r#"CACHES = {
    'default': {
        'BACKEND': 'django_redis.cache.RedisCache',
        'LOCATION': 'redis://localhost:6379',
        'OPTIONS': {
            'CLIENT_CLASS': 'django_redis.client.DefaultClient',
        }
    }
}"#,
        expect: Expect::Loads(|loaded| assert_eq!(loaded.redis("default").clear, ClearMode::Prefix)),
    },
    Snippet {
        source: "github.com/littleknitsstory/backend backend/core/settings/components/cache.py (its REDIS_HOST and \
                 REDIS_PORT filled in)",
        settings: r#"CACHES = {
    'default': {
        'BACKEND': 'django_redis.cache.RedisCache',
        'LOCATION': [
            'redis://localhost:6379/1'  # 'redis://{}:{}/1'.format(REDIS_HOST, REDIS_PORT)
        ],
        'OPTIONS': {
            'CLIENT_CLASS': 'django_redis.client.DefaultClient',
            'CONNECTION_POOL_CLASS': 'redis.BlockingConnectionPool',
            'CONNECTION_POOL_CLASS_KWARGS': {
                'max_connections': 50,
                'timeout': 20,
            },
            'MAX_CONNECTIONS': 1000,
            'PICKLE_VERSION': -1,
        },
    },
}"#,
        expect: Expect::Refused(
            "4 problems in the cache configuration:\n- cache alias `default`: options.connection_pool_class: each server gets one multiplexed connection that carries every concurrent call, so there is no connection pool to choose or size; remove it\n- cache alias `default`: options.connection_pool_class_kwargs: each server gets one multiplexed connection that carries every concurrent call, so there is no connection pool to choose or size; remove it\n- cache alias `default`: options.max_connections: unknown option; the options this backend accepts are `connect_timeout`, `socket_connect_timeout`, `response_timeout`, `socket_timeout`, `clear`, `clear_pattern`, `cluster`, `wait_for_replicas`, `batch_reads`, `tls_ca_file`, `circuit_failures`, `circuit_cooldown`, `password`, `db`, `client_class`, `connection_pool_kwargs`; every alias also accepts `ignore_exceptions`, `log_keys` and `latency_histogram`\n- cache alias `default`: options.pickle_version: values are encoded by the alias' `codec` (JSON), never pickled; remove it",
        ),
    },
    Snippet {
        source: "a common pymemcache setup (timeouts in seconds, failing silently)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "memcached:11211",
        "TIMEOUT": 3600,
        "KEY_PREFIX": "app",
        "OPTIONS": {"connect_timeout": 0.5, "timeout": 0.5, "no_delay": True, "ignore_exc": True},
    }
}"#,
        expect: Expect::Loads(|loaded| {
            let options = loaded.memcached("default");
            assert_eq!(
                (options.connect_timeout, options.response_timeout),
                (Duration::from_millis(500), Duration::from_millis(500))
            );
            assert!(loaded.meaning("default").ignore_exceptions);
        }),
    },
    Snippet {
        source: "a common pylibmc setup (libmemcached behaviors)",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
        "LOCATION": "127.0.0.1:11211",
        "OPTIONS": {
            "binary": False,
            "behaviors": {"tcp_nodelay": True, "connect_timeout": 1000, "ketama": True, "remove_failed": 4},
        },
    }
}"#,
        expect: Expect::Refused(
            "2 problems in the cache configuration:\n- cache alias `default`: options.behaviors.ketama: keys are placed by pymemcache's rendezvous hash, so this client and Django's PyMemcacheCache agree on where each key lives; remove it\n- cache alias `default`: options.behaviors.remove_failed: each server has a circuit breaker instead: write `circuit_failures` (consecutive failures before its calls fail at once, 5 by default) and `circuit_cooldown` (seconds before one call probes it again, 1 by default), and remove this option",
        ),
    },
    Snippet {
        source: "pymemcache without pooling",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": "127.0.0.1:11211,127.0.0.1:11212",
        "OPTIONS": {"use_pooling": False, "default_noreply": False, "allow_unicode_keys": True},
    }
}"#,
        expect: Expect::Loads(|loaded| {
            assert_eq!(loaded.memcached("default").pool_size, 1);
            assert_eq!(loaded.meaning("default").location.servers().len(), 2);
        }),
    },
    Snippet {
        source: "pymemcache with noreply writes and its dead-server handling",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": ["10.0.0.1:11211", "10.0.0.2:11211"],
        "OPTIONS": {"default_noreply": True, "retry_attempts": 2, "dead_timeout": 60},
    }
}"#,
        expect: Expect::Refused(
            "3 problems in the cache configuration:\n- cache alias `default`: options.dead_timeout: each server has a circuit breaker instead: write `circuit_failures` (consecutive failures before its calls fail at once, 5 by default) and `circuit_cooldown` (seconds before one call probes it again, 1 by default), and remove this option\n- cache alias `default`: options.default_noreply: every write waits for memcached's answer here, so a failed `set` is reported rather than lost (Django's PyMemcacheCache sets `default_noreply = false` itself); remove it\n- cache alias `default`: options.retry_attempts: each server has a circuit breaker instead: write `circuit_failures` (consecutive failures before its calls fail at once, 5 by default) and `circuit_cooldown` (seconds before one call probes it again, 1 by default), and remove this option",
        ),
    },
    Snippet {
        source: "sessions in their own alias beside the default one",
        settings: r#"CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    },
    "sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/2",
        "TIMEOUT": 1209600,
        "KEY_PREFIX": "sessions",
    },
}"#,
        expect: Expect::Loads(|loaded| {
            let sessions = loaded.meaning("sessions");
            assert_eq!(
                (sessions.backend, sessions.timeout),
                ("redis", Timeout::Seconds(1_209_600.0))
            );
            assert_eq!(
                loaded.caches.get("sessions").unwrap().make_key("k", None),
                "sessions:1:k"
            );
        }),
    },
];

fn run(snippet: &Snippet, dir: &str) -> Result<Loaded, String> {
    let json = settings_to_json(snippet.settings).replace(FILE_DIR, dir);
    let config = CachesConfig::from_str_with_env(&json, ConfigFormat::Json, [] as [(&str, &str); 0])
        .map_err(|error| error.to_string())?;
    let caches = Caches::build(&config, &backends()).map_err(|error| error.to_string())?;
    Ok(Loaded { config, caches })
}

#[test]
fn real_world_django_caches_load_with_their_meaning_or_say_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let shown = dir.path().display().to_string();
    let mut failures = Vec::new();
    for (index, snippet) in SNIPPETS.iter().enumerate() {
        let outcome = run(snippet, &shown);
        let problem = match (&snippet.expect, outcome) {
            (Expect::Loads(check), Ok(loaded)) => {
                let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&loaded)));
                checked
                    .err()
                    .map(|_| "its meaning differs (see the panic above)".to_owned())
            }
            (Expect::Loads(_), Err(error)) => Some(format!("refused: {error}")),
            (Expect::Refused(expected), Err(error)) if *expected == error => None,
            (Expect::Refused(expected), Err(error)) => Some(format!("expected: {expected:?}\n  actual:   {error:?}")),
            (Expect::Refused(_), Ok(_)) => Some("loaded, but it must be refused".to_owned()),
        };
        if let Some(problem) = problem {
            failures.push(format!("#{index} ({}):\n  {problem}", snippet.source));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} snippets:\n{}",
        failures.len(),
        SNIPPETS.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_and_covers_every_backend_and_both_outcomes() {
    assert!(SNIPPETS.len() >= 40, "{}", SNIPPETS.len());
    let refused = SNIPPETS
        .iter()
        .filter(|snippet| matches!(snippet.expect, Expect::Refused(_)))
        .count();
    assert!(refused >= 10 && SNIPPETS.len() - refused >= 20, "{refused} refused");
    for backend in [
        "PyMemcacheCache",
        "PyLibMCCache",
        "backends.redis.RedisCache",
        "django_redis",
        "LocMemCache",
        "FileBasedCache",
        "DummyCache",
    ] {
        assert!(
            SNIPPETS.iter().any(|snippet| snippet.settings.contains(backend)),
            "{backend}"
        );
    }
}
