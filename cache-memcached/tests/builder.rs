//! `MemcachedBackend::builder`: servers and options in code, checked at `build`.

use std::time::Duration;

use cache_core::CacheError;
use cache_memcached::{MemcachedBackend, MemcachedOptions, ServerAddress};

fn refused(builder: cache_memcached::MemcachedBuilder) -> String {
    let error = builder.build().unwrap_err();
    assert!(matches!(error, CacheError::Config { .. }), "{error:?}");
    error.to_string()
}

#[test]
fn defaults_are_the_options_defaults() {
    let backend = MemcachedBackend::builder().server("127.0.0.1").build().unwrap();
    assert_eq!(backend.options(), &MemcachedOptions::default());
    assert_eq!(
        backend.servers().collect::<Vec<_>>(),
        [&ServerAddress::parse("127.0.0.1:11211").unwrap()]
    );
}

#[test]
fn every_option_is_kept() {
    let backend = MemcachedBackend::builder()
        .server("a:11211")
        .server("unix:/tmp/m.sock")
        .connect_timeout(Duration::from_millis(250))
        .response_timeout(Duration::from_secs(2))
        .item_size_max(4096)
        .pool_size(8)
        .no_delay(false)
        .build()
        .unwrap();
    let options = backend.options();
    assert_eq!(
        (options.connect_timeout, options.response_timeout),
        (Duration::from_millis(250), Duration::from_secs(2))
    );
    assert_eq!(
        (options.item_size_max, options.pool_size, options.no_delay),
        (4096, 8, false)
    );
    assert_eq!(backend.servers().count(), 2);
}

#[test]
fn invalid_values_name_the_setting() {
    let builder = || MemcachedBackend::builder().server("h");
    assert_eq!(
        refused(builder().response_timeout(Duration::ZERO)),
        "options.response_timeout: expected a duration above 0 and at most a day; got 0ns"
    );
    assert!(refused(builder().connect_timeout(Duration::from_secs(86_401))).starts_with("options.connect_timeout: "));
    assert_eq!(
        refused(builder().item_size_max(100)),
        "options.item_size_max: expected from 2 KiB to 1 GiB (memcached's `-I` range); got 100"
    );
    assert!(refused(builder().pool_size(65)).starts_with("options.pool_size: expected a whole number from 1 to 64"));
}

#[test]
fn servers_are_checked() {
    assert_eq!(
        refused(MemcachedBackend::builder()),
        "server: memcached needs at least one server; add one with `.server(\"127.0.0.1:11211\")`"
    );
    assert!(refused(MemcachedBackend::builder().server("h:0")).starts_with("server: "));
    assert!(refused(MemcachedBackend::builder().server("::1")).starts_with("server: "));
    assert_eq!(
        refused(MemcachedBackend::builder().server("h:1").server(" h:1")),
        "server: the server `h:1` is listed twice; list each server once"
    );
}
