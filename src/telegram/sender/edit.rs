//! Edits of messages queued before they existed: a job's status message is
//! queued with the job, and its edits name it by the call that sends it.

use serde_json::{Value, json};

use crate::{
    store::{
        Db,
        outbox::{self, QueuedCall},
    },
    telegram::ApiError,
};

/// The method and parameters to send for `call`: an edit gets the id of the
/// message it edits. When that message never went out (its send was given
/// up on, or pruned), a text edit is sent as a new message, so the news it
/// carries is not lost, and a keyboard edit is dropped (`None`).
pub async fn resolve(
    db: &Db,
    call: &QueuedCall,
    mut params: Value,
) -> sqlx::Result<Option<(String, Value)>> {
    let Some(of) = call.edit_of else {
        return Ok(Some((call.method.clone(), params)));
    };
    match outbox::message_of(db, of).await? {
        Some(Some(message_id)) => {
            params["message_id"] = json!(message_id);
            Ok(Some((call.method.clone(), params)))
        }
        _ if call.method == "editMessageText" => {
            if let Value::Object(fields) = &mut params {
                fields.remove("message_id");
                fields.remove("reply_markup");
            }
            Ok(Some(("sendMessage".to_owned(), params)))
        }
        _ => Ok(None),
    }
}

/// Telegram's answer to an edit that changes nothing: the message already
/// shows it, so the edit is done.
pub fn is_unmodified(error: &ApiError) -> bool {
    matches!(error, ApiError::Api { code: 400, description, .. } if description.contains("message is not modified"))
}
