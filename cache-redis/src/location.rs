//! Turning an alias' `location` into redis-rs clients: URLs checked at build time, passwords kept
//! out of every message.

use cache_core::{CacheError, Location, Result};
use redis::IntoConnectionInfo;

use crate::options::RedisOptions;

/// One server URL of the location, checked.
pub(crate) struct ServerUrl {
    /// As written (it holds the password, if any): only ever given to redis-rs.
    pub(crate) url: String,
    /// For messages and `Debug`: the URL with its password replaced by `***`.
    pub(crate) shown: String,
    /// `rediss://`.
    pub(crate) tls: bool,
    /// The logical database the URL selects.
    pub(crate) db: i64,
}

/// The URLs of `location` by Django's rule (a string split on `;` and `,`, a list as is), each
/// parsed by redis-rs now so a malformed one fails `Caches::build` naming the alias and the entry.
pub(crate) fn server_urls(alias: Option<&str>, location: &Location, options: &RedisOptions) -> Result<Vec<ServerUrl>> {
    let urls = location.servers();
    if urls.is_empty() {
        return Err(CacheError::config(
            alias,
            "location",
            "a Redis alias needs at least one server URL, such as \"redis://127.0.0.1:6379/0\" \
             (a list or a `,`/`;`-separated string: the first is written to, the others are read from)",
        ));
    }
    let several = urls.len() > 1;
    let parsed: Vec<ServerUrl> = urls
        .into_iter()
        .enumerate()
        .map(|(index, url)| {
            let field = if several {
                format!("location[{index}]")
            } else {
                "location".to_owned()
            };
            parse(alias, &field, url)
        })
        .collect::<Result<_>>()?;
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

fn parse(alias: Option<&str>, field: &str, url: String) -> Result<ServerUrl> {
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
                "`{shown}` is not a Redis URL ({}); write redis://[[user]:password@]host[:port][/db], \
                 rediss://… for TLS, or unix:///path/to/socket",
                error.detail().unwrap_or(&error.to_string())
            ),
        )
    })?;
    let tls = matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. });
    let db = info.redis_settings().db();
    Ok(ServerUrl { url, shown, tls, db })
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
        Some(certificates) if server.tls => redis::Client::build_with_tls(server.url.as_str(), certificates.clone()),
        _ => redis::Client::open(server.url.as_str()),
    };
    client.map_err(|error| client_error(alias, server, &error))
}

/// A client for one server.
#[cfg(not(feature = "tls"))]
pub(crate) fn client(alias: Option<&str>, server: &ServerUrl, _certificates: Option<&()>) -> Result<redis::Client> {
    redis::Client::open(server.url.as_str()).map_err(|error| client_error(alias, server, &error))
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
        let error = server_urls(Some("a"), &Location::One("redis://h/3".into()), &cluster)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("only database 0"), "{error}");
    }
}
