//! Turning an alias' `location` into redis-rs clients: URLs checked at build time, passwords kept
//! out of every message.

use cache_core::{CacheError, Location, Result};
use redis::IntoConnectionInfo;

use crate::options::RedisOptions;

/// One server URL of the location, checked.
pub(crate) struct ServerUrl {
    /// What redis-rs connects with: the URL as parsed, with the options' password and database
    /// applied (it holds the password, if any).
    pub(crate) info: redis::ConnectionInfo,
    /// For messages and `Debug`: the URL with its password replaced by `***`.
    pub(crate) shown: String,
    /// `rediss://`.
    pub(crate) tls: bool,
    /// The logical database the URL (or `options.db`) selects.
    pub(crate) db: i64,
}

/// The write-up of the URL forms, for errors.
const URL_FORMS: &str = "write redis://[[user]:password@]host[:port][/db], rediss://… for TLS, or \
                         unix:///path/to/socket[?db=N]";

/// The query parameters each scheme honours: what redis-rs reads (`protocol`, and a unix socket's
/// `db`, `user` and `pass`) and `db`, which redis-py reads from any URL and is applied here.
const TCP_QUERY: &[&str] = &["db", "protocol"];
const UNIX_QUERY: &[&str] = &["db", "protocol", "user", "pass"];

/// The URLs of `location` by Django's rule (a string split on `;` and `,`, a list as is), each
/// parsed by redis-rs now so a malformed one fails `Caches::build` naming the alias and the entry;
/// every bad entry is reported at once.
pub(crate) fn server_urls(alias: Option<&str>, location: &Location, options: &RedisOptions) -> Result<Vec<ServerUrl>> {
    let urls = location.entries();
    if urls.is_empty() {
        return Err(CacheError::config(
            alias,
            "location",
            "a Redis alias needs at least one server URL, such as \"redis://127.0.0.1:6379/0\" \
             (a list or a `,`/`;`-separated string: the first is written to, the others are read from)",
        ));
    }
    let several = urls.len() > 1;
    let mut parsed = Vec::with_capacity(urls.len());
    let mut problems = Vec::new();
    for (index, url) in urls.into_iter().enumerate() {
        let field = if several {
            format!("location[{index}]")
        } else {
            "location".to_owned()
        };
        match parse(alias, &field, url, options) {
            Ok(server) => parsed.push(server),
            Err(error) => problems.push(error),
        }
    }
    if let Some(error) = CacheError::combine(problems) {
        return Err(error);
    }
    if options.tls_ca_file.is_some() && !parsed.iter().any(|server| server.tls) {
        return Err(CacheError::config(
            alias,
            "options.tls_ca_file",
            "set, but no location uses TLS; write the servers as rediss://… or remove the option",
        ));
    }
    if options.cluster
        && let Some(server) = parsed.iter().find(|server| server.db != 0)
    {
        return Err(CacheError::config(
            alias,
            "location",
            format!(
                "`{}` selects database {}, but a Redis Cluster has only database 0; drop the `/{}`",
                server.shown, server.db, server.db
            ),
        ));
    }
    Ok(parsed)
}

fn parse(alias: Option<&str>, field: &str, url: String, options: &RedisOptions) -> Result<ServerUrl> {
    if url.is_empty() {
        // Dropping it would move every later entry up: an empty first entry would make a replica
        // the writer, an empty one further on would silently lose a replica.
        return Err(CacheError::config(
            alias,
            field,
            "the entry is empty; remove the extra `,` or `;` (or the empty list item): the first URL is the \
             writer and the others its replicas, so every entry must be a server",
        ));
    }
    let shown = redact(&url);
    let tls_scheme = url
        .get(..9)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss://"));
    if tls_scheme && !cfg!(feature = "tls") {
        return Err(CacheError::config(
            alias,
            field,
            format!("`{shown}` needs TLS; enable the `tls` feature of cache-redis in Cargo.toml"),
        ));
    }
    let info = url.as_str().into_connection_info().map_err(|error| {
        CacheError::config(
            alias,
            field,
            format!(
                "`{shown}` is not a Redis URL ({}); {URL_FORMS}",
                error.detail().unwrap_or(&error.to_string())
            ),
        )
    })?;
    let unix = matches!(info.addr(), redis::ConnectionAddr::Unix(_));
    let query = UrlParts::of(&url);
    let honoured = if unix { UNIX_QUERY } else { TCP_QUERY };
    if let Some(name) = query
        .parameters
        .iter()
        .find(|(name, _)| !honoured.contains(&name.as_str()))
    {
        let listed: Vec<String> = honoured.iter().map(|name| format!("`{name}`")).collect();
        return Err(CacheError::config(
            alias,
            field,
            format!(
                "`{shown}` has the query parameter `{}`, which isn't used; the ones honoured here are {}; \
                 remove it",
                name.0,
                listed.join(", ")
            ),
        ));
    }
    let tls = matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. });
    let mut settings = info.redis_settings().clone();
    // The database: the URL's path (redis://h/2), its `db` parameter, or `options.db` — one of
    // them, or several that agree (redis-py lets the URL win silently).
    let path_db = (!unix).then_some(query.path_db).flatten();
    let query_db = query
        .parameters
        .iter()
        .find(|(name, _)| name == "db")
        .map(|(_, value)| value);
    let mut choices: Vec<(String, i64)> = Vec::new();
    if let Some(db) = path_db {
        choices.push((format!("the path `/{db}`"), settings.db()));
    }
    if let Some(db) = query_db {
        let number = db.parse::<i64>().map_err(|_| {
            CacheError::config(
                alias,
                field,
                format!("`{shown}` has `db={db}`, which isn't a database number; write `db=0`, `db=1`, …"),
            )
        })?;
        choices.push((format!("`db={db}`"), number));
    }
    if let Some(db) = options.db {
        choices.push(("`options.db`".to_owned(), db));
    }
    if let Some(((first, a), (second, b))) = choices
        .iter()
        .zip(choices.iter().skip(1))
        .find(|((_, a), (_, b))| a != b)
    {
        return Err(CacheError::config(
            alias,
            field,
            format!("`{shown}` selects database {a} by {first} but {b} by {second}; give the database once"),
        ));
    }
    if let Some((_, db)) = choices.first() {
        settings = settings.set_db(*db);
    }
    if let Some(password) = &options.password {
        if settings.password().is_some() {
            return Err(CacheError::config(
                alias,
                "options.password",
                format!(
                    "`{shown}` has a password already (django-redis would ignore `password` silently); give it \
                     once, in the URL or in `password`"
                ),
            ));
        }
        settings = settings.set_password(&password.0);
    }
    let db = settings.db();
    Ok(ServerUrl {
        info: info.set_redis_settings(settings),
        shown,
        tls,
        db,
    })
}

/// The parts of a URL redis-rs doesn't check: its query parameters and whether its path names a
/// database.
struct UrlParts {
    parameters: Vec<(String, String)>,
    /// The path's text when it isn't empty (`redis://h/2` → `2`).
    path_db: Option<String>,
}

impl UrlParts {
    fn of(url: &str) -> UrlParts {
        let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
        let (base, query) = without_fragment.split_once('?').unwrap_or((without_fragment, ""));
        let parameters = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect();
        let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
        let path_db = after_scheme
            .split_once('/')
            .map(|(_, path)| path.trim_matches('/'))
            .filter(|path| !path.is_empty())
            .map(str::to_owned);
        UrlParts { parameters, path_db }
    }
}

/// The URL with the password of its user-info, and of a `pass=` query parameter (unix socket
/// URLs), replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let url = redact_user_info(url);
    let Some((base, query)) = url.split_once('?') else {
        return url;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("pass", _)) => "pass=***".to_owned(),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn redact_user_info(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user_info = &rest[..at];
    let user = match user_info.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        // `redis://secret@host` is read as a password by redis-rs when there's no user name.
        None if !user_info.is_empty() => "***".to_owned(),
        None => String::new(),
    };
    format!("{}{user}{}", &url[..scheme_end], &rest[at..])
}

/// The CA certificates of `options.tls_ca_file`, read once at build time.
#[cfg(feature = "tls")]
pub(crate) fn tls_certificates(alias: Option<&str>, options: &RedisOptions) -> Result<Option<redis::TlsCertificates>> {
    let Some(path) = &options.tls_ca_file else {
        return Ok(None);
    };
    let pem = std::fs::read(path).map_err(|error| {
        CacheError::config(
            alias,
            "options.tls_ca_file",
            format!("can't read `{}`: {error}", path.display()),
        )
    })?;
    Ok(Some(redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem),
    }))
}

/// Without the `tls` feature no location may use TLS, so there is never a CA file to read.
#[cfg(not(feature = "tls"))]
pub(crate) fn tls_certificates(alias: Option<&str>, options: &RedisOptions) -> Result<Option<()>> {
    match &options.tls_ca_file {
        None => Ok(None),
        Some(_) => Err(CacheError::config(
            alias,
            "options.tls_ca_file",
            "needs the `tls` feature of cache-redis; enable it in Cargo.toml",
        )),
    }
}

/// A client for one server, with the CA certificates when there are some.
#[cfg(feature = "tls")]
pub(crate) fn client(
    alias: Option<&str>,
    server: &ServerUrl,
    certificates: Option<&redis::TlsCertificates>,
) -> Result<redis::Client> {
    let client = match certificates {
        Some(certificates) if server.tls => redis::Client::build_with_tls(server.info.clone(), certificates.clone()),
        _ => redis::Client::open(server.info.clone()),
    };
    client.map_err(|error| client_error(alias, server, &error))
}

/// A client for one server.
#[cfg(not(feature = "tls"))]
pub(crate) fn client(alias: Option<&str>, server: &ServerUrl, _certificates: Option<&()>) -> Result<redis::Client> {
    redis::Client::open(server.info.clone()).map_err(|error| client_error(alias, server, &error))
}

pub(crate) fn client_error(alias: Option<&str>, server: &ServerUrl, error: &redis::RedisError) -> CacheError {
    CacheError::config(
        alias,
        "location",
        format!(
            "can't use `{}`: {}",
            server.shown,
            error.detail().unwrap_or(&error.to_string())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
        assert_eq!(
            redact("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(redact("rediss://app:p@ss:w@rd@host/1"), "rediss://app:***@host/1");
        assert_eq!(redact("redis://hunter2@host"), "redis://***@host");
        assert_eq!(redact("redis://host/0?x=a@b"), "redis://host/0?x=a@b");
        assert_eq!(redact("not a url"), "not a url");
        assert_eq!(
            redact("unix:///run/redis.sock?db=1&pass=hunter2&user=app"),
            "unix:///run/redis.sock?db=1&pass=***&user=app"
        );
    }

    fn one(url: &str, options: &RedisOptions) -> Result<ServerUrl> {
        server_urls(Some("a"), &Location::One(url.into()), options).map(|mut servers| servers.remove(0))
    }

    #[test]
    fn query_parameters_are_honoured_or_refused() {
        let options = RedisOptions::default();
        assert_eq!(
            one("redis://h/0?protocol=resp3", &options)
                .unwrap()
                .info
                .redis_settings()
                .protocol(),
            redis::ProtocolVersion::RESP3
        );
        // redis-py reads `db` from any URL; redis-rs only from a socket's, so it is applied here.
        assert_eq!(one("redis://h?db=3", &options).unwrap().db, 3);
        assert_eq!(one("unix:///tmp/r.sock?db=2&pass=x", &options).unwrap().db, 2);
        for (url, expected) in [
            (
                "redis://h/0?ssl_cert_reqs=none",
                "has the query parameter `ssl_cert_reqs`, which isn't used; the ones honoured here are `db`, `protocol`",
            ),
            (
                "unix:///tmp/r.sock?timeout=1",
                "the ones honoured here are `db`, `protocol`, `user`, `pass`",
            ),
            (
                "redis://h/1?db=2",
                "selects database 1 by the path `/1` but 2 by `db=2`",
            ),
            ("redis://h?db=x", "isn't a database number"),
        ] {
            let error = one(url, &options).err().unwrap().to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }
    }

    #[test]
    fn the_options_password_and_database_apply_to_urls_without_them() {
        let options = RedisOptions {
            password: Some(crate::Password("p@ss/word".into())),
            db: Some(4),
            ..RedisOptions::default()
        };
        let server = one("redis://django@h:6379", &options).unwrap();
        assert_eq!(server.db, 4);
        assert_eq!(server.info.redis_settings().password(), Some("p@ss/word"));
        assert_eq!(server.info.redis_settings().username(), Some("django"));
        assert!(!server.shown.contains("p@ss"));
        assert_eq!(one("redis://h/4", &options).unwrap().db, 4);
        let error = one("redis://h/5", &options).err().unwrap().to_string();
        assert!(
            error.contains("selects database 5 by the path `/5` but 4 by `options.db`"),
            "{error}"
        );
        let error = one("redis://:x@h", &options).err().unwrap().to_string();
        assert!(
            error.contains("options.password: `redis://:***@h` has a password already"),
            "{error}"
        );
    }

    #[test]
    fn urls_are_checked_and_listed_by_djangos_rule() {
        let options = RedisOptions::default();
        let servers = server_urls(
            Some("a"),
            &Location::One("redis://127.0.0.1:1/2;redis://:pw@127.0.0.1:2".into()),
            &options,
        )
        .unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].db, 2);
        assert_eq!(servers[1].shown, "redis://:***@127.0.0.1:2");

        let error = server_urls(
            Some("a"),
            &Location::Many(vec!["redis://h".into(), "http://:pw@h".into()]),
            &options,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            error.starts_with("cache alias `a`: location[1]: `http://:***@h` is not a Redis URL"),
            "{error}"
        );
        assert!(!error.contains("pw"), "{error}");

        let error = server_urls(Some("a"), &Location::Unset, &options)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("needs at least one server URL"), "{error}");

        let cluster = RedisOptions {
            cluster: true,
            ..RedisOptions::default()
        };
        // An empty entry would move a replica up to writer, or lose it.
        for empty in [
            Location::One("redis://h:1;redis://h:2;".into()),
            Location::One(";redis://h:2".into()),
            Location::Many(vec!["redis://h:1".into(), String::new()]),
        ] {
            let error = server_urls(Some("a"), &empty, &options).err().unwrap().to_string();
            assert!(
                error.contains("the entry is empty; remove the extra"),
                "{empty:?}: {error}"
            );
        }
        // Every bad entry at once.
        let error = server_urls(Some("a"), &Location::One("http://h,,redis://h".into()), &options)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.starts_with("2 problems in the cache configuration:\n- cache alias `a`: location[0]"),
            "{error}"
        );
        let error = server_urls(Some("a"), &Location::One("redis://h/3".into()), &cluster)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("only database 0"), "{error}");
    }
}
