//! The example site's operator endpoints: `/metrics` (Prometheus text, from the `metrics` facade
//! through `metrics-exporter-prometheus`) and `/health` (`Caches::check` as JSON, 503 when an
//! alias is down).

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cache_core::{AliasHealth, Caches, HealthStatus};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Value, json};

/// Installs the Prometheus recorder as the process' `metrics` recorder, before any cache call, so
/// every series is registered with it. `None` when another recorder was installed first.
pub(crate) fn install_prometheus() -> Option<PrometheusHandle> {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).ok().map(|()| handle)
}

/// `/metrics` and `/health`.
pub(crate) fn routes(caches: Caches, prometheus: Option<PrometheusHandle>) -> Router {
    Router::new()
        .route("/metrics", get(move || metrics_text(prometheus.clone())))
        .route("/health", get(move || health(caches.clone())))
}

async fn metrics_text(prometheus: Option<PrometheusHandle>) -> Response {
    match prometheus {
        Some(handle) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "no Prometheus recorder: another metrics recorder was installed first",
        )
            .into_response(),
    }
}

/// The check as JSON: `status` is the worst alias' status; 503 when an alias is down, so a load
/// balancer takes the instance out.
async fn health(caches: Caches) -> Response {
    let report = caches.check().await;
    let worst = report
        .iter()
        .map(|alias| alias.status)
        .max_by_key(|status| match status {
            HealthStatus::Healthy => 0,
            HealthStatus::Degraded => 1,
            _ => 2,
        })
        .unwrap_or(HealthStatus::Healthy);
    let body = json!({
        "status": worst.as_str(),
        "aliases": report.iter().map(alias_json).collect::<Vec<_>>(),
    });
    let code = match worst {
        HealthStatus::Healthy | HealthStatus::Degraded => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, axum::Json(body)).into_response()
}

fn alias_json(alias: &AliasHealth) -> Value {
    let servers: Vec<Value> = alias
        .servers
        .iter()
        .map(|server| match &server.status {
            Ok(took) => json!({
                "server": server.server,
                "role": server.role.as_str(),
                "up": true,
                "ms": took.as_secs_f64() * 1000.0,
            }),
            Err(error) => json!({
                "server": server.server,
                "role": server.role.as_str(),
                "up": false,
                "error": error.to_string(),
            }),
        })
        .collect();
    json!({
        "alias": alias.alias,
        "backend": alias.backend,
        "status": alias.status.as_str(),
        "servers": servers,
    })
}
