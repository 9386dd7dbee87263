//! `rediss://`: the conformance suite over TLS to a `redis-server` whose certificate is signed by a
//! CA this test makes, trusted through `options.tls_ca_file`. Each behaviour is a test of its own
//! (`harness = false`, built with the `tls` feature: the testkit's `Harness` is `main`), and the
//! server started here is stopped before the binary exits.

mod common;

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::ExitCode;

use cache_core::Location;
use cache_core::testkit::Harness;
use cache_core::testkit::servers::RedisServer;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use serde_json::json;

/// Writes `ca.pem`, `server.pem` and `server.key` (for 127.0.0.1 and localhost) into `dir`.
fn certificates(dir: &Path) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "cache-redis test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let server = server.signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

/// The system's store doesn't know this CA: the handshake fails, naming the alias and server.
async fn an_untrusted_certificate_fails_naming_the_alias_and_server(url: String) {
    let untrusted = common::cache("untrusted", Location::One(url.clone()), "", json!({})).unwrap();
    let message = untrusted.get::<i64>("k").await.unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("cache alias `untrusted`, key 'k': redis {url}: GET failed")),
        "{message}"
    );
}

async fn an_unreadable_ca_file_is_a_configuration_error(url: String, missing: String) {
    let error = common::cache("unreadable", Location::One(url), "", json!({"tls_ca_file": missing})).unwrap_err();
    // The helper's `default` alias shares the options, so both aliases' problems are reported.
    let problems: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{error}");
    for (problem, alias) in problems.iter().zip(["default", "unreadable"]) {
        assert!(
            problem.starts_with(&format!("cache alias `{alias}`: options.tls_ca_file: can't read")),
            "{problem}"
        );
    }
}

async fn a_ca_file_without_a_tls_location_is_refused(plain_url: String, ca: String) {
    let error = common::cache("plain", Location::One(plain_url), "", json!({"tls_ca_file": ca}))
        .unwrap_err()
        .to_string();
    assert!(error.contains("no location uses TLS"), "{error}");
}

fn main() -> ExitCode {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let tls_port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let (cert, key, ca) = (file("server.pem"), file("server.key"), file("ca.pem"));
    let mut harness = Harness::new();
    let server = harness
        .block_on(RedisServer::start_with(&[
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
        ]))
        .expect("redis-server starts with TLS");
    let url = format!("rediss://127.0.0.1:{tls_port}/0");
    let subject =
        harness.block_on(async { common::subject(Location::One(url.clone()), json!({"tls_ca_file": ca.clone()})) });

    let (untrusted_url, unreadable_url, missing) = (url.clone(), url, file("nope.pem"));
    let plain_url = server.url();
    harness
        .conformance("redis_tls", &subject)
        .check(
            "redis_tls::an_untrusted_certificate_fails_naming_the_alias_and_server",
            move || an_untrusted_certificate_fails_naming_the_alias_and_server(untrusted_url),
        )
        .check("redis_tls::an_unreadable_ca_file_is_a_configuration_error", move || {
            an_unreadable_ca_file_is_a_configuration_error(unreadable_url, missing)
        })
        .check("redis_tls::a_ca_file_without_a_tls_location_is_refused", move || {
            a_ca_file_without_a_tls_location_is_refused(plain_url, ca)
        });
    let conclusion = harness.run();
    server.stop();
    conclusion.exit_code()
}
