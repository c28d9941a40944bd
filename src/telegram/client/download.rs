//! Downloading a file that getFile named: from the Bot API's file URL, or
//! from the local disk when a self-hosted Bot API server in `--local` mode
//! answered with an absolute path. Either way the bytes come in chunks and
//! are never held whole in memory.

use std::time::Duration;

use frankenstein::reqwest;
use tokio::io::AsyncReadExt;

use super::{ApiError, BotClient};

/// The most bytes one chunk of a local file holds.
const LOCAL_CHUNK: usize = 64 * 1024;

/// A file's bytes as they arrive.
#[derive(Debug)]
pub enum Download {
    Http(reqwest::Response),
    Local(tokio::fs::File),
}

impl Download {
    /// The next chunk; `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        match self {
            Self::Http(response) => response
                .chunk()
                .await
                .map(|c| c.map(|b| b.to_vec()))
                .map_err(|e| ApiError::Transport(e.without_url().to_string())),
            Self::Local(file) => {
                let mut buffer = vec![0; LOCAL_CHUNK];
                let n = file.read(&mut buffer).await.map_err(|e| {
                    ApiError::Transport(format!("cannot read the Bot API server's local file: {e}"))
                })?;
                buffer.truncate(n);
                Ok((n > 0).then_some(buffer))
            }
        }
    }
}

impl BotClient {
    /// Starts downloading the file at `file_path` (from getFile). A 5xx or
    /// a network error is transient ([`ApiError::is_transient`]); the
    /// token never appears in an error.
    pub async fn download(&self, file_path: &str) -> Result<Download, ApiError> {
        if file_path.starts_with('/') {
            // A --local Bot API server: the file is on this machine already.
            let file = tokio::fs::File::open(file_path).await.map_err(|e| {
                ApiError::Transport(format!("cannot open the Bot API server's local file: {e}"))
            })?;
            return Ok(Download::Local(file));
        }
        if file_path.is_empty()
            || file_path
                .split('/')
                .any(|part| part.is_empty() || part == "..")
            || !file_path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
        {
            return Err(ApiError::Api {
                code: 400,
                description: "getFile answered a file path that is not a plain relative path"
                    .into(),
                retry_after: None,
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // No limit on the whole: a large file on a slow link takes long;
            // a stalled one is cut by the read timeout.
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ApiError::Transport(e.without_url().to_string()))?;
        let url = format!("{}/file/bot{}/{file_path}", self.base, self.token.expose());
        let result = match http.get(url).send().await {
            Ok(response) if response.status().is_success() => Ok(response),
            Ok(response) => Err(refusal(response).await),
            Err(e) => Err(ApiError::Transport(e.without_url().to_string())),
        };
        let counted = result
            .as_ref()
            .map(|_| serde_json::Value::Null)
            .map_err(Clone::clone);
        self.counted("downloadFile", counted)?;
        result.map(Download::Http)
    }
}

/// The error a file URL answered with: the Bot API's JSON description when
/// there is one, else the HTTP status.
async fn refusal(response: reqwest::Response) -> ApiError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let description = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["description"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.to_string());
    ApiError::Api {
        code: u64::from(status.as_u16()),
        description,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn client() -> BotClient {
        // Nothing listens there: these tests must not reach the network.
        BotClient::new("http://127.0.0.1:9", &Secret::new("1:token")).unwrap()
    }

    #[tokio::test]
    async fn a_local_bot_api_servers_absolute_path_is_read_from_disk_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file_7.bin");
        let content: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();

        let mut download = client().download(path.to_str().unwrap()).await.unwrap();
        let mut read = Vec::new();
        let mut chunks = 0;
        while let Some(chunk) = download.chunk().await.unwrap() {
            assert!(chunk.len() <= LOCAL_CHUNK);
            read.extend(chunk);
            chunks += 1;
        }

        assert_eq!(read, content);
        assert!(chunks > 1, "read in chunks, not whole");
    }

    #[tokio::test]
    async fn a_file_path_that_is_not_plain_is_refused_without_a_request() {
        for path in [
            "documents/../../secret",
            "",
            "a//b",
            "documents/a b",
            "docs/%2e%2e",
        ] {
            let refused = client().download(path).await.unwrap_err();
            assert!(
                matches!(&refused, ApiError::Api { code: 400, .. }),
                "{path:?}: {refused:?}"
            );
        }
    }
}
