//! Deleting rows that are kept no longer, table by table, a bounded batch per
//! statement: the one writer connection is never held for long, so the
//! webhook's inserts take turns with a prune of any backlog.

use super::Db;

/// Rows deleted by one statement at most.
pub const BATCH: i64 = 10_000;

/// Rows that can be pruned, each by a time (unix ms) before which they go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prunable {
    /// Updates finished (done, failed or unsupported) before it; pending ones never.
    Inbox,
    /// Calls sent before it; pending ones and dead letters never.
    OutboxSent,
    /// Dead letters queued before it.
    OutboxDead,
    /// Strangers asked for the passcode before it (/start asks again).
    EnrolmentRequests,
    /// Wrong passcodes and codes made before it.
    PasscodeFailures,
    /// Lockouts that ended before it.
    Lockouts,
    /// Wrong enrolment passcodes made before it.
    EnrolmentWrong,
    /// A pause of enrolment that ended before it.
    EnrolmentPause,
    /// Relay jobs that ended before it; live ones never.
    Jobs,
    /// Uploads that ended before it (the files themselves stay: they are
    /// the operator's); pending ones never.
    Uploads,
}

impl Prunable {
    /// Every kind, in the order housekeeping prunes them.
    pub const ALL: [Self; 10] = [
        Self::Inbox,
        Self::OutboxSent,
        Self::OutboxDead,
        Self::EnrolmentRequests,
        Self::PasscodeFailures,
        Self::Lockouts,
        Self::EnrolmentWrong,
        Self::EnrolmentPause,
        Self::Jobs,
        Self::Uploads,
    ];

    /// The table the rows are in.
    pub fn table(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::OutboxSent | Self::OutboxDead => "outbox",
            Self::EnrolmentRequests => "enrolment_requests",
            Self::PasscodeFailures => "passcode_failures",
            Self::Lockouts => "lockouts",
            Self::EnrolmentWrong => "enrolment_wrong",
            Self::EnrolmentPause => "enrolment_pause",
            Self::Jobs => "jobs",
            Self::Uploads => "uploads",
        }
    }

    /// Deletes at most `limit` rows (?2) from before ?1. Each finds its rows
    /// through an index (migrations/0009).
    fn statement(self) -> &'static str {
        match self {
            Self::Inbox => {
                "DELETE FROM inbox WHERE update_id IN (SELECT update_id FROM inbox
                 WHERE finished_at < ?1 AND status <> 'pending' LIMIT ?2)"
            }
            Self::OutboxSent => {
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
                 WHERE sent_at < ?1 AND status = 'sent' LIMIT ?2)"
            }
            Self::OutboxDead => {
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
                 WHERE status = 'dead' AND created_at < ?1 LIMIT ?2)"
            }
            Self::EnrolmentRequests => {
                "DELETE FROM enrolment_requests WHERE user_id IN (SELECT user_id
                 FROM enrolment_requests WHERE asked_at < ?1 LIMIT ?2)"
            }
            Self::PasscodeFailures => {
                "DELETE FROM passcode_failures WHERE id IN (SELECT id FROM passcode_failures
                 WHERE at < ?1 LIMIT ?2)"
            }
            Self::Lockouts => {
                "DELETE FROM lockouts WHERE user_id IN (SELECT user_id FROM lockouts
                 WHERE until < ?1 LIMIT ?2)"
            }
            Self::EnrolmentWrong => {
                "DELETE FROM enrolment_wrong WHERE id IN (SELECT id FROM enrolment_wrong
                 WHERE at < ?1 LIMIT ?2)"
            }
            Self::EnrolmentPause => {
                "DELETE FROM enrolment_pause WHERE id IN (SELECT id FROM enrolment_pause
                 WHERE until < ?1 LIMIT ?2)"
            }
            // Through jobs_ended (migrations/0010).
            Self::Jobs => {
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
                 WHERE ended_at < ?1 AND state NOT IN ('queued', 'running') LIMIT ?2)"
            }
            // Through uploads_ended (migrations/0011).
            Self::Uploads => {
                "DELETE FROM uploads WHERE id IN (SELECT id FROM uploads
                 WHERE ended_at < ?1 AND state <> 'pending' LIMIT ?2)"
            }
        }
    }
}

/// Deletes one batch (at most [`BATCH`] rows) of `what` from before `before`
/// (unix ms), in a transaction of its own. Returns how many went: fewer than
/// [`BATCH`] means none are left.
pub async fn prune_batch(db: &Db, what: Prunable, before: i64) -> sqlx::Result<u64> {
    sqlx::query(what.statement())
        .bind(before)
        .bind(BATCH)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        (dir, db)
    }

    async fn run(db: &Db, sql: &'static str) {
        sqlx::query(sql).execute(db).await.unwrap();
    }

    async fn count(db: &Db, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn old_finished_updates_go_and_pending_or_recent_ones_stay() {
        let (_dir, db) = fresh().await;
        run(
            &db,
            "INSERT INTO inbox (update_id, kind, status, received_at, finished_at) VALUES
             (1, 'message', 'done', 0, 10), (2, 'message', 'failed', 0, 10),
             (3, 'message', 'unsupported', 0, 10), (4, 'message', 'done', 0, 500),
             (5, 'message', 'pending', 0, NULL)",
        )
        .await;
        assert_eq!(prune_batch(&db, Prunable::Inbox, 100).await.unwrap(), 3);
        let left: Vec<i64> = sqlx::query_scalar("SELECT update_id FROM inbox ORDER BY update_id")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(left, [4, 5]);
    }

    #[tokio::test]
    async fn old_sent_calls_and_older_dead_letters_go_and_pending_ones_stay() {
        let (_dir, db) = fresh().await;
        run(
            &db,
            "INSERT INTO outbox (id, chat_id, method, params, status, next_attempt_at, created_at, sent_at) VALUES
             (1, 7, 'sendMessage', '{}', 'sent', 0, 0, 10),
             (2, 7, 'sendMessage', '{}', 'sent', 0, 0, 500),
             (3, 7, 'sendMessage', '{}', 'dead', 0, 10, NULL),
             (4, 7, 'sendMessage', '{}', 'dead', 0, 500, NULL),
             (5, 7, 'sendMessage', '{}', 'pending', 0, 0, NULL)",
        )
        .await;
        assert_eq!(
            prune_batch(&db, Prunable::OutboxSent, 100).await.unwrap(),
            1
        );
        assert_eq!(
            prune_batch(&db, Prunable::OutboxDead, 100).await.unwrap(),
            1
        );
        let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(left, [2, 4, 5]);
    }

    #[tokio::test]
    async fn old_ended_jobs_go_and_live_or_recent_ones_stay() {
        let (_dir, db) = fresh().await;
        run(
            &db,
            "INSERT INTO jobs (id, command, user_id, chat_id, shown, state, created_at, ended_at) VALUES
             (1, 'x', 7, 7, '/x', 'succeeded', 0, 10),
             (2, 'x', 7, 7, '/x', 'failed', 0, 500),
             (3, 'x', 7, 7, '/x', 'running', 0, NULL),
             (4, 'x', 7, 7, '/x', 'queued', 0, NULL)",
        )
        .await;
        assert_eq!(prune_batch(&db, Prunable::Jobs, 100).await.unwrap(), 1);
        let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM jobs ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(left, [2, 3, 4]);
    }

    #[tokio::test]
    async fn old_ended_uploads_go_and_pending_or_recent_ones_stay() {
        let (_dir, db) = fresh().await;
        run(
            &db,
            "INSERT INTO uploads (id, user_id, chat_id, message_id, file_id, name, state, created_at, ended_at) VALUES
             (1, 7, 7, 1, 'f', 'a', 'stored', 0, 10),
             (2, 7, 7, 2, 'f', 'b', 'failed', 0, 20),
             (3, 7, 7, 3, 'f', 'c', 'stored', 0, 500),
             (4, 7, 7, 4, 'f', 'd', 'pending', 0, NULL)",
        )
        .await;
        assert_eq!(prune_batch(&db, Prunable::Uploads, 100).await.unwrap(), 2);
        let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM uploads ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(left, [3, 4]);
    }

    #[tokio::test]
    async fn the_brute_force_tables_keep_only_what_still_counts() {
        let (_dir, db) = fresh().await;
        run(
            &db,
            "INSERT INTO enrolment_requests (user_id, asked_at) VALUES (1, 10), (2, 500);
             INSERT INTO passcode_failures (user_id, at) VALUES (1, 10), (2, 500);
             INSERT INTO lockouts (user_id, until) VALUES (1, 10), (2, 500);
             INSERT INTO enrolment_wrong (at) VALUES (10), (500);",
        )
        .await;
        for what in [
            Prunable::EnrolmentRequests,
            Prunable::PasscodeFailures,
            Prunable::Lockouts,
            Prunable::EnrolmentWrong,
        ] {
            assert_eq!(prune_batch(&db, what, 100).await.unwrap(), 1, "{what:?}");
            assert_eq!(count(&db, what.table()).await, 1, "{what:?}");
        }
        run(
            &db,
            "INSERT INTO enrolment_pause (id, until) VALUES (1, 500)",
        )
        .await;
        assert_eq!(
            prune_batch(&db, Prunable::EnrolmentPause, 100)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            prune_batch(&db, Prunable::EnrolmentPause, 600)
                .await
                .unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn one_statement_deletes_at_most_a_batch() {
        let (_dir, db) = fresh().await;
        run(
            &db,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
             INSERT INTO enrolment_wrong (at) SELECT 10 FROM n",
        )
        .await;
        let first = prune_batch(&db, Prunable::EnrolmentWrong, 100)
            .await
            .unwrap();
        assert_eq!(first, u64::try_from(BATCH).unwrap());
        assert_eq!(
            prune_batch(&db, Prunable::EnrolmentWrong, 100)
                .await
                .unwrap(),
            5
        );
    }

    #[tokio::test]
    async fn every_prune_finds_its_rows_through_an_index() {
        let (_dir, db) = fresh().await;
        // enrolment_pause holds one row at most.
        for what in Prunable::ALL
            .into_iter()
            .filter(|w| *w != Prunable::EnrolmentPause)
        {
            let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "EXPLAIN QUERY PLAN {}",
                what.statement()
            )))
            .bind(0_i64)
            .bind(BATCH)
            .fetch_all(&db)
            .await
            .unwrap();
            let plan: Vec<String> = plan.into_iter().map(|row| row.3).collect();
            assert!(
                !plan.iter().any(|step| step.starts_with("SCAN")),
                "{what:?} reads the whole table: {plan:?}"
            );
        }
    }
}
