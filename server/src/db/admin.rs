//! Administration in the database: users as administrators see them, devices (tokens) with where
//! and when they were last seen, disabling, password changes that end other logins, and the audit
//! log.

use super::sql::{OptionalExtension, params};
use super::{Db, Result};
use crate::access::Role;
use shared::api::{AdminUser, AuditEntry, Device};

/// One audit event to record.
pub struct Audit<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
    pub addr: &'a str,
}

/// What an administrator changes on a user (absent: unchanged).
#[derive(Default)]
pub struct UserChange<'a> {
    pub display_name: Option<&'a str>,
    pub role: Option<&'a Role>,
    pub node_id: Option<&'a str>,
    /// `Some(None)` clears the unit.
    pub unit: Option<Option<&'a str>>,
    pub disabled: Option<bool>,
    pub also_viewer: Option<bool>,
}

/// Which of a user's logins [`Db::end_tokens`] ends.
#[derive(Debug, Clone, Copy)]
pub enum Logins {
    Only(i64),
    AllBut(Option<i64>),
}

/// How long an ended login is remembered: as long as the device keeps its cookie.
const ENDED_KEPT_MS: i64 = 400 * 24 * 3600 * 1000;

/// How often a device's last-seen time is written: at most once a minute per device.
const SEEN_EVERY_MS: i64 = 60_000;

impl Db {
    /// Every user, with their devices, ordered by username.
    pub fn admin_users(&self) -> Result<Vec<AdminUser>> {
        self.with(|c| {
            let mut users: Vec<AdminUser> = c
                .prepare(
                    "SELECT id, username, display_name, role, node_id, unit, disabled, also_viewer, must_change
                     FROM users ORDER BY username",
                )?
                .query_map((), |r| {
                    Ok(AdminUser {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        display_name: r.get(2)?,
                        role: Role::parse(&r.get::<_, String>(3)?),
                        node_id: r.get(4)?,
                        unit: r.get(5)?,
                        disabled: r.get::<_, i64>(6)? != 0,
                        also_viewer: r.get::<_, i64>(7)? != 0,
                        must_change: r.get::<_, i64>(8)? != 0,
                        devices: Vec::new(),
                    })
                })?
                .collect::<Result<_>>()?;
            let mut stmt = c.prepare(
                "SELECT user_id, id, peer_id, user_agent, app_version, created_at, last_seen, last_addr, expires_at
                 FROM tokens ORDER BY created_at",
            )?;
            let devices = stmt.query_map((), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Device {
                        token_id: r.get(1)?,
                        peer_id: r.get(2)?,
                        user_agent: r.get(3)?,
                        app_version: r.get(4)?,
                        first_seen: r.get(5)?,
                        last_seen: r.get(6)?,
                        last_addr: r.get(7)?,
                        expires_at: r.get(8)?,
                    },
                ))
            })?;
            for d in devices {
                let (user, device) = d?;
                if let Some(u) = users.iter_mut().find(|u| u.id == user) {
                    u.devices.push(device);
                }
            }
            Ok(users)
        })
    }

    /// The unit a user works for, if any, and whether they must replace a one-time password.
    pub fn user_unit(&self, id: i64) -> Result<(Option<String>, bool)> {
        self.with(|c| {
            c.query_row(
                "SELECT unit, must_change FROM users WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    pub fn admin_user(&self, id: i64) -> Result<Option<AdminUser>> {
        Ok(self.admin_users()?.into_iter().find(|u| u.id == id))
    }

    /// Change a user (fields left `None` stay); returns whether the user exists.
    pub fn change_user(&self, id: i64, ch: &UserChange<'_>) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET display_name = COALESCE(?2, display_name),
                     role = COALESCE(?3, role), node_id = COALESCE(?4, node_id),
                     unit = CASE WHEN ?5 THEN ?6 ELSE unit END,
                     disabled = COALESCE(?7, disabled), also_viewer = COALESCE(?8, also_viewer)
                 WHERE id = ?1",
                params![
                    id,
                    ch.display_name,
                    ch.role.map(|r| r.as_str()),
                    ch.node_id,
                    ch.unit.is_some(),
                    ch.unit.flatten(),
                    ch.disabled,
                    ch.also_viewer
                ],
            )
            .map(|n| n > 0)
        })
    }

    /// Set a user's password; `one_time`: given by an administrator, to be replaced by the user.
    pub fn set_password_hash(&self, user_id: i64, hash: &str, one_time: bool) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET password_hash = ?2, must_change = ?3 WHERE id = ?1",
                params![user_id, hash, one_time],
            )
            .map(|_| ())
        })
    }

    /// End a user's logins (`Only(id)`: that device; `AllBut(keep)`: all but that one, or all),
    /// remembering them as ended for `reason` (see [`Db::ended_token`]); returns the ended
    /// devices' peer IDs, whose sockets the caller closes.
    pub fn end_tokens(
        &self,
        user_id: i64,
        which: Logins,
        reason: &str,
        now_ms: i64,
    ) -> Result<Vec<String>> {
        let (only, keep) = match which {
            Logins::Only(id) => (Some(id), None),
            Logins::AllBut(keep) => (None, keep),
        };
        let filter =
            "user_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR id = ?2) AND id IS DISTINCT FROM ?3";
        self.with(|c| {
            let tx = c.transaction()?;
            let peers = tx
                .prepare(&format!("SELECT peer_id FROM tokens WHERE {filter}"))?
                .query_map(params![user_id, only, keep], |r| r.get(0))?
                .collect::<Result<Vec<String>>>()?;
            tx.execute(
                &format!(
                    "INSERT INTO ended_tokens(token_hash, user_id, peer_id, ended_at, reason)
                     SELECT token_hash, user_id, peer_id, ?4, ?5 FROM tokens WHERE {filter}
                     ON CONFLICT(token_hash) DO UPDATE SET user_id = excluded.user_id,
                         peer_id = excluded.peer_id, ended_at = excluded.ended_at, reason = excluded.reason"
                ),
                params![user_id, only, keep, now_ms, reason],
            )?;
            tx.execute(
                &format!("DELETE FROM tokens WHERE {filter}"),
                params![user_id, only, keep],
            )?;
            tx.execute(
                "DELETE FROM ended_tokens WHERE ended_at < ?1",
                [now_ms - ENDED_KEPT_MS],
            )?;
            tx.commit()?;
            Ok(peers)
        })
    }

    /// A login an administrator or a password change ended: (username, peer ID, reason).
    pub fn ended_token(&self, token_hash: &[u8]) -> Result<Option<(String, String, String)>> {
        self.with(|c| {
            c.query_row(
                "SELECT u.username, e.peer_id, e.reason FROM ended_tokens e
                 JOIN users u ON u.id = e.user_id WHERE e.token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
    }

    /// A token's owner and peer ID.
    pub fn token_owner(&self, token_id: i64) -> Result<Option<(i64, String)>> {
        self.with(|c| {
            c.query_row(
                "SELECT user_id, peer_id FROM tokens WHERE id = ?1",
                [token_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// What a device said about itself at login.
    pub fn describe_token(
        &self,
        token_id: i64,
        user_agent: &str,
        app_version: &str,
        addr: &str,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE tokens SET user_agent = ?2, app_version = ?3, last_addr = ?4 WHERE id = ?1",
                params![token_id, user_agent, app_version, addr],
            )
            .map(|_| ())
        })
    }

    /// The device was seen now from `addr`, running `version` of the app if it said, its clock
    /// `skew` ms off the server's if it sent it (written at most once a minute per device).
    pub fn token_seen(
        &self,
        token_id: i64,
        now_ms: i64,
        addr: &str,
        version: &str,
        skew: Option<i64>,
    ) -> Result<()> {
        {
            // The statement below writes at most once a minute anyway; this skips running it.
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen
                .get(&token_id)
                .is_some_and(|last| now_ms - last < SEEN_EVERY_MS && now_ms >= *last)
            {
                return Ok(());
            }
            if seen.len() > 100_000 {
                seen.retain(|_, last| now_ms - *last < SEEN_EVERY_MS);
            }
            seen.insert(token_id, now_ms);
        }
        self.with(|c| {
            c.execute(
                "UPDATE tokens SET last_seen = ?2, last_addr = ?3,
                     app_version = CASE WHEN ?5 = '' THEN app_version ELSE ?5 END,
                     clock_skew = COALESCE(?6, clock_skew),
                     clock_at = CASE WHEN ?6 IS NULL THEN clock_at ELSE ?2 END
                 WHERE id = ?1 AND (last_seen IS NULL OR last_seen <= CAST(?2 AS BIGINT) - CAST(?4 AS BIGINT))",
                params![token_id, now_ms, addr, SEEN_EVERY_MS, version, skew],
            )
            .map(|_| ())
        })
    }

    /// Whether `node` is `root` or lies under it in the org tree.
    pub fn node_within(&self, node: &str, root: &str) -> Result<bool> {
        let mut at = Some(node.to_string());
        // The tree is shallow (province → commune → hamlet); the bound only guards against a cycle.
        for _ in 0..32 {
            let Some(n) = at else {
                return Ok(false);
            };
            if n == root {
                return Ok(true);
            }
            at = self.with(|c| {
                c.query_row("SELECT parent FROM org_nodes WHERE id = ?1", [&n], |r| {
                    r.get(0)
                })
                .optional()
                .map(Option::flatten)
            })?;
        }
        Ok(false)
    }

    pub fn audit(&self, e: &Audit<'_>) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO audit_log(at, actor, action, target, detail, addr) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.at, e.actor, e.action, e.target, e.detail, e.addr],
            )
            .map(|_| ())
        })
    }

    /// A page of the audit log, newest first, and how many entries match.
    pub fn audit_log(
        &self,
        action: Option<&str>,
        actor: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<(i64, Vec<AuditEntry>)> {
        self.with(|c| {
            let filter = "(CAST(?1 AS TEXT) IS NULL OR action = ?1) AND (CAST(?2 AS TEXT) IS NULL OR actor = ?2)";
            let total = c.query_row(
                &format!("SELECT COUNT(*) FROM audit_log WHERE {filter}"),
                params![action, actor],
                |r| r.get(0),
            )?;
            let entries = c
                .prepare(&format!(
                    "SELECT id, at, actor, action, target, detail, addr FROM audit_log WHERE {filter}
                     ORDER BY id DESC LIMIT ?3 OFFSET ?4"
                ))?
                .query_map(params![action, actor, limit, offset], |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        target: r.get(4)?,
                        detail: r.get(5)?,
                        addr: r.get(6)?,
                    })
                })?
                .collect::<Result<_>>()?;
            Ok((total, entries))
        })
    }
}
