//! `telegate users list|allow|revoke|unlock`: the owner's chat tools, for
//! the operator. Every change is a row in the audit trail.

use anyhow::bail;
use clap::Subcommand;

use super::open_existing;
use crate::{
    bot::effect::Role,
    store::{
        self,
        audit::{self, Decision, Entry},
        lockouts,
        users::{self, How},
    },
    timefmt::utc,
};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Users enrolled or allowed at run time (BOT_OWNER_ID and
    /// ALLOWED_CHAT_IDS are in the configuration).
    List,
    /// Let a user in, or change their role.
    Allow {
        /// The numeric Telegram user id.
        id: i64,
        /// user or owner.
        #[arg(long, default_value = "user")]
        role: String,
    },
    /// Remove a user and close their session.
    Revoke { id: i64 },
    /// Lift a lockout after wrong codes.
    Unlock { id: i64 },
}

pub async fn run(action: Action) -> anyhow::Result<()> {
    if let Action::Allow { id, .. } | Action::Revoke { id } | Action::Unlock { id } = action
        && id <= 0
    {
        bail!(
            "{id} is not a user id: user ids are positive numbers (the user can send /whoami to learn theirs)"
        );
    }
    let role = match &action {
        Action::Allow { role, .. } => match Role::parse(role) {
            Some(role) => Some(role),
            None => bail!("--role {role:?} is not a role: use user or owner"),
        },
        _ => None,
    };
    let db = open_existing().await?;
    let result = match action {
        Action::List => list(&db).await,
        Action::Allow { id, .. } => allow(&db, id, role.unwrap_or(Role::User)).await,
        Action::Revoke { id } => revoke(&db, id).await,
        Action::Unlock { id } => unlock(&db, id).await,
    };
    db.close().await;
    result
}

async fn list(db: &store::Db) -> anyhow::Result<()> {
    let stored = users::list(db).await?;
    if stored.is_empty() {
        eprintln!("nobody was enrolled or allowed at run time");
    }
    for u in stored {
        let by = u.by_user.map_or_else(String::new, |by| format!(" by {by}"));
        println!(
            "{}\t{}\tvia {}{by}\tsince {} UTC",
            u.user_id,
            u.role,
            u.how,
            utc(u.enrolled_at)
        );
    }
    Ok(())
}

async fn allow(db: &store::Db, id: i64, role: Role) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let before = users::allow(&mut tx, id, role.as_str(), How::Cli, store::now_ms()).await?;
    let outcome = match before.as_deref() {
        None => format!("user {id} allowed as {}", role.as_str()),
        Some(old) if old == role.as_str() => format!("user {id} is {old} already"),
        Some(old) => format!("role of user {id} changed from {old} to {}", role.as_str()),
    };
    audit::insert(&mut tx, &event(id, outcome.clone())).await?;
    tx.commit().await?;
    println!("{outcome}");
    Ok(())
}

async fn revoke(db: &store::Db, id: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    if !users::revoke(&mut tx, id).await? {
        bail!(
            "{id} is not a user enrolled or allowed at run time (the owner and ALLOWED_CHAT_IDS are changed in .env, then restart)"
        );
    }
    audit::insert(&mut tx, &event(id, format!("user {id} revoked"))).await?;
    tx.commit().await?;
    println!("user {id} revoked; their session is closed");
    Ok(())
}

async fn unlock(db: &store::Db, id: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let lifted = lockouts::unlock(&mut tx, id, store::now_ms()).await?;
    audit::insert(&mut tx, &event(id, format!("user {id} unlocked"))).await?;
    tx.commit().await?;
    if lifted {
        println!("user {id} is no longer locked out");
    } else {
        println!("user {id} was not locked out; their wrong tries are forgotten");
    }
    Ok(())
}

fn event(user: i64, outcome: String) -> Entry {
    Entry {
        command: Some("users".to_owned()),
        ..Entry::event("cli", Some(user), Decision::Allowed, outcome)
    }
}
