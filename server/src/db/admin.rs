//! Administration in the database: users as administrators see them, devices (tokens) with where
//! and when they were last seen, disabling, password changes that end other logins, and the audit
//! log.

use super::{Db, Result};
use crate::access::Role;
use rusqlite::{OptionalExtension, params};
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

/// How often a device's last-seen time is written: at most once a minute per device.
const SEEN_EVERY_MS: i64 = 60_000;

impl Db {
    /// Every user, with their devices, ordered by username.
    pub fn admin_users(&self) -> Result<Vec<AdminUser>> {
        self.with(|c| {
            let mut users: Vec<AdminUser> = c
                .prepare(
                    "SELECT id, username, display_name, role, node_id, unit, disabled, also_viewer FROM users ORDER BY username",
                )?
                .query_map([], |r| {
                    Ok(AdminUser {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        display_name: r.get(2)?,
                        role: Role::parse(&r.get::<_, String>(3)?),
                        node_id: r.get(4)?,
                        unit: r.get(5)?,
                        disabled: r.get::<_, i64>(6)? != 0,
                        also_viewer: r.get::<_, i64>(7)? != 0,
                        devices: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut stmt = c.prepare(
                "SELECT user_id, id, peer_id, user_agent, app_version, created_at, last_seen, last_addr, expires_at
                 FROM tokens ORDER BY created_at",
            )?;
            let devices = stmt.query_map([], |r| {
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

    /// The unit a user works for, if any.
    pub fn user_unit(&self, id: i64) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT unit FROM users WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map(Option::flatten)
        })
    }

    pub fn admin_user(&self, id: i64) -> Result<Option<AdminUser>> {
        Ok(self.admin_users()?.into_iter().find(|u| u.id == id))
    }

    /// Change a user; returns whether a row was changed.
    pub fn change_user(&self, id: i64, ch: &UserChange<'_>) -> Result<bool> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut n = 0;
            if let Some(v) = ch.display_name {
                n += tx.execute(
                    "UPDATE users SET display_name = ?2 WHERE id = ?1",
                    params![id, v],
                )?;
            }
            if let Some(v) = ch.role {
                n += tx.execute(
                    "UPDATE users SET role = ?2 WHERE id = ?1",
                    params![id, v.as_str()],
                )?;
            }
            if let Some(v) = ch.node_id {
                n += tx.execute(
                    "UPDATE users SET node_id = ?2 WHERE id = ?1",
                    params![id, v],
                )?;
            }
            if let Some(v) = ch.unit {
                n += tx.execute("UPDATE users SET unit = ?2 WHERE id = ?1", params![id, v])?;
            }
            if let Some(v) = ch.disabled {
                n += tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE id = ?1",
                    params![id, v],
                )?;
            }
            if let Some(v) = ch.also_viewer {
                n += tx.execute(
                    "UPDATE users SET also_viewer = ?2 WHERE id = ?1",
                    params![id, v],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    pub fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![user_id, hash],
            )
            .map(|_| ())
        })
    }

    /// Remove a user's tokens (all of them, or all but `keep`); returns the removed devices' peer
    /// IDs, whose sockets the caller closes.
    pub fn delete_user_tokens(&self, user_id: i64, keep: Option<i64>) -> Result<Vec<String>> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let peers = tx
                .prepare("SELECT peer_id FROM tokens WHERE user_id = ?1 AND id IS NOT ?2")?
                .query_map(params![user_id, keep], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            tx.execute(
                "DELETE FROM tokens WHERE user_id = ?1 AND id IS NOT ?2",
                params![user_id, keep],
            )?;
            tx.commit()?;
            Ok(peers)
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

    /// The device was seen now from `addr` (written at most once a minute per device).
    pub fn token_seen(&self, token_id: i64, now_ms: i64, addr: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE tokens SET last_seen = ?2, last_addr = ?3
                 WHERE id = ?1 AND (last_seen IS NULL OR last_seen <= ?2 - ?4)",
                params![token_id, now_ms, addr, SEEN_EVERY_MS],
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
            let filter = "(?1 IS NULL OR action = ?1) AND (?2 IS NULL OR actor = ?2)";
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
                .collect::<rusqlite::Result<_>>()?;
            Ok((total, entries))
        })
    }
}
