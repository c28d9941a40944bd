//! The Bot API client, backed by frankenstein's reqwest client.

use std::{fmt, time::Duration};

use frankenstein::{AsyncTelegramApi, client_reqwest::Bot, response::MethodResponse};
use serde_json::Value;

mod upload;

pub use upload::{DOCUMENT_FILE, FileRef};

use super::compose::{DOCUMENT_NAME, DOCUMENT_TEXT};
use crate::{config::Secret, metrics::Metrics};

mod download;

pub use download::Download;

/// Calls Bot API methods by name with JSON parameters.
///
/// frankenstein's `Bot` derives `Debug` over a URL that contains the token, so
/// it is kept private here and this type prints only the base URL.
#[derive(Clone)]
pub struct BotClient {
    bot: Bot,
    base: String,
    /// For file downloads (`{base}/file/bot{token}/{file_path}`).
    token: Secret,
    /// Where every call is counted, by method and result (serve and poll).
    metrics: Option<Metrics>,
}

impl fmt::Debug for BotClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotClient")
            .field("base", &self.base)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// A failed call, classified for the retry policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The Bot API answered with an error.
    #[error("the Bot API answered {code}: {description}")]
    Api {
        code: u64,
        description: String,
        /// Seconds to wait, on a 429.
        retry_after: Option<u64>,
    },
    /// No usable answer: network error, timeout, closed connection, or a body
    /// that is not the Bot API's JSON (such as an HTML 502 page from a proxy).
    #[error("the Bot API could not be reached: {0}")]
    Transport(String),
    /// The call could not be made from here (a file to send is gone, moved
    /// outside its folder or grown over the limit): trying again does not help.
    #[error("{0}")]
    Local(String),
}

impl ApiError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            // 401: a revoked or mistyped token; the operator can fix it without
            // losing what is queued. 409: a conflicting webhook/getUpdates.
            Self::Api { code, .. } => *code == 429 || *code == 401 || *code == 409 || *code >= 500,
            Self::Transport(_) => true,
            Self::Local(_) => false,
        }
    }

    /// The wait Telegram asked for, on a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api {
                retry_after: Some(s),
                ..
            } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }
}

impl BotClient {
    /// A client for `{api_url}/bot{token}/{method}`.
    pub fn new(api_url: &str, token: &Secret) -> anyhow::Result<Self> {
        let http = frankenstein::reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()?;
        let bot = Bot::builder()
            .api_url(format!("{api_url}/bot{}", token.expose()))
            .client(http)
            .build();
        Ok(Self {
            bot,
            base: api_url.to_owned(),
            token: token.clone(),
            metrics: None,
        })
    }

    /// Counts every call in `telegate_bot_api_calls_total{method,result}`.
    pub fn counted_in(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Calls `method` with `params` and returns its `result`. A
    /// sendDocument that carries its text (see [`super::compose`]) is uploaded as
    /// `message.txt` in a multipart request.
    pub async fn call(&self, method: &str, params: &Value) -> Result<Value, ApiError> {
        if let (&"sendDocument", Some(text)) = (&method, params[DOCUMENT_TEXT].as_str()) {
            return self.send_text_document(params, text).await;
        }
        match (method, params[DOCUMENT_FILE].is_object()) {
            ("sendDocument", true) => return self.send_file(method, "document", params).await,
            ("sendPhoto", true) => return self.send_file(method, "photo", params).await,
            _ => {}
        }
        let response: Result<MethodResponse<Value>, _> =
            self.bot.request(method, Some(params)).await;
        self.counted(method, response.map(|r| r.result).map_err(classify))
    }

    async fn send_text_document(&self, params: &Value, text: &str) -> Result<Value, ApiError> {
        let local = |e: std::io::Error| {
            ApiError::Transport(format!("cannot write the document to upload: {e}"))
        };
        let dir = tempfile::tempdir().map_err(local)?;
        let path = dir.path().join(document_name(params));
        tokio::fs::write(&path, text).await.map_err(local)?;
        let mut form = params.clone();
        if let Value::Object(fields) = &mut form {
            fields.remove(DOCUMENT_TEXT);
            fields.remove(DOCUMENT_NAME);
        }
        self.call_with_file("sendDocument", &form, "document", &path)
            .await
    }

    /// Calls `method` as multipart/form-data, uploading the file at `path`
    /// as the parameter `field` (such as setWebhook's `certificate`).
    pub async fn call_with_file(
        &self,
        method: &str,
        params: &Value,
        field: &str,
        path: &std::path::Path,
    ) -> Result<Value, ApiError> {
        let response: Result<MethodResponse<Value>, _> = self
            .bot
            .request_with_form_data(method, params, vec![(field, path.to_owned())])
            .await;
        self.counted(method, response.map(|r| r.result).map_err(classify))
    }

    fn counted(&self, method: &str, result: Result<Value, ApiError>) -> Result<Value, ApiError> {
        if let Some(metrics) = &self.metrics {
            let outcome = match &result {
                Ok(_) => "ok".to_owned(),
                Err(ApiError::Api { code, .. }) => code.to_string(),
                Err(ApiError::Transport(_)) => "network".to_owned(),
                Err(ApiError::Local(_)) => "local".to_owned(),
            };
            metrics.count(
                "telegate_bot_api_calls_total",
                &[("method", method), ("result", &outcome)],
            );
        }
        result
    }
}

/// The uploaded file's name: [`DOCUMENT_NAME`] when it is a plain file name,
/// else `message.txt`.
fn document_name(params: &Value) -> &str {
    params[DOCUMENT_NAME]
        .as_str()
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 64
                && !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        })
        .unwrap_or("message.txt")
}

fn classify(error: frankenstein::Error) -> ApiError {
    match error {
        frankenstein::Error::Api(e) => ApiError::Api {
            code: e.error_code,
            description: e.description,
            retry_after: e.parameters.and_then(|p| p.retry_after).map(u64::from),
        },
        frankenstein::Error::JsonDecode { input, .. } => ApiError::Transport(format!(
            "the answer was not the Bot API's JSON ({} bytes, starting {:?})",
            input.len(),
            input.chars().take(60).collect::<String>()
        )),
        // frankenstein strips the URL (and so the token) from transport errors.
        other => ApiError::Transport(other.to_string()),
    }
}
