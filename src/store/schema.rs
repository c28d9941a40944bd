//! The schema as SQLite records it (`sqlite_master`), and the schema this
//! version's migrations create, so that `telegate restore` can refuse a
//! backup carrying anything else (a trigger that rewrites the audit trail,
//! say).

use std::str::FromStr;

use sqlx::{
    FromRow,
    migrate::Migrator,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

use super::Db;
use crate::MIGRATOR;

/// One row of `sqlite_master`: a table, index, trigger or view.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, FromRow)]
pub struct Object {
    /// `table`, `index`, `trigger` or `view`.
    pub kind: String,
    pub name: String,
    /// The table it belongs to.
    pub tbl_name: String,
    /// The statement that made it (none for SQLite's own indexes).
    pub sql: Option<String>,
}

/// Every object in the database, sorted.
pub async fn objects(db: &Db) -> sqlx::Result<Vec<Object>> {
    sqlx::query_as(
        "SELECT type AS kind, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    )
    .fetch_all(db)
    .await
}

/// The newest migration applied, `None` when the migrations table is empty.
pub async fn version(db: &Db) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(db)
        .await
}

/// SQLite's integrity check: `ok`, or what is damaged.
pub async fn integrity(db: &Db) -> sqlx::Result<String> {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db)
        .await
}

/// The objects a database migrated up to `version` holds: made by running
/// this version's migrations (those up to `version`) on an empty database
/// in memory.
pub async fn created_up_to(version: i64) -> anyhow::Result<Vec<Object>> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let migrations = MIGRATOR
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect();
    Migrator::with_migrations(migrations).run(&db).await?;
    let made = objects(&db).await?;
    db.close().await;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_migrated_database_holds_exactly_what_the_migrations_create() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let newest = version(&db).await.unwrap().unwrap();
        assert_eq!(
            objects(&db).await.unwrap(),
            created_up_to(newest).await.unwrap()
        );
        db.close().await;
        let older = created_up_to(1).await.unwrap();
        assert!(older.iter().any(|o| o.name == "inbox"));
        assert!(!older.iter().any(|o| o.name == "audit"));
    }
}
