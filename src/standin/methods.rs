//! The stand-in's HTTP routes and the Bot API methods it implements.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State as AxumState},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::{Value, json};

use super::{Call, Fault, State, callbacks, lock, messages, updates};
use crate::telegram::throttle::is_message;

/// The largest multipart request the Bot API takes from a bot (50 MB
/// uploads); past it, 413 Request Entity Too Large.
const UPLOAD_MAX: usize = 50 << 20;

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/{token}/{method}", any(call))
        .route(
            "/file/{token}/{*path}",
            axum::routing::get(super::files::download),
        )
        .layer(DefaultBodyLimit::max(UPLOAD_MAX))
        .with_state(state)
}

async fn call(
    AxumState(state): AxumState<Arc<State>>,
    Path((token, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    if token.strip_prefix("bot") != Some(lock(&state.token).as_str()) {
        // Recorded without its parameters, which are never read.
        lock(&state.calls).push(Call {
            method,
            params: Value::Null,
            status: 401,
            at_ms: state.clock.now_ms(),
            result: Value::Null,
        });
        state.changed.notify_waiters();
        return error(401, "Unauthorized", None);
    }
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let parsed = if multipart {
        form_params(request).await
    } else {
        json_params(request).await.map_err(|d| (400, d))
    };
    let params = match parsed {
        Ok(params) => params,
        Err((code, description)) => return error(code, &description, None),
    };
    let fault = next_fault(&state, &method, params["chat_id"].as_i64());
    if fault == Some(Fault::Hang) {
        lock(&state.calls).push(Call {
            method,
            params,
            status: 0,
            at_ms: state.clock.now_ms(),
            result: Value::Null,
        });
        state.changed.notify_waiters();
        return std::future::pending().await;
    }
    let dropped = fault == Some(Fault::Drop);
    let at_ms = state.clock.now_ms();
    let mut result = Value::Null;
    let response = match fault {
        Some(fault) => fault_response(fault),
        None => match flood_wait(&state, &method, &params, at_ms) {
            Some(seconds) => error(
                429,
                &format!("Too Many Requests: retry after {seconds}"),
                Some(seconds),
            ),
            None if method == "getUpdates" => updates::get_updates(&state, &params).await,
            None => match answer(&state, &method, &params) {
                Ok((value, description)) => {
                    result = value.clone();
                    match description {
                        Some(description) => ok_described(value, description),
                        None => ok(value),
                    }
                }
                Err((code, description)) => error(code, &description, None),
            },
        },
    };
    lock(&state.calls).push(Call {
        method,
        params,
        status: if dropped {
            0
        } else {
            response.status().as_u16()
        },
        at_ms,
        result,
    });
    state.changed.notify_waiters();
    response
}

async fn json_params(request: Request) -> Result<Value, String> {
    let body = axum::body::to_bytes(request.into_body(), 64 << 20)
        .await
        .map_err(|_| "Bad Request: request too large".to_owned())?;
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body).map_err(|_| "Bad Request: can't parse JSON".to_owned())
}

/// multipart/form-data as the Bot API takes it: text fields (JSON values
/// written as text), and files, recorded as their name, content and size.
async fn form_params(request: Request) -> Result<Value, (u16, String)> {
    let bad = |status: StatusCode| match status {
        StatusCode::PAYLOAD_TOO_LARGE => (413, "Request Entity Too Large".to_owned()),
        _ => (400, "Bad Request: can't parse multipart form".to_owned()),
    };
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| bad(e.status()))?;
    let mut params = json!({});
    while let Some(field) = form.next_field().await.map_err(|e| bad(e.status()))? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| bad(e.status()))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        params[name] = match file_name {
            Some(file_name) => {
                json!({ "file_name": file_name, "content": text, "size": bytes.len() })
            }
            None => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        };
    }
    Ok(params)
}

/// The seconds to wait when this call would break a flood limit.
fn flood_wait(state: &State, method: &str, params: &Value, now: i64) -> Option<u64> {
    let limits = (*lock(&state.limits))?;
    let chat_id = params["chat_id"].as_i64()?;
    // Telegram counts every edit; telegate's own pacing may not know them all.
    if !is_message(method) && method != "editMessageReplyMarkup" {
        return None;
    }
    lock(&state.ledger).admit(&limits, chat_id, now).err()
}

pub(super) fn next_fault(state: &State, method: &str, chat_id: Option<i64>) -> Option<Fault> {
    let mut faults = lock(&state.faults);
    if let Some(fault) = faults.once.get_mut(method).and_then(|q| q.pop_front()) {
        return Some(fault);
    }
    let for_chat = chat_id.and_then(|id| faults.chats.get(&id));
    for_chat.or_else(|| faults.always.get(method)).cloned()
}

pub(super) fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Error {
            code,
            description,
            retry_after,
        } => error(code, &description, retry_after),
        Fault::HtmlBadGateway => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        )
            .into_response(),
        Fault::Hang => error(500, "Internal Server Error", None),
        Fault::Drop => {
            // Promise a body and fail before sending it: the client sees the
            // connection close without a usable answer.
            let broken = futures_util::stream::once(async {
                Err::<Bytes, _>(std::io::Error::other("connection dropped by the stand-in"))
            });
            (
                [(header::CONTENT_LENGTH, "64")],
                Body::from_stream(broken),
            )
                .into_response()
        }
    }
}

/// A method's result and description, or its error's code and description.
type Answered = Result<(Value, Option<&'static str>), (u16, String)>;

fn answer(state: &State, method: &str, params: &Value) -> Answered {
    let bad = |description: String| (400, description);
    let plain = |result: Value| (result, None);
    match method {
        "getMe" => Ok(plain(json!({
            "id": state.bot_id,
            "is_bot": true,
            "first_name": "telegate sandbox",
            "username": state.username,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
        }))),
        "setWebhook" => set_webhook(state, params),
        "deleteWebhook" => {
            *lock(&state.webhook) = Value::Null;
            if params["drop_pending_updates"].as_bool() == Some(true) {
                lock(&state.held).clear();
            }
            Ok((json!(true), Some("Webhook was deleted")))
        }
        "getWebhookInfo" => {
            let hook = lock(&state.webhook).clone();
            Ok(plain(json!({
                "url": hook["url"].as_str().unwrap_or_default(),
                "has_custom_certificate": hook["has_custom_certificate"] == true,
                "pending_update_count": lock(&state.held).len(),
                "max_connections": hook["max_connections"].as_u64().unwrap_or(40),
                "allowed_updates": hook["allowed_updates"],
            })))
        }
        "sendMessage" => messages::send_message(state, params)
            .map(plain)
            .map_err(bad),
        "editMessageText" => messages::edit_message_text(state, params)
            .map(plain)
            .map_err(bad),
        "editMessageReplyMarkup" => messages::edit_message_reply_markup(state, params)
            .map(plain)
            .map_err(bad),
        "sendDocument" => messages::send_document(state, params)
            .map(plain)
            .map_err(bad),
        "getFile" => super::files::get_file(state, params)
            .map(plain)
            .map_err(bad),
        // Kept like a document under its file name (the answer carries
        // `document`, not Telegram's `photo` sizes).
        "sendPhoto" => {
            let mut params = params.clone();
            params["document"] = params["photo"].take();
            messages::send_document(state, &params)
                .map(plain)
                .map_err(bad)
        }
        "answerCallbackQuery" => callbacks::answer_callback_query(state, params)
            .map(plain)
            .map_err(bad),
        "setMyCommands" | "deleteMyCommands" | "leaveChat" | "deleteMessage" | "sendChatAction" => {
            let needs_chat = matches!(method, "leaveChat" | "deleteMessage" | "sendChatAction");
            if needs_chat && params["chat_id"].is_null() {
                return Err(bad("Bad Request: chat_id is empty".to_owned()));
            }
            Ok(plain(json!(true)))
        }
        _ => Err((404, "Not Found".to_owned())),
    }
}

fn set_webhook(state: &State, params: &Value) -> Answered {
    let url = params["url"].as_str().unwrap_or_default();
    if !url.is_empty() && !url.starts_with("https://") {
        return Err((
            400,
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook".to_owned(),
        ));
    }
    let secret_ok = params["secret_token"].as_str().is_none_or(|s| {
        (1..=256).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !secret_ok {
        return Err((
            400,
            "Bad Request: secret token contains unallowed characters".to_owned(),
        ));
    }
    // A certificate arrives only as an uploaded file (multipart).
    let mut hook = params.clone();
    match &params["certificate"] {
        Value::Null => {}
        Value::Object(file)
            if file["content"]
                .as_str()
                .is_some_and(|pem| pem.trim_start().starts_with("-----BEGIN CERTIFICATE-----")) =>
        {
            hook["has_custom_certificate"] = json!(true);
        }
        _ => {
            return Err((
                400,
                "Bad Request: bad webhook: Failed to set custom certificate file".to_owned(),
            ));
        }
    }
    *lock(&state.webhook) = hook;
    Ok((json!(true), Some("Webhook was set")))
}

pub(super) fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

fn ok_described(result: Value, description: &str) -> Response {
    Json(json!({ "ok": true, "result": result, "description": description })).into_response()
}

pub(super) fn error(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(seconds) = retry_after {
        body["parameters"] = json!({ "retry_after": seconds });
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}
