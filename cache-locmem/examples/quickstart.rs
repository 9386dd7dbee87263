//! The README's first command: `cargo run --example quickstart`.
//!
//! Loads `caches.toml` beside this file, builds every alias on the embedded locmem backend, and
//! shows Django's cache API at work, then each alias' metrics. No server needed.

use std::path::Path;

use cache_core::{Backends, CacheError, Caches, CachesConfig, Timeout};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Profile {
    name: String,
    visits: u32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), CacheError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/caches.toml");
    let config = CachesConfig::load(&path)?;
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration());
    let caches = Caches::build(&config, &backends)?;
    for cache in caches.all() {
        println!("alias {:<12} {:?}", cache.alias(), cache.options());
    }

    let cache = caches.get("default")?;
    println!("\n-- default --");
    cache.set("greeting", "hello").timeout(Timeout::secs(60)).await?;
    println!("get greeting           -> {:?}", cache.get::<String>("greeting").await?);
    println!("get missing            -> {:?}", cache.get::<String>("missing").await?);
    println!("add greeting (exists)  -> {}", cache.add("greeting", "hi").await?);

    cache.set("visits", &41).await?;
    println!("incr visits            -> {}", cache.incr("visits", 1).await?);
    println!("decr visits by 10      -> {}", cache.decr("visits", 10).await?);
    match cache.incr("nobody", 1).await {
        Err(error) => println!("incr nobody            -> error: {error}"),
        Ok(value) => println!("incr nobody            -> {value}"),
    }

    let profile = cache
        .get_or_set("profile:7", || async {
            Profile {
                name: "Ada".into(),
                visits: 1,
            }
        })
        .await?;
    println!("get_or_set profile:7   -> {profile:?}");
    cache.set_many([("a", 1), ("b", 2)]).await?;
    println!(
        "get_many [a, b, c]     -> {:?}",
        cache.get_many::<_, i32>(&["a", "b", "c"]).await?
    );
    println!("make_key greeting      -> {:?}", cache.make_key("greeting", None));

    let v2 = caches.get("default-v2")?;
    println!("\n-- default-v2 (same store, version 2) --");
    println!("get greeting           -> {:?}", v2.get::<String>("greeting").await?);
    println!(
        "get greeting version 1 -> {:?}",
        v2.get::<String>("greeting").version(1).await?
    );

    let sessions = caches.get("sessions")?;
    sessions.set("session:abc", &["user", "7"]).await?;
    println!(
        "\n-- sessions --\nmake_key session:abc   -> {:?}",
        sessions.make_key("session:abc", None)
    );

    println!("\n-- metrics --");
    for cache in caches.all() {
        println!("{:<12} {:?}", cache.alias(), cache.metrics());
    }
    Ok(())
}
