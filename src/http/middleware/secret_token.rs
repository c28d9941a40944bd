//! Requires Telegram's secret token header, compared in constant time.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::http::{AppState, SECRET_HEADER, WebhookError};

pub async fn require(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let presented = request.headers().get(SECRET_HEADER);
    match presented {
        Some(value) if state.webhook_secret.matches(value.as_bytes()) => next.run(request).await,
        _ => WebhookError::Unauthorized.into_response(),
    }
}
