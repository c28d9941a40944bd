//! Every status the webhook answers, with a body a person can act on.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Why an update was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("this address may not post updates (not in TELEGRAM_IP_RANGES)")]
    Forbidden,
    #[error("missing or wrong X-Telegram-Bot-Api-Secret-Token")]
    Unauthorized,
    #[error("the body is not a JSON object")]
    NotJson,
    #[error("the JSON is nested too deeply")]
    TooDeep,
    #[error("the update has no integer update_id")]
    NoUpdateId,
    #[error("the update could not be stored; try again")]
    Unavailable,
}

impl WebhookError {
    pub fn status(self) -> StatusCode {
        match self {
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotJson | Self::TooDeep | Self::NoUpdateId => StatusCode::BAD_REQUEST,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        tracing::debug!(status = %self.status(), reason = %self, "update refused");
        (self.status(), format!("{self}\n")).into_response()
    }
}
