//! Every real payload is acknowledged and stored, whatever its kind.

use crate::{
    health::JsonValue,
    support::{TestApp, eventually},
};

#[tokio::test]
async fn every_real_payload_is_acknowledged_stored_and_recorded() {
    let app = TestApp::spawn().await;
    let payloads = crate::support::updates::real_updates();
    assert!(payloads.len() >= 19, "found {} payloads", payloads.len());
    // Some payloads share an update_id (they come from different bots):
    // give each its own so that each one is stored.
    for (i, payload) in payloads.iter().enumerate() {
        let mut update = payload.clone();
        update["update_id"] = (1000 + i as i64).into();
        let response = app.post_update(&update).await;
        assert_eq!(
            response.status(),
            200,
            "payload {i} was refused: {}",
            response.text().await.unwrap()
        );
        assert!(
            app.inbox_status(1000 + i as i64).await.is_some(),
            "payload {i} not stored"
        );
    }
    let all = payloads.len() as i64;
    let statuses: Vec<String> = eventually(|| async {
        let statuses: Vec<String> =
            sqlx::query_scalar("SELECT status FROM inbox ORDER BY update_id")
                .fetch_all(app.db())
                .await
                .unwrap();
        statuses.iter().all(|s| s != "pending").then_some(statuses)
    })
    .await
    .expect("every payload is handled");
    assert_eq!(statuses.len() as i64, all);
    assert!(
        statuses.iter().all(|s| s == "done" || s == "unsupported"),
        "{statuses:?}"
    );
    let unsupported: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, outcome FROM audit WHERE decision = 'unsupported'")
            .fetch_all(app.db())
            .await
            .unwrap();
    assert!(
        !unsupported.is_empty(),
        "the payloads frankenstein rejects are recorded as unsupported"
    );
    assert!(
        unsupported
            .iter()
            .all(|(_, outcome)| outcome.starts_with("typed parse failed")),
        "{unsupported:?}"
    );
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT update_id) FROM audit")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(audited, all, "every update has an audit row");
    let health = app.get("/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json_value().await["database"], "ok");
}

#[tokio::test]
async fn an_update_of_an_unknown_kind_is_stored_and_recorded_as_unsupported() {
    let app = TestApp::spawn().await;
    let update = serde_json::json!({"update_id": 5, "future_kind": {"id": 1, "chat": {"id": 9}}});
    assert_eq!(app.post_update(&update).await.status(), 200);
    assert_eq!(app.wait_handled(5).await, "unsupported");
    let rows = telegate::store::audit::for_update(app.db(), 5)
        .await
        .unwrap();
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].decision.as_str()),
        ("future_kind", "unsupported")
    );
}
