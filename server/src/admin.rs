//! Administration over HTTP: users (create, change role, node, unit, disable, reset the password
//! with a one-time code), their devices (revoke one: its sockets close and its calls get 401), a
//! user's own password change, and the audit log. Administrators act only on users under their own
//! node of the org tree.

use crate::AppState;
use crate::access::{Principal, Role};
use crate::auth::{hash_password, random_hex, token_cookie, token_hash, verify_password};
use crate::db::{Audit, Logins, UserChange};
use crate::error::ApiError;
use crate::net::ClientAddr;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use shared::api::{
    AUDIT_PAGE, AdminUser, AdminUsers, AuditLog, AuditQuery, NewUser, OneTimePassword,
    PasswordChange, PasswordChanged, UserEdit,
};

fn require_admin(p: &Principal) -> Result<(), ApiError> {
    match p.role {
        Role::Admin => Ok(()),
        _ => Err(ApiError::Forbidden("administrators only")),
    }
}

/// Record an audit event; a failure to record is logged, never shown to the user as theirs.
pub fn audit(st: &AppState, actor: &str, action: &str, target: &str, detail: &str, addr: &str) {
    let e = Audit {
        at: crate::clock::now_ms(),
        actor,
        action,
        target,
        detail,
        addr,
    };
    if let Err(err) = st.db.audit(&e) {
        tracing::error!(%err, action, "audit log write failed");
    }
}

/// The user `id`, if the administrator's node covers them.
fn managed(st: &AppState, p: &Principal, id: i64) -> Result<AdminUser, ApiError> {
    let user = st
        .db
        .admin_user(id)?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    if !st.db.node_within(&user.node_id, &p.node_id)? {
        return Err(ApiError::Forbidden(
            "this user is outside your part of the organisation",
        ));
    }
    Ok(user)
}

/// A node and role an administrator may give: a known role, a node under their own.
fn check_placement(st: &AppState, p: &Principal, role: &Role, node: &str) -> Result<(), ApiError> {
    if !role.is_known() {
        return Err(ApiError::BadRequest(format!(
            "unknown role: {}",
            role.as_str()
        )));
    }
    if st.db.nodes()?.iter().all(|n| n.id != node) {
        return Err(ApiError::BadRequest(format!("no such org node: {node}")));
    }
    if !st.db.node_within(node, &p.node_id)? {
        return Err(ApiError::Forbidden(
            "that node is outside your part of the organisation",
        ));
    }
    Ok(())
}

fn check_unit(unit: &str) -> Result<(), ApiError> {
    if shared::schema::UNIT_KINDS
        .iter()
        .any(|(k, _, _)| *k == unit)
    {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!("unknown unit: {unit}")))
    }
}

/// A password an administrator can read out over the phone: 12 letters and digits without the
/// ones that look alike (0/O, 1/l/I).
fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// End every login of `user` but `keep`: tokens deleted, open sync sockets closed.
fn end_logins(
    st: &AppState,
    user: i64,
    keep: Option<i64>,
    reason: &'static str,
) -> Result<usize, ApiError> {
    let peers = st
        .db
        .end_tokens(user, Logins::AllBut(keep), reason, crate::clock::now_ms())?;
    for peer in &peers {
        st.hub.connections().close_peer(peer, reason);
    }
    Ok(peers.len())
}

/// `GET /api/admin/users`
pub async fn users(State(st): State<AppState>, p: Principal) -> Result<Json<AdminUsers>, ApiError> {
    require_admin(&p)?;
    let mut users = Vec::new();
    for u in st.db.admin_users()? {
        if st.db.node_within(&u.node_id, &p.node_id)? {
            users.push(u);
        }
    }
    Ok(Json(AdminUsers { users }))
}

/// `POST /api/admin/users`
pub async fn create_user(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    body: Result<Json<NewUser>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<OneTimePassword>, ApiError> {
    require_admin(&p)?;
    let Json(req) = body?;
    let username = req.username.trim().to_lowercase();
    let valid = (2..=32).contains(&username.len())
        && username.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' || c == '_'
        });
    if !valid {
        return Err(ApiError::BadRequest(
            "username: 2–32 lowercase letters, digits, '.', '-' or '_'".into(),
        ));
    }
    let name = req.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::BadRequest(
            "display name: 1–100 characters".into(),
        ));
    }
    check_placement(&st, &p, &req.role, &req.node_id)?;
    if let Some(u) = &req.unit {
        check_unit(u)?;
    }
    if st.db.user_by_name(&username)?.is_some() {
        return Err(ApiError::Conflict {
            message: format!("the username {username} is taken"),
            offset: 0,
        });
    }
    let password = one_time_password();
    let hash = hash_password(&password);
    let id = st
        .db
        .create_user(&username, name, &hash, &req.role, &req.node_id)?;
    // The administrator saw the password: the user replaces it at first sign-in.
    st.db.set_password_hash(id, &hash, true)?;
    st.db.change_user(
        id,
        &UserChange {
            unit: req.unit.as_deref().map(Some),
            also_viewer: Some(req.also_viewer),
            ..Default::default()
        },
    )?;
    let detail = format!("role {} at {}", req.role.as_str(), req.node_id);
    audit(
        &st,
        &p.username,
        "user-created",
        &username,
        &detail,
        &addr.to_string(),
    );
    let user = managed(&st, &p, id)?;
    Ok(Json(OneTimePassword { user, password }))
}

/// `POST /api/admin/users/{id}`: change role, node, unit, name; disable (which ends every login).
pub async fn edit_user(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
    body: Result<Json<UserEdit>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AdminUser>, ApiError> {
    require_admin(&p)?;
    let Json(req) = body?;
    let user = managed(&st, &p, id)?;
    if id == p.user_id
        && (req.disabled == Some(true) || req.role.as_ref().is_some_and(|r| *r != Role::Admin))
    {
        return Err(ApiError::BadRequest(
            "you cannot disable yourself or give up your own administrator role".into(),
        ));
    }
    let role = req.role.clone().unwrap_or(user.role.clone());
    let node = req.node_id.clone().unwrap_or(user.node_id.clone());
    if req.role.is_some() || req.node_id.is_some() {
        check_placement(&st, &p, &role, &node)?;
    }
    let unit = match req.unit.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(u) => {
            check_unit(u)?;
            Some(Some(u))
        }
    };
    let name = req.display_name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 100) {
        return Err(ApiError::BadRequest(
            "display name: 1–100 characters".into(),
        ));
    }
    st.db.change_user(
        id,
        &UserChange {
            display_name: name,
            role: req.role.as_ref(),
            node_id: req.node_id.as_deref(),
            unit,
            disabled: req.disabled,
            also_viewer: req.also_viewer,
        },
    )?;
    // Who changed what: role, node, unit, state — never a password.
    let mut what = Vec::new();
    if role != user.role {
        what.push(format!("role {} → {}", user.role.as_str(), role.as_str()));
    }
    if node != user.node_id {
        what.push(format!("node {} → {}", user.node_id, node));
    }
    if let Some(u) = unit
        && u != user.unit.as_deref()
    {
        what.push(format!(
            "unit {} → {}",
            user.unit.as_deref().unwrap_or("-"),
            u.unwrap_or("-")
        ));
    }
    if let Some(v) = req.also_viewer
        && v != user.also_viewer
    {
        what.push(if v {
            "viewer role added".into()
        } else {
            "viewer role removed".into()
        });
    }
    if let Some(d) = req.disabled
        && d != user.disabled
    {
        what.push(if d {
            "disabled".into()
        } else {
            "enabled".into()
        });
    }
    // A disabled user, or one moved or given another role, logs in again: their devices' tokens
    // carry the old scope.
    let reads_changed = req.also_viewer.is_some_and(|v| v != user.also_viewer);
    if req.disabled == Some(true) || role != user.role || node != user.node_id || reads_changed {
        let ended = end_logins(&st, id, None, "account changed by an administrator")?;
        what.push(format!("{ended} device(s) signed out"));
    }
    if !what.is_empty() {
        audit(
            &st,
            &p.username,
            "user-changed",
            &user.username,
            &what.join("; "),
            &addr.to_string(),
        );
    }
    Ok(Json(managed(&st, &p, id)?))
}

/// `POST /api/admin/users/{id}/password`: a new one-time password; every login of the user ends.
pub async fn reset_password(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
) -> Result<Json<OneTimePassword>, ApiError> {
    require_admin(&p)?;
    let user = managed(&st, &p, id)?;
    let password = one_time_password();
    st.db
        .set_password_hash(id, &hash_password(&password), true)?;
    let ended = end_logins(&st, id, None, "password reset by an administrator")?;
    audit(
        &st,
        &p.username,
        "password-reset",
        &user.username,
        &format!("{ended} device(s) signed out"),
        &addr.to_string(),
    );
    Ok(Json(OneTimePassword {
        user: managed(&st, &p, id)?,
        password,
    }))
}

/// `POST /api/admin/devices/{token_id}/revoke`: the device's token stops working at once and its
/// open sync sockets close.
pub async fn revoke_device(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    Path(token_id): Path<i64>,
) -> Result<Json<AdminUser>, ApiError> {
    require_admin(&p)?;
    let (user_id, peer) = st
        .db
        .token_owner(token_id)?
        .ok_or_else(|| ApiError::NotFound("no such device".into()))?;
    let user = managed(&st, &p, user_id)?;
    let reason = "device revoked by an administrator";
    st.db.end_tokens(
        user_id,
        Logins::Only(token_id),
        reason,
        crate::clock::now_ms(),
    )?;
    let closed = st.hub.connections().close_peer(&peer, reason);
    audit(
        &st,
        &p.username,
        "device-revoked",
        &user.username,
        &format!("{peer}; {closed} connection(s) closed"),
        &addr.to_string(),
    );
    Ok(Json(managed(&st, &p, user_id)?))
}

/// `POST /api/password`: change one's own password; every other login of the user ends.
pub async fn change_password(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    body: Result<Json<PasswordChange>, axum::extract::rejection::JsonRejection>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let Json(req) = body?;
    if req.new == req.old {
        return Err(ApiError::BadRequest(
            "mật khẩu mới phải khác mật khẩu cũ / the new password must differ from the current one"
                .into(),
        ));
    }
    if req.new.chars().count() < 8 || req.new.len() > 256 {
        return Err(ApiError::BadRequest(
            "mật khẩu mới cần ít nhất 8 ký tự / the new password needs at least 8 characters"
                .into(),
        ));
    }
    let user = st
        .db
        .user_by_name(&p.username)?
        .ok_or(ApiError::Unauthorized("login required"))?;
    let (old, hash) = (req.old, user.password_hash);
    let ok = st
        .limiter
        .check(move || verify_password(&old, &hash))
        .await?;
    if !ok {
        audit(
            &st,
            &p.username,
            "password-change-refused",
            &p.username,
            "wrong current password",
            &addr.to_string(),
        );
        return Err(ApiError::Forbidden(
            "mật khẩu hiện tại không đúng / the current password is wrong",
        ));
    }
    let new = req.new;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    st.db.set_password_hash(p.user_id, &hash, false)?;
    let ended = end_logins(&st, p.user_id, Some(p.token_id), "password changed")?;
    // This device's login rotates too: a new token for the same device (its peer ID, its sockets
    // and its row in the device list stay), and the one presented with the old password is dead.
    let token = random_hex(32);
    st.db.rotate_token(p.token_id, &token_hash(&token))?;
    audit(
        &st,
        &p.username,
        "password-changed",
        &p.username,
        &format!("{ended} other device(s) signed out"),
        &addr.to_string(),
    );
    let cookie = token_cookie(&st, &token);
    Ok((
        [(SET_COOKIE, cookie)],
        Json(PasswordChanged {
            signed_out: ended,
            token,
        }),
    ))
}

/// `GET /api/admin/audit`
pub async fn audit_log(
    State(st): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditLog>, ApiError> {
    require_admin(&p)?;
    let offset = q.offset.unwrap_or(0);
    let blank = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (total, entries) = st.db.audit_log(
        blank(&q.action).as_deref(),
        blank(&q.actor).as_deref(),
        offset,
        AUDIT_PAGE,
    )?;
    Ok(Json(AuditLog {
        total,
        offset,
        entries,
    }))
}
