//! Sending a file from disk: the outbox holds where it lies (a root and a
//! path below it), never its bytes; it is reopened here the same safe way
//! it was checked ([`crate::files::beneath`]) and streamed from that open
//! file into the multipart body, never read whole into memory.

use std::{path::PathBuf, time::Duration};

use frankenstein::reqwest::{Body, multipart};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use super::{ApiError, BotClient};
use crate::files::beneath::{self, Opened};

/// The parameter of a sendDocument or sendPhoto that names the file to send.
pub const DOCUMENT_FILE: &str = "document_file";

/// How long one upload may take (50 MB on a slow uplink).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Where the file to send lies, as the outbox stores it.
#[derive(Debug, Deserialize)]
pub struct FileRef {
    /// An absolute folder; `path` is opened beneath it.
    pub root: PathBuf,
    pub path: PathBuf,
    /// A file larger than this when it is sent is refused.
    pub max_bytes: u64,
}

impl BotClient {
    /// `method` (sendDocument, sendPhoto) with the file that `params`'
    /// [`DOCUMENT_FILE`] names as its `field`.
    pub(super) async fn send_file(
        &self,
        method: &str,
        field: &str,
        params: &Value,
    ) -> Result<Value, ApiError> {
        let result = self.upload(method, field, params).await;
        self.counted(method, result)
    }

    async fn upload(&self, method: &str, field: &str, params: &Value) -> Result<Value, ApiError> {
        let file: FileRef = serde_json::from_value(params[DOCUMENT_FILE].clone()).map_err(|e| {
            ApiError::Local(format!("the outbox's file reference is unreadable: {e}"))
        })?;
        let path = file.path.clone();
        let root = file.root.clone();
        let opened = tokio::task::spawn_blocking(move || beneath::open(&root, &path))
            .await
            .map_err(|e| ApiError::Local(format!("cannot open the file to send: {e}")))?;
        let (handle, size) = match opened {
            Ok(Opened::File(handle, size)) => (handle, size),
            Ok(Opened::Dir(_)) => {
                return Err(ApiError::Local(format!(
                    "{} is a folder now, not a file",
                    file.path.display()
                )));
            }
            Err(e) => {
                return Err(ApiError::Local(format!(
                    "cannot send {}: {e}",
                    file.path.display()
                )));
            }
        };
        if size > file.max_bytes {
            return Err(ApiError::Local(format!(
                "{} has grown to {size} bytes, over the limit of {}",
                file.path.display(),
                file.max_bytes
            )));
        }
        let name = file
            .path
            .file_name()
            .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        // Exactly the size announced: a file still growing is cut there.
        let reader = tokio::fs::File::from_std(handle).take(size);
        let body = Body::wrap_stream(ReaderStream::new(reader));
        let part = multipart::Part::stream_with_length(body, size).file_name(name);
        let mut form = multipart::Form::new();
        if let Value::Object(fields) = params {
            for (key, value) in fields {
                if key == DOCUMENT_FILE || key == field {
                    continue;
                }
                form = match value {
                    Value::String(text) => form.text(key.clone(), text.clone()),
                    other => form.text(key.clone(), other.to_string()),
                };
            }
        }
        form = form.part(field.to_owned(), part);
        let response = self
            .bot
            .client
            .post(format!("{}/{method}", self.bot.api_url))
            .timeout(UPLOAD_TIMEOUT)
            .multipart(form)
            .send()
            .await
            // without_url: the URL holds the token.
            .map_err(|e| ApiError::Transport(e.without_url().to_string()))?;
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::Transport(e.without_url().to_string()))?;
        answer(&text)
    }
}

/// The Bot API's answer: its `result`, or its error.
fn answer(text: &str) -> Result<Value, ApiError> {
    let body: Value = serde_json::from_str(text).map_err(|_| {
        ApiError::Transport(format!(
            "the answer was not the Bot API's JSON ({} bytes)",
            text.len()
        ))
    })?;
    if body["ok"].as_bool() == Some(true) {
        return Ok(body["result"].clone());
    }
    Err(ApiError::Api {
        code: body["error_code"].as_u64().unwrap_or(500),
        description: body["description"].as_str().unwrap_or_default().to_owned(),
        retry_after: body["parameters"]["retry_after"].as_u64(),
    })
}
