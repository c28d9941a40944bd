//! Properties of the update parser over generated bodies: hostile bytes,
//! nesting around the depth limit, and real updates with fields we do not know.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

fn config(cases: u32) -> ProptestConfig {
    // A failure prints its shrunk input; it becomes a unit test, not a file.
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The nesting of arrays and objects in a parsed value, counted the slow, sure way.
fn nesting(value: &Value) -> usize {
    let deepest = |children: &mut dyn Iterator<Item = &Value>| children.map(nesting).max();
    match value {
        Value::Array(items) => 1 + deepest(&mut items.iter()).unwrap_or(0),
        Value::Object(fields) => 1 + deepest(&mut fields.values()).unwrap_or(0),
        _ => 0,
    }
}

/// Strings full of what looks like structure: brackets, quotes, backslashes, controls.
fn tricky_string() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        '[', ']', '{', '}', '"', '\\', ':', ',', 'a', 'é', '😀', '\n', '\u{0}', '/',
    ]);
    prop::collection::vec(chars, 0..12).prop_map(String::from_iter)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        tricky_string().prop_map(Value::from),
    ]
}

/// Any JSON value, nested a few levels, keys as tricky as the strings.
fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(12, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(tricky_string(), inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// One level of nesting: an array or an object, with scalar siblings beside the inner value.
fn layer() -> impl Strategy<Value = (bool, Vec<Value>)> {
    (any::<bool>(), prop::collection::vec(scalar(), 0..3))
}

fn wrap(inner: Value, (array, siblings): (bool, Vec<Value>)) -> Value {
    if array {
        return Value::Array(siblings.into_iter().chain([inner]).collect());
    }
    let mut fields: Map<String, Value> = siblings
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("k{i}"), v))
        .collect();
    fields.insert("inner".into(), inner);
    Value::Object(fields)
}

fn serialize(value: &Value, pretty: bool) -> Vec<u8> {
    let text = match pretty {
        true => serde_json::to_vec_pretty(value),
        false => serde_json::to_vec(value),
    };
    text.expect("a Value always serializes")
}

/// Update kinds and where each keeps the chat its updates are ordered by.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Chat,
    MessageChat,
    From,
    User,
}

const KINDS: [(&str, Shape); 7] = [
    ("message", Shape::Chat),
    ("edited_message", Shape::Chat),
    ("channel_post", Shape::Chat),
    ("my_chat_member", Shape::Chat),
    ("callback_query", Shape::MessageChat),
    ("inline_query", Shape::From),
    ("poll_answer", Shape::User),
];

/// The content of an update of `shape` whose chat key is `key`.
fn content(shape: Shape, key: i64) -> Map<String, Value> {
    let content = match shape {
        Shape::Chat => json!({"chat": {"id": key}, "from": {"id": 1}, "text": "/ping"}),
        Shape::MessageChat => json!({"from": {"id": 1}, "message": {"chat": {"id": key}}}),
        Shape::From => json!({"from": {"id": key}, "query": "q"}),
        Shape::User => json!({"user": {"id": key}, "option_ids": [0]}),
    };
    content.as_object().cloned().unwrap_or_default()
}

/// Field names that do not collide with the ones the chat key is read from.
fn extra_key() -> impl Strategy<Value = String> {
    "[a-z_]{1,14}".prop_filter("a chat key path", |k| {
        !["chat", "message", "from", "user", "voter_chat", "update_id"].contains(&k.as_str())
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_bytes_are_answered_without_a_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&body);
    }

    #[test]
    fn json_like_bytes_are_stored_verbatim_when_accepted(
        body in prop::collection::vec(prop::sample::select(br#"{}[]":,\ 0123456789-.eupdate_id"#.to_vec()), 0..96),
    ) {
        let body = [br#"{"update_id":"#.as_slice(), &body].concat();
        if let Ok(update) = parse(&body) {
            prop_assert!(update.update_id >= 0);
            prop_assert_eq!(update.payload.as_bytes(), body.as_slice());
        }
    }

    #[test]
    fn the_depth_count_equals_the_nesting_of_any_json_value(v in value(), pretty in any::<bool>()) {
        prop_assert_eq!(depth(&serialize(&v, pretty)), nesting(&v));
    }

    #[test]
    fn nesting_over_the_limit_is_refused_and_at_or_under_it_accepted(
        layers in prop::collection::vec(layer(), 0..MAX_DEPTH + 6),
        text in tricky_string(),
        (update_id, chat) in (0..=i64::MAX, any::<i64>()),
        pretty in any::<bool>(),
    ) {
        let nest = layers.into_iter().fold(Value::from(text.clone()), wrap);
        let update = json!({
            "update_id": update_id,
            "message": {"chat": {"id": chat}, "text": text, "nest": nest},
        });
        let result = parse(&serialize(&update, pretty));
        if nesting(&update) > MAX_DEPTH {
            prop_assert_eq!(result.unwrap_err(), WebhookError::TooDeep);
        } else {
            let got = result.expect("an update within the depth limit is accepted");
            prop_assert_eq!((got.update_id, got.kind.as_str(), got.chat_key), (update_id, "message", Some(chat)));
        }
    }

    #[test]
    fn a_valid_update_with_unknown_fields_keeps_its_id_kind_and_chat(
        (kind, shape) in prop::sample::select(KINDS.to_vec()),
        (update_id, key) in (0..=i64::MAX, any::<i64>()),
        inside in prop::collection::btree_map(extra_key(), value(), 0..4),
        beside in prop::collection::btree_map(extra_key(), scalar(), 0..3),
        pretty in any::<bool>(),
    ) {
        let mut fields = content(shape, key);
        fields.extend(inside);
        let mut update: Map<String, Value> = beside.into_iter().filter(|(k, _)| k != kind).collect();
        update.insert("update_id".into(), update_id.into());
        update.insert(kind.into(), Value::Object(fields));
        let update = Value::Object(update);
        let got = parse(&serialize(&update, pretty)).expect("a valid update is accepted");
        prop_assert_eq!((got.update_id, got.kind.as_str(), got.chat_key), (update_id, kind, Some(key)));
    }

    #[test]
    fn an_update_id_that_is_not_a_non_negative_integer_is_refused(
        id in prop_oneof![
            (i64::MIN..0).prop_map(Value::from),
            (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::from),
            (-1e12f64..1e12).prop_filter("not whole", |f| f.fract() != 0.0).prop_map(Value::from),
            any::<u32>().prop_map(|n| Value::from(n.to_string())),
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
        ],
    ) {
        let body = serialize(&json!({"update_id": id, "message": {"chat": {"id": 1}}}), false);
        prop_assert_eq!(parse(&body).unwrap_err(), WebhookError::NoUpdateId);
    }
}
