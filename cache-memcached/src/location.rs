//! Server addresses from an alias' `location`, read as Django's `PyMemcacheCache` (pymemcache's
//! `normalize_server_spec`) reads them.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;

use cache_core::{CacheError, Location, Result};

/// memcached's port when an address gives none.
pub const DEFAULT_PORT: u16 = 11211;

/// Where one memcached server listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerAddress {
    /// A TCP server; the host is resolved each time a connection is opened.
    Tcp {
        /// A host name or an IP address (an IPv6 address without its brackets).
        host: String,
        /// The port.
        port: u16,
    },
    /// A unix domain socket.
    Unix(PathBuf),
}

impl ServerAddress {
    /// Reads one address the way pymemcache does: `unix:/path` or `/path` is a socket,
    /// `host:port`, `[v6]:port`, `host` or `[v6]` a TCP server (port 11211 when absent).
    ///
    /// Whitespace around the address is ignored. An empty host or socket path, a port that is not
    /// a number from 1 to 65535, and an IPv6 address without brackets are errors whose message
    /// says what to write instead.
    pub fn parse(text: &str) -> std::result::Result<ServerAddress, String> {
        let text = text.trim();
        if let Some((scheme, rest)) = text.split_once("://") {
            return Err(url_given(text, scheme, rest));
        }
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(format!(
                    "`{text}` names no socket path; write `unix:/path/to/memcached.sock`"
                ));
            }
            return Ok(ServerAddress::Unix(PathBuf::from(path)));
        }
        if text.starts_with('/') {
            return Ok(ServerAddress::Unix(PathBuf::from(text)));
        }
        let (host, port) = if !text.contains(':') || text.ends_with(']') {
            (text, DEFAULT_PORT)
        } else {
            let (host, port) = text.rsplit_once(':').unwrap_or((text, ""));
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| format!("`{text}` has no valid port after the last `:`; write `host:11211`"))?;
            (host, port)
        };
        let host = match host.strip_prefix('[') {
            Some(inner) => inner
                .strip_suffix(']')
                .ok_or_else(|| format!("`{text}` opens a `[` it doesn't close; write `[::1]:11211`"))?,
            None if host.contains(':') => return Err(unbracketed_ipv6(text)),
            None => host,
        };
        if host.is_empty() {
            return Err(format!(
                "`{text}` names no host; write one before the port, such as `127.0.0.1:{port}`, or a socket as \
                 `unix:/path`"
            ));
        }
        Ok(ServerAddress::Tcp {
            host: host.to_owned(),
            port,
        })
    }

    /// The name pymemcache's `HashClient` gives this server in its rendezvous hash: `host:port`
    /// (an IPv6 host without brackets) or the socket path. Keys are placed by this name, so a
    /// Rust and a Django process configured with the same servers agree on where each key lives.
    pub fn node_name(&self) -> String {
        match self {
            ServerAddress::Tcp { host, port } => format!("{host}:{port}"),
            ServerAddress::Unix(path) => path.display().to_string(),
        }
    }
}

impl fmt::Display for ServerAddress {
    /// `host:port`, `[v6]:port` or `unix:/path`: a form [`ServerAddress::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddress::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            ServerAddress::Tcp { host, port } => write!(f, "{host}:{port}"),
            ServerAddress::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// The error for a URL (`redis://127.0.0.1:6379`, `memcache://host`): memcached servers are
/// written without a scheme. The suggestion is the URL's host and port, when that is an address.
fn url_given(text: &str, scheme: &str, rest: &str) -> String {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
    let wrong_backend = if scheme.to_ascii_lowercase().starts_with("redis") {
        " (a Redis URL belongs to an alias whose backend is `redis`)"
    } else {
        ""
    };
    match ServerAddress::parse(host_port) {
        Ok(address) => format!(
            "`{text}` is a URL, but memcached servers are written without a scheme{wrong_backend}; write `{address}`"
        ),
        Err(_) => format!(
            "`{text}` is a URL, but memcached servers are written without a scheme{wrong_backend}; write \
             the server as `127.0.0.1:11211` is written"
        ),
    }
}

/// The error for an IPv6 address written without brackets. `::1` alone is an address (port
/// 11211); `fe80::1:11211` may be an address and a port: suggest the reading that parses.
fn unbracketed_ipv6(text: &str) -> String {
    if text.parse::<Ipv6Addr>().is_ok() {
        return format!("`{text}` is an IPv6 address without brackets; write `[{text}]:{DEFAULT_PORT}`");
    }
    if let Some((host, port)) = text.rsplit_once(':')
        && host.parse::<Ipv6Addr>().is_ok()
        && port.parse::<u16>().is_ok_and(|port| port != 0)
    {
        return format!("`{text}` looks like an IPv6 address and a port without brackets; write `[{host}]:{port}`");
    }
    format!("`{text}` is neither `host:port` nor an IPv6 address in brackets; write `[::1]:11211` for an IPv6 server")
}

/// Every server of an alias' `location`: a string split on `;` and `,`, or a list, each entry
/// read by [`ServerAddress::parse`]. At least one server is required, and a server may appear
/// only once.
pub fn servers_from_location(alias: &str, location: &Location) -> Result<Vec<ServerAddress>> {
    let entries = location.servers();
    let entries: Vec<&str> = entries.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    if entries.is_empty() {
        return Err(CacheError::config(
            Some(alias),
            "location",
            "memcached needs at least one server: `host:port`, `unix:/path` or `/path`, several \
             separated by `;` or `,`, or a list",
        ));
    }
    let mut servers: Vec<ServerAddress> = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    for entry in entries {
        match ServerAddress::parse(entry) {
            Err(message) => problems.push(CacheError::config(Some(alias), "location", message)),
            Ok(server) if servers.contains(&server) => problems.push(CacheError::config(
                Some(alias),
                "location",
                format!("the server `{server}` is listed twice; list each server once"),
            )),
            Ok(server) => servers.push(server),
        }
    }
    CacheError::combine(problems).map_or(Ok(servers), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> ServerAddress {
        ServerAddress::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn djangos_forms() {
        assert_eq!(
            ServerAddress::parse("127.0.0.1:11211").unwrap(),
            tcp("127.0.0.1", 11211)
        );
        assert_eq!(ServerAddress::parse("localhost").unwrap(), tcp("localhost", 11211));
        assert_eq!(ServerAddress::parse("server1.tld").unwrap(), tcp("server1.tld", 11211));
        assert_eq!(ServerAddress::parse("server2:11212").unwrap(), tcp("server2", 11212));
        assert_eq!(ServerAddress::parse("[::1]:11211").unwrap(), tcp("::1", 11211));
        assert_eq!(ServerAddress::parse("[::1]").unwrap(), tcp("::1", 11211));
        assert_eq!(
            ServerAddress::parse("unix:/run/memcached/socket").unwrap(),
            ServerAddress::Unix("/run/memcached/socket".into())
        );
        assert_eq!(
            ServerAddress::parse("/run/memcached/socket").unwrap(),
            ServerAddress::Unix("/run/memcached/socket".into())
        );
        assert_eq!(ServerAddress::parse(" 10.0.0.1:1 ").unwrap(), tcp("10.0.0.1", 1));
    }

    #[test]
    fn node_names_are_pymemcaches() {
        // pymemcache: HashClient._make_client_key(normalize_server_spec(s)).
        for (written, node) in [
            ("127.0.0.1:11211", "127.0.0.1:11211"),
            ("localhost", "localhost:11211"),
            ("[::1]:11211", "::1:11211"),
            ("[::1]", "::1:11211"),
            ("unix:/tmp/x", "/tmp/x"),
            ("/tmp/x", "/tmp/x"),
            ("server1.tld", "server1.tld:11211"),
        ] {
            assert_eq!(ServerAddress::parse(written).unwrap().node_name(), node, "{written}");
        }
    }

    #[test]
    fn display_reads_back() {
        for written in ["127.0.0.1:11211", "[::1]:11211", "unix:/tmp/x", "host:1"] {
            let address = ServerAddress::parse(written).unwrap();
            assert_eq!(address.to_string(), written);
            assert_eq!(ServerAddress::parse(&address.to_string()).unwrap(), address);
        }
    }

    #[test]
    fn mistakes_say_what_to_write() {
        for (written, expected) in [
            ("host:", "no valid port"),
            ("host:port", "no valid port"),
            ("host:0", "no valid port"),
            ("host:70000", "no valid port"),
            ("::1", "IPv6 address without brackets; write `[::1]:11211`"),
            (
                "fe80::1:11211",
                "IPv6 address and a port without brackets; write `[fe80::1]:11211`",
            ),
            ("1:2:3", "neither `host:port` nor an IPv6 address in brackets"),
            (
                "redis://127.0.0.1:6379",
                "a Redis URL belongs to an alias whose backend is `redis`); write `127.0.0.1:6379`",
            ),
            ("[::1:11211", "opens a `[`"),
            (":11211", "names no host"),
            ("unix:", "names no socket path"),
        ] {
            let error = ServerAddress::parse(written).unwrap_err();
            assert!(error.contains(expected), "{written}: {error}");
        }
    }

    #[test]
    fn every_suggestion_is_itself_a_valid_address() {
        // Found by hand: `::1` suggested `[:]:1`, a Redis URL `[redis://127.0.0.1]:6379`.
        let mut inputs: Vec<String> = [
            "::1",
            ":::",
            "::",
            "fe80::1:11211",
            "fe80::1",
            "[::1",
            "1:2:3",
            "a:b:c",
            "host:",
            "host:0",
            "host:x",
            ":11211",
            "unix:",
            "redis://127.0.0.1:6379",
            "redis://:pw@h:1/0",
            "memcache://h",
            "http://[::1]:80/x",
            "rediss://",
            "a://b:c:d",
            "2001:db8::1:99999",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Every short string over the characters addresses are made of.
        let alphabet = [":", "1", "a", "[", "]", "/", "f"];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        inputs.push(format!("{a}{b}{c}{d}"));
                    }
                }
            }
        }
        for input in inputs {
            let Err(message) = ServerAddress::parse(&input) else {
                continue;
            };
            if let Some((_, rest)) = message.split_once("write `") {
                let suggestion = rest.split('`').next().unwrap();
                assert!(
                    ServerAddress::parse(suggestion).is_ok(),
                    "`{input}` suggests `{suggestion}`, which doesn't parse: {message}"
                );
            }
        }
    }

    #[test]
    fn location_lists_and_separators() {
        let expected = vec![tcp("server1.tld", 11211), tcp("server2", 11211)];
        for location in [
            Location::Many(vec!["server1.tld".into(), "server2:11211".into()]),
            Location::One("server1.tld;server2:11211".into()),
            Location::One("server1.tld,server2:11211".into()),
            Location::One("server1.tld, server2:11211;".into()),
        ] {
            assert_eq!(servers_from_location("a", &location).unwrap(), expected, "{location:?}");
        }
    }

    #[test]
    fn location_errors_name_the_alias() {
        let error = servers_from_location("sessions", &Location::Unset)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("cache alias `sessions`: location: memcached needs at least one server"),
            "{error}"
        );
        let error = servers_from_location("a", &Location::One("h:1;h:1".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("listed twice"), "{error}");
        let error = servers_from_location("a", &Location::One("h:x".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "cache alias `a`: location: `h:x` has no valid port after the last `:`; write `host:11211`"
        );
    }
}
