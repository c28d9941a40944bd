//! GET /health: a small JSON report for monitoring, for local eyes only.
//!
//! It answers a peer on loopback or in TRUSTED_PROXIES (nginx, which admits
//! only loopback and the monitoring host); anyone else gets 403 (Telegram's
//! addresses), or has had its connection closed on accepting it (see
//! `gate`). With direct TLS there is no proxy, so the internet at large
//! cannot read it.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::{
    AppState,
    middleware::client_ip::{canonical, contains},
};
use crate::store::{self, inbox, outbox};

pub async fn health(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> (StatusCode, Json<Value>) {
    let ip = canonical(peer.ip());
    if !ip.is_loopback() && !contains(&state.trusted_proxies, ip) {
        let body = json!({ "error": "/health answers only loopback and TRUSTED_PROXIES" });
        return (StatusCode::FORBIDDEN, Json(body));
    }
    let webhook = json!({
        "registered": state.webhook.registered(),
        "last_error": state.webhook.last_error(),
    });
    if let Some(failing) = state.faults.failing() {
        // Reads may still work, but nothing new can be stored or handled.
        let body = json!({
            "status": "unavailable",
            "version": env!("CARGO_PKG_VERSION"),
            "database": "failing",
            "database_error": failing.error,
            "failing_for_seconds": failing.for_.as_secs(),
            "webhook": webhook,
        });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    let db = &state.db;
    let counts = async {
        store::ping(db).await?;
        Ok::<_, sqlx::Error>((
            inbox::count_pending(db).await?,
            outbox::count_pending(db).await?,
        ))
    };
    match counts.await {
        Ok((updates, outbound)) => {
            let status = if state.webhook.registered() {
                "ok"
            } else {
                "degraded"
            };
            let body = json!({
                "status": status,
                "version": env!("CARGO_PKG_VERSION"),
                "database": "ok",
                "pending_updates": updates,
                "pending_outbound": outbound,
                "webhook": webhook,
            });
            (StatusCode::OK, Json(body))
        }
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            let body = json!({
                "status": "unavailable",
                "version": env!("CARGO_PKG_VERSION"),
                "database": "unreachable",
                "webhook": webhook,
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}
