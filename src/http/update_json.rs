//! Reading just enough of an update to store it: its id, kind and chat.
//! The typed parse happens later, in the worker.

use serde_json::Value;

use super::WebhookError;
use crate::store::inbox::NewUpdate;

/// Deepest nesting accepted. Real updates reach about 7 levels.
pub const MAX_DEPTH: usize = 32;

/// Validates the body and extracts what the inbox stores.
pub fn parse(body: &[u8]) -> Result<NewUpdate, WebhookError> {
    if depth(body) > MAX_DEPTH {
        return Err(WebhookError::TooDeep);
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| WebhookError::NotJson)?;
    let object = value.as_object().ok_or(WebhookError::NotJson)?;
    let update_id = object
        .get("update_id")
        .and_then(Value::as_i64)
        .filter(|id| *id >= 0)
        .ok_or(WebhookError::NoUpdateId)?;
    // Every kind holds an object. The map is sorted by key, so a field of
    // another type sorting before the kind must not be taken for it.
    let (kind, content) = object
        .iter()
        .find(|(key, value)| *key != "update_id" && value.is_object())
        .map_or(("unknown", &Value::Null), |(k, v)| (k.as_str(), v));
    let payload = String::from_utf8(body.to_vec()).map_err(|_| WebhookError::NotJson)?;
    Ok(NewUpdate {
        update_id,
        kind: kind.to_owned(),
        chat_key: chat_key(content),
        payload,
    })
}

/// The chat whose updates must be handled in order: the chat when there is
/// one (also a callback's message's chat), else the user.
fn chat_key(content: &Value) -> Option<i64> {
    let paths: [&[&str]; 5] = [
        &["chat", "id"],
        &["message", "chat", "id"],
        &["from", "id"],
        &["user", "id"],
        &["voter_chat", "id"],
    ];
    paths.iter().find_map(|path| {
        path.iter()
            .try_fold(content, |v, key| v.get(key))
            .and_then(Value::as_i64)
    })
}

/// Maximum nesting of arrays and objects, counted without parsing (so a
/// hostile body cannot make the parser recurse).
fn depth(body: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_update_is_read_with_its_kind_and_chat() {
        let u =
            parse(br#"{"update_id":5,"message":{"chat":{"id":-100},"from":{"id":7}}}"#).unwrap();
        assert_eq!(
            (u.update_id, u.kind.as_str(), u.chat_key),
            (5, "message", Some(-100))
        );
    }

    #[test]
    fn a_callback_is_keyed_by_its_message_chat_and_an_inline_query_by_its_user() {
        let cb = parse(
            br#"{"update_id":1,"callback_query":{"from":{"id":7},"message":{"chat":{"id":9}}}}"#,
        )
        .unwrap();
        assert_eq!(cb.chat_key, Some(9));
        let iq = parse(br#"{"update_id":1,"inline_query":{"from":{"id":7}}}"#).unwrap();
        assert_eq!(iq.chat_key, Some(7));
    }

    #[test]
    fn a_field_beside_the_kind_is_not_taken_for_it() {
        let u = parse(br#"{"update_id":3,"_":null,"message":{"chat":{"id":-5}}}"#).unwrap();
        assert_eq!((u.kind.as_str(), u.chat_key), ("message", Some(-5)));
    }

    #[test]
    fn bodies_without_an_integer_update_id_are_refused() {
        assert_eq!(parse(b"not json").unwrap_err(), WebhookError::NotJson);
        assert_eq!(parse(b"[1,2]").unwrap_err(), WebhookError::NotJson);
        assert_eq!(
            parse(br#"{"message":{}}"#).unwrap_err(),
            WebhookError::NoUpdateId
        );
        assert_eq!(
            parse(br#"{"update_id":"5"}"#).unwrap_err(),
            WebhookError::NoUpdateId
        );
        assert_eq!(
            parse(br#"{"update_id":1.5}"#).unwrap_err(),
            WebhookError::NoUpdateId
        );
    }

    #[test]
    fn nesting_is_bounded_but_brackets_inside_strings_do_not_count() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(deep.as_bytes()).unwrap_err(), WebhookError::TooDeep);
        let text = format!(
            r#"{{"update_id":1,"message":{{"text":"{}\"{}"}}}}"#,
            "[".repeat(99),
            "{".repeat(99)
        );
        assert!(parse(text.as_bytes()).is_ok());
    }
}
