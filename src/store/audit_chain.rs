//! The audit trail's hash chain: each row's hash covers its content and the
//! previous row's hash. Editing a row changes its hash; deleting one breaks
//! the link of the row after it. Pruning old rows keeps the last pruned hash
//! as the anchor the remaining chain starts from.
//!
//! It shows tampering by someone who edits the database by hand; someone who
//! rewrites every later hash as well is caught only by comparing with a copy
//! of an earlier hash (a backup, or the anchor printed by `audit verify`).

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{FromRow, SqliteConnection};

use super::{Db, now_ms};

/// What a row's hash covers, besides the previous hash.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub at: i64,
    pub update_id: Option<i64>,
    pub kind: &'a str,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub command: Option<&'a str>,
    pub decision: &'a str,
    pub outcome: &'a str,
}

/// SHA-256, hex, over an unambiguous encoding (a JSON array) of the row.
pub fn row_hash(prev_hash: &str, c: &Content<'_>) -> String {
    let encoded = json!([
        prev_hash,
        c.at,
        c.update_id,
        c.kind,
        c.chat_id,
        c.user_id,
        c.command,
        c.decision,
        c.outcome
    ])
    .to_string();
    let digest = Sha256::digest(encoded.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash the next row chains to: the last row's, else the anchor's, else
/// empty (the start of the chain).
pub async fn last_hash(conn: &mut SqliteConnection) -> sqlx::Result<String> {
    let last: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    match last {
        Some(hash) => Ok(hash),
        None => Ok(anchor(conn).await?.map(|a| a.last_hash).unwrap_or_default()),
    }
}

/// Where the chain starts after a prune.
#[derive(Debug, Clone, FromRow)]
pub struct Anchor {
    pub last_id: i64,
    pub last_hash: String,
}

async fn anchor(conn: &mut SqliteConnection) -> sqlx::Result<Option<Anchor>> {
    sqlx::query_as("SELECT last_id, last_hash FROM audit_anchor WHERE id = 1")
        .fetch_optional(conn)
        .await
}

/// The newest link of the chain: its last row's id and hash. Kept outside
/// the database (the log, the operator's notes), it shows when the newest
/// rows were deleted, which the chain alone cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.id, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;

    /// `ID:HASH`, as [`Head`]'s `Display` writes it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parsed = text.trim().split_once(':').and_then(|(id, hash)| {
            let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
            let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| Self {
                id,
                hash: hash.to_ascii_lowercase(),
            })
        });
        parsed.ok_or_else(|| {
            format!("{text:?} is not a head: expected ID:HASH, a row id and 64 hex digits, as `telegate audit verify` prints it")
        })
    }
}

/// The head now: the last row, or the last pruned one when none is left;
/// `None` for an empty trail.
pub async fn head(db: &Db) -> sqlx::Result<Option<Head>> {
    let mut conn = db.acquire().await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match last {
        Some((id, hash)) => Some(Head { id, hash }),
        None => anchor(&mut conn).await?.map(|a| Head {
            id: a.last_id,
            hash: a.last_hash,
        }),
    })
}

/// Whether the trail still holds `head`: `None` when it does, else the
/// problem in words.
pub async fn check_head(db: &Db, head: &Head) -> sqlx::Result<Option<String>> {
    let mut conn = db.acquire().await?;
    let stored: Option<String> = sqlx::query_scalar("SELECT hash FROM audit WHERE id = ?")
        .bind(head.id)
        .fetch_optional(&mut *conn)
        .await?;
    let id = head.id;
    Ok(match (stored, anchor(&mut conn).await?) {
        (Some(hash), _) if hash == head.hash => None,
        (Some(_), _) => Some(format!(
            "row {id} is not the row the head was taken from (its hash differs): the trail was rewritten from there on"
        )),
        (None, Some(a)) if a.last_id == id && a.last_hash == head.hash => None,
        (None, Some(a)) if a.last_id >= id => Some(format!(
            "row {id} has been pruned (the trail starts after row {}): this head cannot be checked any more; keep a newer one",
            a.last_id
        )),
        (None, _) => Some(format!(
            "row {id} is missing: the rows up to the head were deleted"
        )),
    })
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Rows checked.
    pub rows: u64,
    /// The last pruned row the chain starts after, if any.
    pub starts_after: Option<i64>,
    /// The first problem found, in words that name the row.
    pub problem: Option<String>,
}

#[derive(FromRow)]
struct Link {
    id: i64,
    at: i64,
    update_id: Option<i64>,
    kind: String,
    chat_id: Option<i64>,
    user_id: Option<i64>,
    command: Option<String>,
    decision: String,
    outcome: String,
    prev_hash: String,
    hash: String,
}

/// Walks the whole chain and reports the first row that does not fit.
pub async fn verify(db: &Db) -> sqlx::Result<Verdict> {
    let mut conn = db.acquire().await?;
    let start = anchor(&mut conn).await?;
    let mut verdict = Verdict {
        rows: 0,
        starts_after: start.as_ref().map(|a| a.last_id),
        problem: None,
    };
    let (mut prev_id, mut prev_hash) =
        start.map_or((0, String::new()), |a| (a.last_id, a.last_hash));
    loop {
        let page: Vec<Link> = sqlx::query_as(
            "SELECT id, at, update_id, kind, chat_id, user_id, command, decision, outcome, prev_hash, hash
             FROM audit WHERE id > ? ORDER BY id LIMIT 1000",
        )
        .bind(prev_id)
        .fetch_all(&mut *conn)
        .await?;
        if page.is_empty() {
            return Ok(verdict);
        }
        for row in page {
            if row.prev_hash != prev_hash {
                verdict.problem = Some(match prev_id {
                    0 => format!(
                        "row {}: the rows before it were deleted (it does not start the chain)",
                        row.id
                    ),
                    p => format!(
                        "row {}: a row between {p} and {} was deleted, or row {p} was replaced",
                        row.id, row.id
                    ),
                });
                return Ok(verdict);
            }
            let content = Content {
                at: row.at,
                update_id: row.update_id,
                kind: &row.kind,
                chat_id: row.chat_id,
                user_id: row.user_id,
                command: row.command.as_deref(),
                decision: &row.decision,
                outcome: &row.outcome,
            };
            if row_hash(&row.prev_hash, &content) != row.hash {
                verdict.problem = Some(format!("row {} was edited after it was written", row.id));
                return Ok(verdict);
            }
            verdict.rows += 1;
            (prev_id, prev_hash) = (row.id, row.hash);
        }
    }
}

/// Deletes rows older than `before` (unix ms), the oldest `batch` of them
/// at most, anchoring the chain at the last one deleted so that
/// verification still passes. Returns how many went: fewer than `batch`
/// means none are left.
pub async fn prune(db: &Db, before: i64, batch: i64) -> sqlx::Result<u64> {
    let mut tx = db.begin().await?;
    let last: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, hash FROM audit WHERE id = (SELECT max(id) FROM (
             SELECT id FROM audit
             WHERE id <= (SELECT id FROM audit WHERE at < ?1 ORDER BY id DESC LIMIT 1)
             ORDER BY id LIMIT ?2))",
    )
    .bind(before)
    .bind(batch)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((last_id, last_hash)) = last else {
        return Ok(0);
    };
    sqlx::query(
        "INSERT INTO audit_anchor (id, last_id, last_hash, pruned_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id,
             last_hash = excluded.last_hash, pruned_at = excluded.pruned_at",
    )
    .bind(last_id)
    .bind(&last_hash)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let deleted = sqlx::query("DELETE FROM audit WHERE id <= ?")
        .bind(last_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::{self, Decision, Entry};

    async fn log_with(rows: usize) -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("audit.db"))
            .await
            .unwrap();
        append(&db, rows).await;
        (dir, db)
    }

    async fn append(db: &Db, rows: usize) {
        for i in 0..rows {
            let mut tx = db.begin().await.unwrap();
            let entry = Entry {
                update_id: Some(i as i64),
                kind: "message".into(),
                chat_id: Some(7),
                user_id: Some(7),
                command: Some("ping".into()),
                decision: Decision::Allowed,
                outcome: "ok".into(),
            };
            audit::insert(&mut tx, &entry).await.unwrap();
            tx.commit().await.unwrap();
        }
    }

    async fn run(db: &Db, sql: &'static str) {
        sqlx::query(sql).execute(db).await.unwrap();
    }

    #[tokio::test]
    async fn the_head_is_the_newest_row_and_is_found_until_it_is_deleted() {
        let (_dir, db) = log_with(4).await;
        let head = head(&db).await.unwrap().unwrap();
        assert_eq!(head.id, 4);
        assert_eq!(head.to_string().parse::<Head>().unwrap(), head);
        assert_eq!(check_head(&db, &head).await.unwrap(), None);
        append(&db, 1).await;
        assert_eq!(
            check_head(&db, &head).await.unwrap(),
            None,
            "newer rows came"
        );

        run(&db, "DELETE FROM audit WHERE id >= 4").await;
        assert_eq!(
            verify(&db).await.unwrap().problem,
            None,
            "the chain alone cannot tell"
        );
        let problem = check_head(&db, &head).await.unwrap().unwrap();
        assert!(problem.starts_with("row 4 is missing"), "{problem}");
        assert!("4:abc".parse::<Head>().is_err());
    }

    #[tokio::test]
    async fn a_clean_log_verifies() {
        let (_dir, db) = log_with(5).await;
        let verdict = verify(&db).await.unwrap();
        assert_eq!(
            verdict,
            Verdict {
                rows: 5,
                starts_after: None,
                problem: None
            }
        );
    }

    #[tokio::test]
    async fn an_edited_row_is_named() {
        let (_dir, db) = log_with(5).await;
        run(
            &db,
            "UPDATE audit SET outcome = 'nothing happened' WHERE id = 3",
        )
        .await;
        let problem = verify(&db).await.unwrap().problem.unwrap();
        assert_eq!(problem, "row 3 was edited after it was written");
    }

    #[tokio::test]
    async fn a_deleted_row_is_named_by_its_neighbours() {
        let (_dir, db) = log_with(5).await;
        run(&db, "DELETE FROM audit WHERE id = 3").await;
        let problem = verify(&db).await.unwrap().problem.unwrap();
        assert!(
            problem.starts_with("row 4: a row between 2 and 4 was deleted"),
            "{problem}"
        );

        let (_dir, db) = log_with(3).await;
        run(&db, "DELETE FROM audit WHERE id = 1").await;
        let problem = verify(&db).await.unwrap().problem.unwrap();
        assert!(
            problem.starts_with("row 2: the rows before it were deleted"),
            "{problem}"
        );
    }

    #[tokio::test]
    async fn a_prune_takes_a_batch_at_a_time_and_the_chain_still_verifies() {
        let (_dir, db) = log_with(5).await;
        let later = now_ms() + 1;
        assert_eq!(prune(&db, later, 2).await.unwrap(), 2);
        assert_eq!(prune(&db, later, 2).await.unwrap(), 2);
        assert_eq!(prune(&db, later, 2).await.unwrap(), 1);
        assert_eq!(prune(&db, later, 2).await.unwrap(), 0);
        append(&db, 1).await;
        let verdict = verify(&db).await.unwrap();
        assert_eq!((verdict.rows, verdict.starts_after), (1, Some(5)));
        assert_eq!(verdict.problem, None);
    }

    #[tokio::test]
    async fn a_prune_anchors_the_chain_so_it_still_verifies() {
        let (_dir, db) = log_with(4).await;
        run(&db, "UPDATE audit SET at = 0 WHERE id <= 2").await;
        // The rewritten times broke rows 1 and 2; pruning them removes the break.
        assert_eq!(prune(&db, 1, 10).await.unwrap(), 2);
        append(&db, 2).await;
        let verdict = verify(&db).await.unwrap();
        assert_eq!(
            verdict,
            Verdict {
                rows: 4,
                starts_after: Some(2),
                problem: None
            }
        );
        run(&db, "DELETE FROM audit WHERE id = 3").await;
        let problem = verify(&db).await.unwrap().problem.unwrap();
        assert!(
            problem.starts_with("row 4: a row between 2 and 4"),
            "{problem}"
        );
    }
}
