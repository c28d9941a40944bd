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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::outbox::NewCall;

    async fn fresh() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        (dir, db)
    }

    fn queued(id: i64, method: &str, of: i64) -> QueuedCall {
        QueuedCall {
            id,
            chat_id: 7,
            method: method.into(),
            params: "{}".into(),
            attempts: 0,
            created_at: 0,
            edit_of: Some(of),
        }
    }

    #[tokio::test]
    async fn an_edit_gets_the_id_of_the_message_its_call_made() {
        let (_dir, db) = fresh().await;
        let sent = outbox::queue(&db, &[NewCall::new(7, "sendMessage", json!({}))])
            .await
            .unwrap()[0];
        outbox::mark_sent(&db, sent, Some(42)).await.unwrap();

        let edit = queued(sent + 1, "editMessageText", sent);
        let (method, params) = resolve(&db, &edit, json!({"text": "t"}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(method, "editMessageText");
        assert_eq!(params, json!({"text": "t", "message_id": 42}));
    }

    #[tokio::test]
    async fn a_text_edit_of_a_message_never_sent_goes_as_a_new_message_and_a_keyboard_edit_is_dropped()
     {
        let (_dir, db) = fresh().await;
        let dead = outbox::queue(&db, &[NewCall::new(7, "sendMessage", json!({}))])
            .await
            .unwrap()[0];
        outbox::mark_dead(&db, dead, "400").await.unwrap();

        let text = queued(dead + 1, "editMessageText", dead);
        let params = json!({"text": "done", "reply_markup": {"inline_keyboard": []}});
        let (method, params) = resolve(&db, &text, params).await.unwrap().unwrap();
        assert_eq!(method, "sendMessage");
        assert_eq!(params, json!({"text": "done"}));

        let keyboard = queued(dead + 2, "editMessageReplyMarkup", dead);
        assert!(resolve(&db, &keyboard, json!({})).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_newer_edit_of_a_message_replaces_the_one_still_pending() {
        let (_dir, db) = fresh().await;
        let edit = |text: &str| NewCall::edit(7, "editMessageText", json!({ "text": text }), 1);
        outbox::queue(&db, &[edit("first")]).await.unwrap();
        outbox::queue(
            &db,
            &[NewCall::new(7, "sendMessage", json!({"text": "other"}))],
        )
        .await
        .unwrap();
        outbox::queue(&db, &[edit("second")]).await.unwrap();

        let pending: Vec<String> = outbox::list(&db, false)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.method)
            .collect();
        assert_eq!(pending, ["sendMessage", "editMessageText"]);
        let head = outbox::due_heads(&db, i64::MAX, 10).await.unwrap();
        assert_eq!(head[0].method, "sendMessage");
        outbox::mark_sent(&db, head[0].id, Some(2)).await.unwrap();
        let next = outbox::due_head_of(&db, 7, i64::MAX)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.params, json!({"text": "second"}).to_string());
    }
}
