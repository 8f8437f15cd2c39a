//! Login with argon2id passwords, revocable device tokens (stored hashed), and the extractor that
//! turns a request's token into a [`Principal`].

use crate::AppState;
use crate::access::Principal;
use crate::db::TokenLookup;
use crate::error::ApiError;
use crate::login_limit::Refusal;
use crate::net::ClientAddr;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use shared::api::{
    DEVICE_REPORT_MAX, DeviceReport, DeviceReported, LoginRequest, LoginResponse, LogoutResponse,
    MeResponse, UserInfo,
};

pub const COOKIE_NAME: &str = "danvan_token";
pub use crate::db::{RENEW_GRACE_MS, TOKEN_LIFETIME_MS};
/// The cookie outlives the token (whose end moves on with use, see [`TOKEN_LIFETIME_MS`]): 400
/// days, the most Chromium keeps a cookie.
const COOKIE_MAX_AGE_S: i64 = 400 * 24 * 3600;

pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt encodes");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing")
        .to_string()
}

/// Whether `password` matches the PHC string `hash`. The argon2 working memory (~19 MiB) is kept
/// per thread and reused: allocated afresh for every check, a login flood left a new 19 MiB region
/// resident after almost every check (heap fragmentation), about 230 MiB after forty.
pub fn verify_password(password: &str, hash: &str) -> bool {
    thread_local! {
        static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    /// Our hashes use 19 MiB; a stored hash asking for more than this is refused, not computed.
    const MAX_BLOCKS: usize = 64 * 1024;
    let check = || -> Option<bool> {
        let h = PasswordHash::new(hash).ok()?;
        let params = argon2::Params::try_from(&h).ok()?;
        let algorithm = argon2::Algorithm::try_from(h.algorithm).ok()?;
        let version = match h.version {
            Some(v) => argon2::Version::try_from(v).ok()?,
            None => argon2::Version::default(),
        };
        let (salt, expected) = (h.salt?, h.hash?);
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf).ok()?;
        if params.block_count() > MAX_BLOCKS {
            return None;
        }
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        BLOCKS.with(|blocks| {
            let mut blocks = blocks.borrow_mut();
            blocks.resize(params.block_count(), argon2::Block::default());
            argon
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    salt,
                    &mut out,
                    &mut blocks[..params.block_count()],
                )
                .ok()
        })?;
        // `Output`'s equality is constant-time.
        Some(argon2::password_hash::Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What the app learns about the user behind a principal.
pub fn user_info(p: &Principal) -> UserInfo {
    UserInfo {
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        role: p.role.clone(),
        node_id: p.node_id.clone(),
        commune_id: p.commune_id.clone(),
        unit: None,
        reads_communes: p.reads_communes(),
        must_change: false,
    }
}

/// [`user_info`] with what only the database knows (the user's unit).
fn user_info_full(st: &AppState, p: &Principal) -> Result<UserInfo, ApiError> {
    let (unit, must_change) = st.db.user_unit(p.user_id)?;
    Ok(UserInfo {
        unit,
        must_change,
        ..user_info(p)
    })
}

/// The app's build, which the app sends on its API calls (shown in the administrator's device list).
const VERSION_HEADER: &str = "x-danvan-version";

/// How far the device's clock (which the app sends with its API calls) is from the server's.
fn clock_skew(headers: &axum::http::HeaderMap, now_ms: i64) -> Option<i64> {
    let device: i64 = header_text(headers, "x-danvan-clock").parse().ok()?;
    // Not a time at all (before 2000, after 2200): not a clock reading.
    (946_684_800_000..7_258_118_400_000)
        .contains(&device)
        .then(|| device - now_ms)
}

/// A request header as text for the device list (at most 200 characters; absent or not text: "").
fn header_text(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect())
        .unwrap_or_default()
}

/// A dummy hash verified when the username is unknown, so timing does not reveal which usernames exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("not-a-real-password"));

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::TooMany { retry_after } => ApiError::TooManyRequests { retry_after },
            Refusal::Busy => ApiError::Busy { retry_after: 2 },
        }
    }
}

pub async fn login(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: axum::http::HeaderMap,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let username = req.username.trim().to_lowercase();
    if username.is_empty() || username.len() > 64 || req.password.len() > 256 {
        return Err(ApiError::BadRequest(
            "username and password are required".into(),
        ));
    }
    // Reserved before the password is checked: concurrent guesses cannot all pass the limit.
    let attempt = st.limiter.begin(&st.db, &username, addr)?;
    let user = st.db.user_by_name(&username)?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let password = req.password;
    // argon2 is deliberately slow (tens of ms) and allocates ~19 MiB: few at once, off the async
    // workers.
    let ok = st
        .limiter
        .check(move || verify_password(&password, &hash))
        .await?;
    let Some(user) = user.filter(|_| ok) else {
        // Not the username: it is often a password typed into the wrong field.
        tracing::info!(%addr, "login failed");
        crate::admin::audit(&st, "", "login-failed", &username, "", &addr.to_string());
        return Err(ApiError::Unauthorized(
            "sai tên đăng nhập hoặc mật khẩu / wrong username or password",
        ));
    };
    attempt.succeeded(&st.db);
    if st.db.admin_user(user.id)?.is_some_and(|u| u.disabled) {
        crate::admin::audit(
            &st,
            &username,
            "login-refused",
            &username,
            "account disabled",
            &addr.to_string(),
        );
        return Err(ApiError::Forbidden(
            "tài khoản đã bị khóa; hãy liên hệ quản trị viên / this account is disabled; ask your administrator",
        ));
    }
    let token = random_hex(32);
    let peer_id = format!("dv-u{}-{}", user.id, random_hex(6));
    let now = crate::clock::now_ms();
    let expires_at = now + TOKEN_LIFETIME_MS;
    st.db
        .insert_token(user.id, &token_hash(&token), &peer_id, now, expires_at)?;
    let TokenLookup::Valid(p) = st.db.lookup_token(&token_hash(&token), now)? else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "token just created does not resolve"
        )));
    };
    tracing::info!(user = %username, peer = %peer_id, "login");
    let header = |name: &str| header_text(&headers, name);
    st.db.describe_token(
        p.token_id,
        &header("user-agent"),
        &header(VERSION_HEADER),
        &addr.to_string(),
    )?;
    // The device's clock is checked at login, and on every later call.
    st.db.token_seen(
        p.token_id,
        now,
        &addr.to_string(),
        "",
        clock_skew(&headers, now),
    )?;
    crate::admin::audit(
        &st,
        &username,
        "login",
        &peer_id,
        &header("user-agent"),
        &addr.to_string(),
    );
    let cookie = token_cookie(&st, &token);
    let body = LoginResponse {
        token,
        peer_id,
        expires_at,
        user: user_info_full(&st, &p)?,
    };
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

/// The cookie that carries a device's token.
pub fn token_cookie(st: &AppState, token: &str) -> String {
    format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        COOKIE_MAX_AGE_S,
        st.cookie_flags()
    )
}

/// Ends this device's login: the token stops working and the device's open sync sockets close.
pub async fn logout(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
) -> Result<Response, ApiError> {
    st.db.delete_token(p.token_id)?;
    crate::admin::audit(
        &st,
        &p.username,
        "logout",
        &p.peer_id,
        "",
        &addr.to_string(),
    );
    st.hub.connections().close_peer(&p.peer_id, "logged out");
    let cookie = format!(
        "{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        st.cookie_flags()
    );
    Ok(([(SET_COOKIE, cookie)], Json(LogoutResponse { ok: true })).into_response())
}

pub async fn me(State(st): State<AppState>, p: Principal) -> Result<Json<MeResponse>, ApiError> {
    Ok(Json(MeResponse {
        user: user_info_full(&st, &p)?,
        peer_id: p.peer_id,
    }))
}

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Bearer,
    Cookie,
    /// `?token=`: only on the WebSocket upgrade, for clients that cannot set headers there. Anywhere
    /// else a token in the URL would end up in proxy and browser logs, so it is refused.
    Query,
}

/// The token of a request and how it came. Never logged.
fn token_of(parts: &Parts) -> Option<(String, Carrier)> {
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "));
    if let Some(t) = bearer {
        return Some((t.trim().to_string(), Carrier::Bearer));
    }
    let prefix = format!("{COOKIE_NAME}=");
    let cookie = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or_default().split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(prefix.as_str())
                .filter(|t| !t.is_empty())
        });
    if let Some(t) = cookie {
        return Some((t.to_string(), Carrier::Cookie));
    }
    parts.uri.query().and_then(|q| {
        q.split('&').find_map(|kv| {
            kv.strip_prefix("token=")
                .map(|t| (t.to_string(), Carrier::Query))
        })
    })
}

fn is_upgrade(parts: &Parts) -> bool {
    parts
        .headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let (token, carrier) = token_of(parts).ok_or(ApiError::Unauthorized("login required"))?;
        let upgrade = parts.uri.path() == "/sync" && is_upgrade(parts);
        match carrier {
            Carrier::Query if !upgrade => {
                return Err(ApiError::BadRequest(
                    "a token in the URL is accepted only for the sync WebSocket; send it in the Authorization header".into(),
                ));
            }
            // A cookie rides along on requests other sites make the browser send: changes and the
            // sync socket must come from our own pages.
            Carrier::Cookie
                if (upgrade || !parts.method.is_safe())
                    && !crate::net::same_origin(parts, st.config.public_url.as_ref()) =>
            {
                return Err(ApiError::Forbidden(
                    "cross-origin request refused (Origin does not match this server)",
                ));
            }
            _ => {}
        }
        match st
            .db
            .lookup_token(&token_hash(&token), crate::clock::now_ms())?
        {
            TokenLookup::Valid(p) => {
                // When and where each device was last seen, for the administrator's device list.
                let Ok(ClientAddr(addr)) = ClientAddr::from_request_parts(parts, st).await;
                let (version, now) = (
                    header_text(&parts.headers, VERSION_HEADER),
                    crate::clock::now_ms(),
                );
                st.db.token_seen(
                    p.token_id,
                    now,
                    &addr.to_string(),
                    &version,
                    clock_skew(&parts.headers, now),
                )?;
                Ok(p)
            }
            TokenLookup::Expired => Err(ApiError::Unauthorized("token expired; log in again")),
            TokenLookup::Unknown => Err(ApiError::Unauthorized("invalid or revoked token")),
        }
    }
}

/// Who sent a device's report: a signed-in device, or one whose login was ended (`ended` holds
/// why) and which still presents its token.
pub struct Reporter {
    pub username: String,
    pub peer_id: String,
    pub ended: Option<String>,
}

impl FromRequestParts<AppState> for Reporter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        // Every check of a signed-in request (origin, the token's carrier) runs first.
        match Principal::from_request_parts(parts, st).await {
            Ok(p) => Ok(Reporter {
                username: p.username,
                peer_id: p.peer_id,
                ended: None,
            }),
            Err(ApiError::Unauthorized(why)) => {
                let (token, _) = token_of(parts).ok_or(ApiError::Unauthorized(why))?;
                let (username, peer_id, reason) = st
                    .db
                    .ended_token(&token_hash(&token))?
                    .ok_or(ApiError::Unauthorized(why))?;
                Ok(Reporter {
                    username,
                    peer_id,
                    ended: Some(reason),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// `POST /api/audit/report` (see [`DeviceReport`]).
pub async fn device_report(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    who: Reporter,
    body: Result<Json<DeviceReport>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<DeviceReported>, ApiError> {
    let Json(report) = body?;
    if report.events.len() > DEVICE_REPORT_MAX {
        return Err(ApiError::BadRequest(format!(
            "at most {DEVICE_REPORT_MAX} events at once"
        )));
    }
    if let Some(e) = report
        .events
        .iter()
        .find(|e| !matches!(e.kind.as_str(), "export" | "import"))
    {
        return Err(ApiError::BadRequest(format!(
            "unknown event kind: {:.40}",
            e.kind
        )));
    }
    for e in &report.events {
        let mut detail = format!(
            "{} document(s), {} photo(s){}{}; device time {}",
            e.docs,
            e.photos,
            if e.skipped > 0 {
                format!(", {} skipped", e.skipped)
            } else {
                String::new()
            },
            if e.sealed { ", sealed" } else { "" },
            shared::ids::display_datetime_vn(e.at),
        );
        if let Some(why) = &who.ended {
            detail.push_str(&format!("; after sign-out ({why})"));
        }
        crate::admin::audit(
            &st,
            &who.username,
            &e.kind,
            &who.peer_id,
            &detail,
            &addr.to_string(),
        );
    }
    Ok(Json(DeviceReported {
        recorded: report.events.len(),
    }))
}
