//! Accounts and device tokens: users with their role and org node, tokens stored as SHA-256 with
//! the device's peer ID, and the principal a token resolves to.

use super::sql::{OptionalExtension, params};
use super::{Db, Result};
use crate::access::{Principal, Role, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub node_id: String,
}

/// A device's login lasts this long after its last use: each day it is used moves the end on.
pub const TOKEN_LIFETIME_MS: i64 = 180 * DAY_MS;
/// A token past its end still renews on its next use within this long (a phone offline for
/// months keeps its login when it comes back); after that the device logs in again.
pub const RENEW_GRACE_MS: i64 = 180 * DAY_MS;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// How a presented token resolved.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenLookup {
    Valid(Principal),
    Expired,
    Unknown,
}

impl Db {
    pub fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: &Role,
        node_id: &str,
    ) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "INSERT INTO users(username, display_name, password_hash, role, node_id) VALUES (?1, ?2, ?3, ?4, ?5)
                 RETURNING id",
                params![username, display_name, password_hash, role.as_str(), node_id],
                |r| r.get(0),
            )
        })
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        self.with(|c| {
            c.query_row(
                "SELECT id, username, display_name, password_hash, role, node_id FROM users WHERE username = ?1",
                [username],
                |r| {
                    Ok(UserRow {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        display_name: r.get(2)?,
                        password_hash: r.get(3)?,
                        role: Role::parse(&r.get::<_, String>(4)?),
                        node_id: r.get(5)?,
                    })
                },
            )
            .optional()
        })
    }

    pub fn insert_token(
        &self,
        user_id: i64,
        token_hash: &[u8],
        peer_id: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "INSERT INTO tokens(user_id, token_hash, peer_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 RETURNING id",
                params![user_id, token_hash, peer_id, now_ms, expires_ms],
                |r| r.get(0),
            )
        })
    }

    /// Give a device's login a new token (its hash); the old one stops resolving.
    pub fn rotate_token(&self, token_id: i64, token_hash: &[u8]) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE tokens SET token_hash = ?2 WHERE id = ?1",
                params![token_id, token_hash],
            )
            .map(|_| ())
        })
    }

    pub fn delete_token(&self, token_id: i64) -> Result<()> {
        self.with(|c| {
            c.execute("DELETE FROM tokens WHERE id = ?1", [token_id])
                .map(|_| ())
        })
    }

    pub fn lookup_token(&self, token_hash: &[u8], now_ms: i64) -> Result<TokenLookup> {
        let row = self.with(|c| {
            c.query_row(
                "SELECT t.id, t.peer_id, t.expires_at, u.id, u.username, u.display_name, u.role, u.node_id,
                        CASE n.level WHEN 'commune' THEN n.id WHEN 'hamlet' THEN n.parent END, u.also_viewer
                 FROM tokens t JOIN users u ON u.id = t.user_id JOIN org_nodes n ON n.id = u.node_id
                 WHERE t.token_hash = ?1 AND u.disabled = 0",
                [token_hash],
                |r| {
                    Ok((
                        r.get::<_, i64>(2)?,
                        Principal {
                            token_id: r.get(0)?,
                            peer_id: r.get(1)?,
                            user_id: r.get(3)?,
                            username: r.get(4)?,
                            display_name: r.get(5)?,
                            role: Role::parse(&r.get::<_, String>(6)?),
                            node_id: r.get(7)?,
                            commune_id: r.get(8)?,
                            scope: Scope::All,
                            also_viewer: r.get::<_, i64>(9)? != 0,
                        },
                    ))
                },
            )
            .optional()
        })?;
        Ok(match row {
            None => TokenLookup::Unknown,
            Some((expires, _)) if expires + RENEW_GRACE_MS <= now_ms => TokenLookup::Expired,
            // Used: the end moves on (written at most once a day per device).
            Some((expires, p)) if expires < now_ms + TOKEN_LIFETIME_MS - DAY_MS => {
                self.with(|c| {
                    c.execute(
                        "UPDATE tokens SET expires_at = ?2 WHERE id = ?1",
                        params![p.token_id, now_ms + TOKEN_LIFETIME_MS],
                    )
                })?;
                return self.lookup_token(token_hash, now_ms);
            }
            Some((_, p)) if p.role == Role::Member => TokenLookup::Valid(Principal {
                scope: Scope::of(p.commune_id.clone()),
                ..p
            }),
            // Only members are bound to a commune; the aggregating level sees its node's subtree.
            Some((_, p)) => TokenLookup::Valid(Principal {
                commune_id: None,
                scope: self.scope_of(&p.node_id)?,
                ..p
            }),
        })
    }

    /// The communes under `node`: all of them from the top of the tree (a node without a parent);
    /// under a commune, a hamlet or a unit, the commune it belongs to. Removed communes included:
    /// their history stays readable.
    pub fn scope_of(&self, node: &str) -> Result<Scope> {
        let parent: Option<Option<String>> = self.with(|c| {
            c.query_row("SELECT parent FROM org_nodes WHERE id = ?1", [node], |r| {
                r.get(0)
            })
            .optional()
        })?;
        match parent {
            None => Ok(Scope::of([])),
            Some(None) => Ok(Scope::All),
            Some(Some(_)) => {
                let mut communes: Vec<String> = self.with(|c| {
                    c.prepare(
                        "WITH RECURSIVE sub(id) AS (
                             SELECT CAST(?1 AS TEXT) UNION SELECT n.id FROM org_nodes n JOIN sub ON n.parent = sub.id)
                         SELECT n.id FROM org_nodes n JOIN sub ON n.id = sub.id WHERE n.level = 'commune'",
                    )?
                    .query_map([node], |r| r.get(0))?
                    .collect()
                })?;
                communes.extend(self.commune_of(node)?);
                Ok(Scope::of(communes))
            }
        }
    }

    pub fn principal_by_peer(&self, peer_id: &str, now_ms: i64) -> Result<Option<Principal>> {
        let hash: Option<Vec<u8>> = self.with(|c| {
            c.query_row(
                "SELECT token_hash FROM tokens WHERE peer_id = ?1",
                [peer_id],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(match hash {
            Some(h) => match self.lookup_token(&h, now_ms)? {
                TokenLookup::Valid(p) => Some(p),
                _ => None,
            },
            None => None,
        })
    }

    /// Reserve a failed-login place in each window of `keys` (name, (limit, length)) shared by
    /// every node — or, if one is full, the seconds to wait and nothing counted. One transaction,
    /// the windows locked in the given order, so concurrent guesses on several nodes cannot all
    /// slip under a limit. (A lone node counts in memory: [`crate::login_limit`].)
    pub fn login_reserve(
        &self,
        keys: &[(String, (u32, std::time::Duration))],
        now_ms: i64,
    ) -> Result<Option<u64>> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut wait = None;
            for (key, rule) in keys {
                tx.lock(&format!("login/{key}"))?;
                let held: Option<(i64, i64)> = tx
                    .query_row(
                        "SELECT count, since FROM login_windows WHERE key = ?1",
                        [key],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((count, since)) = held {
                    let age = std::time::Duration::from_millis((now_ms - since).max(0) as u64);
                    wait = wait.max(crate::login_limit::wait_secs(count, age, *rule));
                }
            }
            if wait.is_some() {
                return Ok(wait);
            }
            for (key, (_, window)) in keys {
                tx.execute(
                    "INSERT INTO login_windows(key, count, since) VALUES (?1, 1, ?2)
                     ON CONFLICT(key) DO UPDATE SET
                         count = CASE WHEN login_windows.since <= CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT)
                                      THEN 1 ELSE login_windows.count + 1 END,
                         since = CASE WHEN login_windows.since <= CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT)
                                      THEN ?2 ELSE login_windows.since END",
                    params![key, now_ms, window.as_millis() as i64],
                )?;
            }
            // Windows long over are forgotten now and then (each is minutes long).
            if rand::random::<u8>() == 0 {
                tx.execute(
                    "DELETE FROM login_windows WHERE since < ?1",
                    [now_ms - 3_600_000],
                )?;
            }
            tx.commit()?;
            Ok(None)
        })
    }

    /// A reserved login succeeded: give its places back.
    pub fn login_give_back(&self, keys: &[(String, (u32, std::time::Duration))]) -> Result<()> {
        self.with(|c| {
            for (key, _) in keys {
                c.execute(
                    "UPDATE login_windows SET count = count - 1 WHERE key = ?1 AND count > 0",
                    [key],
                )?;
            }
            Ok(())
        })
    }
}
