//! Changes a decision makes to who may do what, written in the transaction
//! that finishes the update (so a crash keeps both or neither).

use anyhow::{Context as _, bail};
use sqlx::SqliteConnection;

use crate::store::{
    lockouts, sessions,
    users::{self, How},
};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Owner => "owner",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A stranger was asked for the passcode.
    Ask {
        user: i64,
    },
    /// Let a user in with a role, or change the role of one already in.
    Allow {
        user: i64,
        role: Role,
        how: How,
    },
    Revoke {
        user: i64,
    },
    /// A wrong passcode or code; older ones are forgotten.
    Fail {
        user: i64,
        forget_before: i64,
    },
    LockOut {
        user: i64,
        until: i64,
    },
    /// A wrong enrolment passcode, counted towards the overall budget;
    /// older ones are forgotten.
    WrongPasscode {
        forget_before: i64,
    },
    /// Too many wrong passcodes overall: nobody may enrol until `until`.
    PauseEnrolment {
        until: i64,
    },
    Unlock {
        user: i64,
    },
    OpenSession {
        user: i64,
        how: &'static str,
    },
    /// Activity: slides the session's inactivity timeout.
    Touch {
        user: i64,
    },
    CloseSession {
        user: i64,
    },
    /// A TOTP step was used; fails the transaction if a concurrent /auth used
    /// it first, and the retry then sees it used.
    UseTotpStep {
        step: i64,
    },
}

impl Effect {
    /// Whether it changes who may use the bot or in what role.
    pub fn changes_access(&self) -> bool {
        matches!(
            self,
            Self::Allow { .. } | Self::Revoke { .. } | Self::Unlock { .. }
        )
    }

    pub async fn apply(&self, conn: &mut SqliteConnection, now: i64) -> anyhow::Result<()> {
        match *self {
            Self::Ask { user } => lockouts::ask(conn, user, now).await?,
            Self::Allow { user, role, how } => {
                users::allow(conn, user, role.as_str(), how, now).await?;
            }
            Self::Revoke { user } => {
                users::revoke(conn, user).await?;
            }
            Self::Fail {
                user,
                forget_before,
            } => lockouts::fail(conn, user, now, forget_before).await?,
            Self::LockOut { user, until } => lockouts::lock_out(conn, user, until).await?,
            Self::WrongPasscode { forget_before } => {
                lockouts::wrong_passcode(conn, now, forget_before).await?;
            }
            Self::PauseEnrolment { until } => lockouts::pause_enrolment(conn, until).await?,
            Self::Unlock { user } => {
                lockouts::unlock(conn, user, now).await?;
            }
            Self::OpenSession { user, how } => sessions::open(conn, user, how, now).await?,
            Self::Touch { user } => sessions::touch(conn, user, now).await?,
            Self::CloseSession { user } => {
                sessions::close(conn, user).await?;
            }
            Self::UseTotpStep { step } => {
                if !sessions::use_totp_step(conn, step)
                    .await
                    .context("recording a used TOTP step")?
                {
                    bail!("the TOTP step was used by a concurrent /auth");
                }
            }
        }
        Ok(())
    }
}
