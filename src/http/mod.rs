//! The HTTP surface and the whole tower layer stack, in one place.

mod error;
mod gate;
mod health;
pub mod middleware;
pub mod serve;
mod update_json;
mod webhook;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{HeaderName, StatusCode},
    middleware::from_fn_with_state,
    routing::{MethodRouter, get, post},
};
use ipnet::IpNet;
use tower::ServiceBuilder;
use tower_http::{
    body::Limited,
    limit::RequestBodyLimitLayer,
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnFailure, TraceLayer},
};

use crate::{
    config::Secret, ingest::Ingest, metrics::Metrics, store::Db, telegram::register::WebhookStatus,
};

pub use error::WebhookError;
pub use gate::Gate;
pub use middleware::client_ip::client_address;
pub use update_json::parse as parse_update;

/// Largest update accepted (Telegram's are a few KiB; 1 MiB is generous).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The header Telegram sends the webhook secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// What the handlers and middleware share.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Whether the database can be written, for /health.
    pub faults: Arc<crate::store::fault::Faults>,
    pub ingest: Ingest,
    pub webhook_secret: Secret,
    pub trusted_proxies: Arc<[IpNet]>,
    pub telegram_ranges: Arc<[IpNet]>,
    pub webhook: Arc<WebhookStatus>,
    pub metrics: Metrics,
}

/// The router: the webhook on `webhook_path`, /health, and 404 for the rest.
///
/// The webhook's guards run in this order: body limit (413), client address
/// (403), secret token (401); only then is the body read.
pub fn build_app(state: AppState, webhook_path: &str) -> Router {
    let guards = ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // axum's extractors read `Body`; the limit still applies inside it.
        .map_request(|r: Request<Limited<Body>>| r.map(Body::new))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::client_ip::require_telegram,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::secret_token::require,
        ));
    let webhook: MethodRouter<AppState> = post(webhook::receive)
        .layer(guards)
        .layer(from_fn_with_state(state.clone(), measure));
    Router::new()
        .route(webhook_path, webhook)
        .route("/health", get(health::health))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ))
        // A 503 is the webhook's answer while the database cannot be
        // written, summarised by the fault tracker: one log line per request
        // would fill what is left of the disk.
        .layer(
            TraceLayer::new_for_http()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([
            HeaderName::from_static(SECRET_HEADER),
        ]))
        .with_state(state)
}

/// Counts each webhook answer by outcome and times it.
async fn measure(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let outcome = match response.status().as_u16() {
        200 => "ok",
        400 => "bad_json",
        401 => "wrong_secret",
        403 => "address_not_allowed",
        413 => "too_large",
        503 => "not_stored",
        _ => "other",
    };
    let took = (outcome == "ok").then(|| started.elapsed());
    state.metrics.webhook_answer(outcome, took);
    response
}
