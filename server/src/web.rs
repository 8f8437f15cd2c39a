//! The HTTP surface: `fn app() -> Router` with the API, the sync upgrade and the PWA's static files.

use crate::access::Principal;
use crate::error::ApiError;
use crate::net::ClientAddr;
use crate::{AppState, MAX_SYNC_FRAME, admin, api, auth, blobs, office, report};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State, WebSocketUpgrade};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

/// The app's pages may run our own scripts and WebAssembly and nothing else: no inline script, no
/// other origin, no framing (clickjacking), no plugins. Photos are shown from `blob:` URLs.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How long after a storage failure `/healthz` keeps answering 503: long enough for a load balancer
/// or an operator's probe to notice, short enough to clear once the disk is back.
const UNHEALTHY_FOR_MS: i64 = 5 * 60 * 1000;

/// `GET /healthz`: `ok`, or 503 while storage failures are recent; the counts since start either way.
async fn healthz(State(st): State<AppState>) -> Response {
    let h = st.storage.health();
    let recent = h
        .last_error_ms
        .is_some_and(|t| crate::clock::now_ms() - t < UNHEALTHY_FOR_MS);
    // Photo store failures are counted, not a reason for 503: text sync works without it.
    let counts = format!(
        "storage_read_errors {}\nstorage_write_errors {}\nphoto_store_errors {}\ndocuments_loaded {}\ndurable_states_loaded {}\nsync_sockets {}\n",
        h.read_errors,
        h.write_errors,
        st.blobs.errors(),
        st.hub.loaded_documents(),
        st.storage.loaded(),
        st.hub.connections().count()
    );
    if recent {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage failing\n{counts}"),
        )
            .into_response()
    } else {
        format!("ok\n{counts}").into_response()
    }
}

pub fn app(state: AppState) -> Router {
    let files = ServeDir::new(&state.config.dist)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/password", post(admin::change_password))
        .route("/api/audit/report", post(auth::device_report))
        .route(
            "/api/admin/users",
            get(admin::users).post(admin::create_user),
        )
        .route("/api/admin/users/{id}", post(admin::edit_user))
        .route(
            "/api/admin/users/{id}/password",
            post(admin::reset_password),
        )
        .route(
            "/api/admin/devices/{token_id}/revoke",
            post(admin::revoke_device),
        )
        .route("/api/admin/audit", get(admin::audit_log))
        .route("/api/docs", get(api::docs))
        .route(
            "/api/durable-heads",
            get(api::durable_heads).post(api::durable_check),
        )
        .route("/api/overview", get(api::overview))
        .route("/api/office/summary", get(office::summary))
        .route("/api/office/notes", get(office::notes))
        .route("/api/office/petitions", get(office::petitions))
        .route("/api/office/events", get(office::events))
        .route("/api/reports", get(report::status))
        .route("/api/reports/cut", post(report::cut))
        .route("/api/reports/file", get(report::download))
        .route("/api/quarantine", get(api::quarantine))
        .route(
            "/api/plans/import",
            post(api::import_plan).layer(DefaultBodyLimit::max(api::MAX_IMPORT_BYTES)),
        )
        .route(
            "/api/plans/publish",
            post(api::publish_plan).layer(DefaultBodyLimit::max(api::MAX_IMPORT_BYTES)),
        )
        .route(
            "/api/blobs/{sha256}",
            put(blobs::put_blob)
                .get(blobs::get_blob)
                .layer(DefaultBodyLimit::max(blobs::MAX_BLOB_BYTES)),
        )
        .route("/api/blobs/{sha256}/status", get(blobs::blob_status))
        .route(
            "/api/{*rest}",
            any(|| async { ApiError::NotFound("no such API route".into()) }),
        )
        .route("/sync", get(sync_upgrade))
        // JSON requests are tiny; anything bigger is refused with 413 before it is read.
        .layer(DefaultBodyLimit::max(64 * 1024))
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        // A handler (a plan import, a blob write waiting on the disk) gets this long to answer;
        // bodies then stream on their own.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.listen_limits.request_timeout,
        ))
        .with_state(state)
}

/// The read buffer and the write batch of each sync socket.
const SOCKET_BUFFER: usize = 16 * 1024;

async fn sync_upgrade(
    State(st): State<AppState>,
    who: Principal,
    ClientAddr(addr): ClientAddr,
    ws: WebSocketUpgrade,
) -> Response {
    // Decided before the upgrade, so a refused client gets an HTTP answer it can read.
    let admission = match st.hub.admit(&who, addr) {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(peer = %who.peer_id, %addr, reason = %e, "sync connection refused");
            return ApiError::TooManyRequests { retry_after: 30 }.into_response();
        }
    };
    // Buffers of 16 KiB, not tungstenite's 128 KiB: before every read it zero-fills its read
    // buffer up to the capacity (`FrameCodec::read_in`), so each socket kept 128 KiB resident
    // (250 MiB for 2,000 phones) and every read cleared 128 KiB. A sync message is about 10 KB;
    // a larger one is read in more than one piece.
    ws.max_message_size(MAX_SYNC_FRAME)
        .max_frame_size(MAX_SYNC_FRAME)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_failed_upgrade(|e| tracing::warn!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| async move { st.hub.accept(socket, admission) })
}

/// Headers every answer carries: the CSP and its companions, and HSTS behind TLS. A blob keeps the
/// stricter sandbox policy its handler set.
async fn security_headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if st.config.https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Content-hashed build outputs (`app-1a2b3c4d.js`) never change: cache them for a year. Everything
/// else — index.html, sw.js, the manifest, the API — must be revalidated, or a phone could keep an old
/// shell (and an old service worker) forever. The one exception under /api: a blob read (content-
/// addressed, so immutable) keeps the `private` caching its handler set; its errors stay `no-store`,
/// so a 404 for a photo still uploading is not remembered.
async fn cache_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let hashed = is_hashed_asset(path);
    let api = path.starts_with("/api/");
    let blob = path.starts_with("/api/blobs/") && !path.ends_with("/status");
    let mut res = next.run(req).await;
    if blob && res.status().is_success() && res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let value = if hashed && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else if api {
        "no-store"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_assets() {
        assert!(super::is_hashed_asset("/app-1a2b3c4d.js"));
        assert!(super::is_hashed_asset("/app_bg-0123abcd.wasm"));
        assert!(!super::is_hashed_asset("/sw.js"));
        assert!(!super::is_hashed_asset("/index.html"));
        assert!(!super::is_hashed_asset("/icons/icon-192.png"));
    }
}
