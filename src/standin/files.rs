//! Files users sent, as the Bot API serves them to the bot: getFile gives a
//! file's `file_path` and `file_size` (400 "file is too big" over 20 MB),
//! and the bytes are served at `/file/bot<token>/<file_path>`.

use std::{collections::HashMap, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::{Path, State as AxumState},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Call, Fault, State, lock, methods};

/// The Bot API's download limit.
pub const DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// The files the stand-in holds, by file_id.
#[derive(Debug, Default)]
pub(super) struct Files {
    next: u64,
    by_id: HashMap<String, Held>,
}

#[derive(Debug, Clone)]
struct Held {
    unique_id: String,
    path: String,
    content: Content,
}

#[derive(Debug, Clone)]
enum Content {
    Bytes(Arc<Vec<u8>>),
    /// `n` zero bytes, never held (a large file in a test).
    Zeros(u64),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => bytes.len() as u64,
            Self::Zeros(n) => *n,
        }
    }
}

/// Holds a file with `content` (or `size` zero bytes); returns the fields a
/// message carries of it: file_id, file_unique_id and file_size.
pub(super) fn add(state: &State, content: Option<Vec<u8>>, size: u64) -> Value {
    let mut files = lock(&state.files);
    files.next += 1;
    let n = files.next;
    let held = Held {
        unique_id: format!("AgADunique{n}"),
        path: format!("documents/file_{n}"),
        content: content.map_or(Content::Zeros(size), |c| Content::Bytes(Arc::new(c))),
    };
    let file_id = format!("BQACAgIAAxkBAAI{n}");
    let fields = json!({
        "file_id": file_id,
        "file_unique_id": held.unique_id,
        "file_size": held.content.len(),
    });
    files.by_id.insert(file_id, held);
    fields
}

/// getFile.
pub(super) fn get_file(state: &State, params: &Value) -> Result<Value, String> {
    let file_id = params["file_id"].as_str().unwrap_or_default();
    let files = lock(&state.files);
    let held = files
        .by_id
        .get(file_id)
        .ok_or_else(|| "Bad Request: invalid file_id".to_owned())?;
    if held.content.len() > DOWNLOAD_LIMIT {
        return Err("Bad Request: file is too big".to_owned());
    }
    Ok(json!({
        "file_id": file_id,
        "file_unique_id": held.unique_id,
        "file_size": held.content.len(),
        "file_path": held.path,
    }))
}

/// GET /file/bot<token>/<file_path>: the bytes, recorded as a call to the
/// method `download` (faults for `download` apply).
pub(super) async fn download(
    AxumState(state): AxumState<Arc<State>>,
    Path((token, path)): Path<(String, String)>,
) -> Response {
    let authorised = token.strip_prefix("bot") == Some(lock(&state.token).as_str());
    let fault = if authorised {
        super::methods::next_fault(&state, "download", None)
    } else {
        None
    };
    let found = lock(&state.files)
        .by_id
        .values()
        .find(|held| held.path == path)
        .map(|held| held.content.clone());
    let record = |status: u16| {
        lock(&state.calls).push(Call {
            method: "download".into(),
            params: json!({ "file_path": path }),
            status,
            at_ms: state.clock.now_ms(),
            result: Value::Null,
        });
        state.changed.notify_waiters();
    };
    let response = match (authorised, fault, found) {
        (false, _, _) => methods::error(401, "Unauthorized", None),
        (true, Some(Fault::Hang), _) => {
            record(0);
            return std::future::pending().await;
        }
        (true, Some(fault), _) => methods::fault_response(fault),
        (true, None, None) => methods::error(404, "Not Found", None),
        (true, None, Some(content)) => serve(content),
    };
    record(response.status().as_u16());
    response
}

fn serve(content: Content) -> Response {
    match content {
        Content::Bytes(bytes) => Bytes::from(bytes.as_ref().clone()).into_response(),
        Content::Zeros(n) => {
            const CHUNK: u64 = 64 * 1024;
            let chunks = (0..n.div_ceil(CHUNK)).map(move |i| {
                let len = CHUNK.min(n - i * CHUNK);
                Ok::<_, std::io::Error>(Bytes::from(vec![0u8; usize::try_from(len).unwrap_or(0)]))
            });
            Body::from_stream(futures_util::stream::iter(chunks)).into_response()
        }
    }
}
