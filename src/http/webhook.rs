//! POST on the webhook path: validate, store durably, answer 200.
//! Nothing is processed here and the Bot API is never called.

use axum::{body::Bytes, extract::State, http::StatusCode};

use super::{AppState, WebhookError, update_json};
use crate::ingest::Stored;

pub async fn receive(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<StatusCode, WebhookError> {
    let update = update_json::parse(&body)?;
    let update_id = update.update_id;
    match state.ingest.store(update).await {
        Ok(Stored::New) => tracing::debug!(update_id, "update stored"),
        Ok(Stored::Duplicate) => tracing::debug!(update_id, "update redelivered; already stored"),
        Err(_) => return Err(WebhookError::Unavailable),
    }
    Ok(StatusCode::OK)
}
