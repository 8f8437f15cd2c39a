//! Router tests with `oneshot`: authentication, bad input, and the overview's access rule.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use server::app;
use tower::ServiceExt;

async fn send(
    router: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, json)
}

fn login_req(body: &str) -> Request<Body> {
    Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn authentication_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let router = app(srv.state.clone());

    let (s, _, body) = send(&router, get("/healthz", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.as_str().unwrap().starts_with("ok\n"), "{body}");

    // No token, a wrong token, on the API and on the sync upgrade.
    for path in [
        "/api/docs",
        "/api/durable-heads",
        "/api/overview",
        "/api/me",
        "/sync",
    ] {
        let (s, _, body) = send(&router, get(path, None)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            body["error"].as_str().unwrap().contains("login"),
            "{path}: {body}"
        );
        let (s, _, _) = send(&router, get(path, Some("deadbeef"))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }

    // Malformed and wrongly typed JSON: 4xx with a message.
    let (s, _, body) = send(&router, login_req("{not json")).await;
    assert!(s.is_client_error());
    assert!(!body["error"].as_str().unwrap().is_empty());
    let (s, _, body) = send(&router, login_req(r#"{"username": 1, "password": []}"#)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("username"));
    let (s, _, _) = send(
        &router,
        login_req(r#"{"username": "kadon", "password": "wrong"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let huge = format!(
        r#"{{"username": "kadon", "password": "{}"}}"#,
        "x".repeat(100_000)
    );
    let (s, _, _) = send(&router, login_req(&huge)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    // A good login gives a bearer token and an HttpOnly cookie; both work.
    let (s, headers, body) = send(
        &router,
        login_req(r#"{"username": "kadon", "password": "danvan-demo"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert!(body["peer_id"].as_str().unwrap().starts_with("dv-u"));
    let cookie = headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let (s, _, docs) = send(&router, get("/api/docs", Some(&token))).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = docs["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"plan") && kinds.contains(&"notes") && kinds.contains(&"org"));
    assert!(
        docs["docs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["scope"].as_str().unwrap() != "xa-lac-xuan")
    );
    let cookie_pair = cookie.split(';').next().unwrap();
    let req = Request::get("/api/me")
        .header(header::COOKIE, cookie_pair)
        .body(Body::empty())
        .unwrap();
    let (s, _, me) = send(&router, req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["user"]["commune_id"], "xa-ka-don");

    // Members may not see the aggregated overview; the aggregating level may.
    let (s, _, _) = send(&router, get("/api/overview", Some(&token))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, _, v) = send(
        &router,
        login_req(r#"{"username": "huyen", "password": "danvan-demo"}"#),
    )
    .await;
    let (s, _, overview) = send(
        &router,
        get("/api/overview", Some(v["token"].as_str().unwrap())),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        overview["communes"].as_array().unwrap().len(),
        8,
        "the demo district has eight communes"
    );

    // A token expired beyond its renewal grace is refused with its own message; a logged-out
    // token is refused.
    let user = srv.state.db.user_by_name("kadon").unwrap().unwrap();
    let now = server::clock::now_ms();
    srv.state
        .db
        .insert_token(
            user.id,
            &server::auth::token_hash("old-token"),
            "dv-old",
            now - server::auth::TOKEN_LIFETIME_MS - server::auth::RENEW_GRACE_MS,
            now - server::auth::RENEW_GRACE_MS - 1,
        )
        .unwrap();
    let (s, _, body) = send(&router, get("/api/docs", Some("old-token"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("expired"));
    let req = Request::post("/api/logout")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&router, req).await.0, StatusCode::OK);
    assert_eq!(
        send(&router, get("/api/docs", Some(&token))).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Unknown API routes answer JSON, not the app shell.
    let (s, _, body) = send(&router, get("/api/nope", None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
    srv.stop().await;
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let router = app(srv.state.clone());
    for _ in 0..10 {
        let (s, _, _) = send(
            &router,
            login_req(r#"{"username": "lacxuan", "password": "guess"}"#),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, headers, body) = send(
        &router,
        login_req(r#"{"username": "lacxuan", "password": "guess"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait), "Retry-After {wait}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains(&format!("thử lại sau {wait} giây")),
        "{message}"
    );
    // From the same place even the right password waits until the window passes (another place
    // is not affected: see the socket test of the login flood).
    let (s, _, _) = send(
        &router,
        login_req(r#"{"username": "lacxuan", "password": "danvan-demo"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    srv.stop().await;
}

#[tokio::test]
async fn static_files_are_served_with_the_right_caching() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let dist = dir.path().join("no-dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(dist.join("app-0123abcd.js"), "x").unwrap();
    std::fs::write(dist.join("app-0123abcd.js.br"), "compressed").unwrap();
    std::fs::write(dist.join("sw.js"), "// sw").unwrap();
    let router = app(srv.state.clone());
    let (s, h, _) = send(&router, get("/", None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CACHE_CONTROL], "no-cache");
    let (_, h, _) = send(&router, get("/sw.js", None)).await;
    assert_eq!(h[header::CACHE_CONTROL], "no-cache");
    let req = Request::get("/app-0123abcd.js")
        .header(header::ACCEPT_ENCODING, "br")
        .body(Body::empty())
        .unwrap();
    let (s, h, body) = send(&router, req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_ENCODING], "br");
    assert_eq!(body, serde_json::json!("compressed"));
    assert!(
        h[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    srv.stop().await;
}

#[tokio::test]
async fn plan_import_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let router = app(srv.state.clone());
    let token = |user: &'static str| {
        let router = router.clone();
        async move {
            let body = format!(r#"{{"username": "{user}", "password": "danvan-demo"}}"#);
            send(&router, login_req(&body)).await.2["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let editor = token("bientap").await;
    let member = token("kadon").await;
    let post = |t: &str, ct: &str, body: Vec<u8>| {
        Request::post("/api/plans/import")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    let sample = include_bytes!("../../fixtures/ke-hoach-chi-thi-18-2022.txt").to_vec();
    let (s, _, draft) = send(
        &router,
        post(&editor, "text/plain; charset=utf-8", sample.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(draft["sections"].as_array().unwrap().len(), 3);
    assert_eq!(draft["basis"][0]["code"], "18-CT/TU");
    let (s, _, _) = send(&router, post(&member, "text/plain", sample)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, body) = send(
        &router,
        post(
            &editor,
            "application/octet-stream",
            b"PK\x03\x04broken".to_vec(),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("docx"), "{body}");
    let (s, _, _) = send(&router, post(&editor, "text/plain", vec![0xff, 0xfe, 0x00])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = send(
        &router,
        post(
            &editor,
            "text/plain",
            vec![b'a'; server::api::MAX_IMPORT_BYTES + 1],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    srv.stop().await;
}

#[tokio::test]
async fn every_page_carries_the_security_headers_and_cookies_need_our_origin() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start_with(dir.path(), 0, |c| {
        c.public_url = Some("https://danvan.example.vn".parse().unwrap());
    })
    .await;
    let dist = dir.path().join("no-dist");
    std::fs::create_dir_all(dist.join("office")).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(dist.join("office/index.html"), "<!doctype html>").unwrap();
    std::fs::write(dist.join("sw.js"), "// sw").unwrap();
    let router = app(srv.state.clone());
    for path in [
        "/",
        "/office/",
        "/sw.js",
        "/api/me",
        "/api/nope",
        "/healthz",
    ] {
        let (_, h, _) = send(&router, get(path, None)).await;
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert!(h.contains_key(header::STRICT_TRANSPORT_SECURITY), "{path}");
    }
    // Behind TLS the login cookie is Secure.
    let res = router
        .clone()
        .oneshot(login_req(
            r#"{"username": "kadon", "password": "danvan-demo"}"#,
        ))
        .await
        .unwrap();
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let token = cookie.split(';').next().unwrap().to_string();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let bearer = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    // A token in the URL is refused outside the sync upgrade.
    let (s, _, _) = send(&router, get(&format!("/api/docs?token={bearer}"), None)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A cookie-authenticated change from another origin (or none) is refused; from ours it works.
    let logout = |origin: Option<&str>| {
        let mut r = Request::post("/api/logout").header(header::COOKIE, token.clone());
        if let Some(o) = origin {
            r = r.header(header::ORIGIN, o);
        }
        r.body(Body::empty()).unwrap()
    };
    assert_eq!(
        send(&router, logout(Some("https://evil.example"))).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(send(&router, logout(None)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&router, logout(Some("https://danvan.example.vn")))
            .await
            .0,
        StatusCode::OK
    );
    srv.stop().await;
}
