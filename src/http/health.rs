//! GET /health: a small JSON report for monitoring.

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::AppState;
use crate::store::{self, inbox, outbox};

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let db = &state.db;
    let counts = async {
        store::ping(db).await?;
        Ok::<_, sqlx::Error>((
            inbox::count_pending(db).await?,
            outbox::count_pending(db).await?,
        ))
    };
    let webhook = json!({
        "registered": state.webhook.registered(),
        "last_error": state.webhook.last_error(),
    });
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
