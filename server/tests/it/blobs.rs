//! The photo blob store through the router (`oneshot`): whole and chunked uploads, resuming at the
//! right offset, hash checks, limits, and a partial upload that outlives a restart.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use server::app;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

pub(crate) struct Res {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) bytes: Vec<u8>,
}

impl Res {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).unwrap_or(serde_json::Value::Null)
    }
}

pub(crate) async fn send(router: &axum::Router, req: Request<Body>) -> Res {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Res {
        status,
        headers,
        bytes,
    }
}

pub(crate) async fn login(router: &axum::Router, user: &str) -> String {
    let req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            r#"{{"username": "{user}", "password": "danvan-demo"}}"#
        )))
        .unwrap();
    let res = send(router, req).await;
    assert_eq!(res.status, StatusCode::OK);
    res.json()["token"].as_str().unwrap().to_string()
}

/// A demo server on `dir`, its router, and the member kadon's token: how most tests here begin.
async fn kadon_server(dir: &std::path::Path) -> (crate::common::TestServer, axum::Router, String) {
    let srv = crate::common::TestServer::start(dir, 0).await;
    let router = app(srv.state.clone());
    let token = login(&router, "kadon").await;
    (srv, router, token)
}

pub(crate) fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A fake photo: JPEG magic, then bytes that differ per `seed`.
pub(crate) fn photo(len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..len - 4).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

pub(crate) fn put(
    token: &str,
    hash: &str,
    body: &[u8],
    range: Option<(usize, usize, usize)>,
) -> Request<Body> {
    let mut r = Request::put(format!("/api/blobs/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream");
    if let Some((start, end, total)) = range {
        r = r.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{total}"),
        );
    }
    r.body(Body::from(body.to_vec())).unwrap()
}

/// `data[start..end]` as a chunk (END in the header is inclusive).
pub(crate) fn chunk(token: &str, data: &[u8], start: usize, end: usize) -> Request<Body> {
    put(
        token,
        &sha(data),
        &data[start..end],
        Some((start, end - 1, data.len())),
    )
}

pub(crate) fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

pub(crate) async fn status(router: &axum::Router, token: &str, hash: &str) -> serde_json::Value {
    let res = send(
        router,
        get(&format!("/api/blobs/{hash}/status"), Some(token)),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    res.json()
}

#[tokio::test]
async fn whole_upload_is_idempotent_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let data = photo(300_000, 1);
    let hash = sha(&data);

    let st = status(&router, &token, &hash).await;
    assert_eq!(
        st,
        serde_json::json!({"sha256": hash, "complete": false, "offset": 0})
    );
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.headers[header::CACHE_CONTROL], "no-store");

    let res = send(&router, put(&token, &hash, &data, None)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json());
    assert_eq!(
        res.json(),
        serde_json::json!({"sha256": hash, "size": 300_000, "complete": true})
    );
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!((stats.blobs, stats.blob_bytes), (1, 300_000));

    // Again, whole or as a chunk: 200, nothing stored twice.
    let res = send(&router, put(&token, &hash, &data, None)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["complete"], true);
    let res = send(&router, chunk(&token, &data, 0, 1000)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["size"], 300_000);
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!(
        (stats.blobs, stats.blob_bytes, stats.uploads),
        (1, 300_000, 0)
    );
    assert_eq!(
        status(&router, &token, &hash).await,
        serde_json::json!({"sha256": hash, "complete": true, "offset": 300_000, "total": 300_000})
    );

    // Read back: same bytes, JPEG, cacheable by this browser only.
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.bytes, data);
    assert_eq!(res.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(
        res.headers[header::CACHE_CONTROL],
        "private, max-age=31536000, immutable"
    );
    assert_eq!(res.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // HEAD: the headers without the body.
    let req = Request::head(format!("/api/blobs/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = send(&router, req).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.bytes.is_empty());
    assert_eq!(res.headers[header::CONTENT_LENGTH], "300000");
    assert_eq!(res.headers[header::CONTENT_TYPE], "image/jpeg");

    // Another user may not read it until a document they may read references it (see the
    // socket tests): until then it is missing for them, status included.
    let other = login(&router, "huyen").await;
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&other))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        status(&router, &other, &hash).await,
        serde_json::json!({"sha256": hash, "complete": false, "offset": 0})
    );
    // Something that is not a JPEG is served to its uploader as opaque bytes.
    let page = b"<html><script>alert(1)</script></html>".to_vec();
    let res = send(&router, put(&other, &sha(&page), &page, None)).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let res = send(
        &router,
        get(&format!("/api/blobs/{}", sha(&page)), Some(&other)),
    )
    .await;
    assert_eq!(
        res.headers[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn chunked_upload_resumes_at_the_right_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let data = photo(250_000, 2);
    let hash = sha(&data);
    let cuts = [0, 100_000, 200_000, 250_000];

    let res = send(&router, chunk(&token, &data, cuts[0], cuts[1])).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{:?}", res.json());
    assert_eq!(
        res.json(),
        serde_json::json!({"sha256": hash, "offset": 100_000, "total": 250_000, "complete": false})
    );
    assert_eq!(
        status(&router, &token, &hash).await,
        serde_json::json!({"sha256": hash, "complete": false, "offset": 100_000, "total": 250_000})
    );

    // Skipping ahead: 409 with where to resume.
    let res = send(&router, chunk(&token, &data, cuts[2], cuts[3])).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(res.json()["offset"], 100_000);
    assert!(res.json()["error"].as_str().unwrap().contains("100000"));

    // A different total than the upload started with: 400.
    let res = send(
        &router,
        put(
            &token,
            &hash,
            &data[100_000..110_000],
            Some((100_000, 109_999, 260_000)),
        ),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    let res = send(&router, chunk(&token, &data, cuts[1], cuts[2])).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert_eq!(res.json()["offset"], 200_000);
    // The same chunk again (its answer was lost): accepted, nothing added.
    let res = send(&router, chunk(&token, &data, cuts[1], cuts[2])).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert_eq!(res.json()["offset"], 200_000);
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!((stats.uploads, stats.upload_bytes), (1, 200_000));
    assert_eq!(status(&router, &token, &hash).await["offset"], 200_000);

    // Overlapping the held bytes: the overlap is skipped and the rest completes the blob.
    let res = send(&router, chunk(&token, &data, 150_000, cuts[3])).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json());
    assert_eq!(
        res.json(),
        serde_json::json!({"sha256": hash, "size": 250_000, "complete": true})
    );
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!(
        (
            stats.blobs,
            stats.uploads,
            stats.upload_parts,
            stats.upload_bytes
        ),
        (1, 0, 0, 0)
    );
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.bytes == data, "bytes differ");
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn hash_mismatch_discards_the_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let data = photo(50_000, 3);
    let hash = sha(&data);
    let mut corrupt = data.clone();
    corrupt[40_000] ^= 1;

    // Whole: 422, nothing stored.
    let res = send(&router, put(&token, &hash, &corrupt, None)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.json()["error"]
            .as_str()
            .unwrap()
            .contains("hash mismatch")
    );

    // Chunked: the last chunk brings the bad byte; the partial upload is dropped.
    let res = send(
        &router,
        put(&token, &hash, &corrupt[..30_000], Some((0, 29_999, 50_000))),
    )
    .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert_eq!(status(&router, &token, &hash).await["offset"], 30_000);
    let res = send(
        &router,
        put(
            &token,
            &hash,
            &corrupt[30_000..],
            Some((30_000, 49_999, 50_000)),
        ),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        status(&router, &token, &hash).await,
        serde_json::json!({"sha256": hash, "complete": false, "offset": 0})
    );
    assert_eq!(
        srv.state.db.blob_stats().unwrap(),
        server::db::BlobStats::default()
    );

    // The right bytes then go through.
    let res = send(&router, put(&token, &hash, &data, None)).await;
    assert_eq!(res.status, StatusCode::CREATED);
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let data = photo(1_000, 4);
    let hash = sha(&data);

    // Not a SHA-256 name: 400 JSON, on every route.
    for bad in [
        "abc".to_string(),
        hash.to_uppercase(),
        format!("{}z", &hash[..63]),
        format!("{hash}0"),
    ] {
        let res = send(&router, put(&token, &bad, &data, None)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(res.json()["error"].as_str().unwrap().contains("SHA-256"));
        let res = send(&router, get(&format!("/api/blobs/{bad}"), Some(&token))).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        let res = send(
            &router,
            get(&format!("/api/blobs/{bad}/status"), Some(&token)),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // No token or a wrong one: 401 everywhere.
    for t in [None, Some("deadbeef")] {
        let mut r = Request::put(format!("/api/blobs/{hash}"));
        if let Some(t) = t {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let res = send(&router, r.body(Body::from(data.clone())).unwrap()).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        for path in [
            format!("/api/blobs/{hash}"),
            format!("/api/blobs/{hash}/status"),
        ] {
            let res = send(&router, get(&path, t)).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}");
            assert!(res.json()["error"].is_string());
        }
    }

    // Malformed ranges and an empty body: 400.
    for (range, body) in [
        ("bytes 0-9/1000", &data[..5]),
        ("bytes 0-1000/1000", &data[..]),
        ("bytes 10-0/1000", &data[..10]),
        ("0-9/1000", &data[..10]),
        ("bytes 0-9/", &data[..10]),
    ] {
        let req = Request::put(format!("/api/blobs/{hash}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_RANGE, range)
            .body(Body::from(body.to_vec()))
            .unwrap();
        let res = send(&router, req).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{range}");
    }
    let res = send(&router, put(&token, &sha(b""), b"", None)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // Over 5 MiB, as a body or as a declared total: 413 JSON. Exactly 5 MiB is fine.
    let max = server::blobs::MAX_BLOB_BYTES;
    let big = photo(max + 1, 5);
    let res = send(&router, put(&token, &sha(&big), &big, None)).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.json()["error"].as_str().unwrap().contains("at most"));
    let res = send(
        &router,
        put(&token, &sha(&big), &big[..1000], Some((0, 999, max + 1))),
    )
    .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.json()["error"].is_string());
    let res = send(&router, put(&token, &sha(&big[..max]), &big[..max], None)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json());
    assert_eq!(srv.state.db.blob_stats().unwrap().blob_bytes, max as i64);
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn partial_upload_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = photo(120_000, 6);
    let hash = sha(&data);

    let (srv, router, token) = kadon_server(dir.path()).await;
    let res = send(&router, chunk(&token, &data, 0, 70_000)).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    drop(router);
    srv.stop().await;

    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let router = app(srv.state.clone());
    // The device's token is stored too: the phone resumes without logging in again.
    assert_eq!(
        status(&router, &token, &hash).await,
        serde_json::json!({"sha256": hash, "complete": false, "offset": 70_000, "total": 120_000})
    );
    let res = send(&router, chunk(&token, &data, 70_000, 120_000)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json());
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert!(res.status == StatusCode::OK && res.bytes == data);
    drop(router);
    srv.stop().await;
}

/// Where the local photo store keeps a blob (the data folder's `blobs/`, two characters of fan-out).
fn stored_file(data_dir: &std::path::Path, hash: &str) -> std::path::PathBuf {
    data_dir.join("blobs").join(&hash[..2]).join(hash)
}

#[tokio::test]
async fn photo_bytes_go_to_the_photo_store_and_only_their_record_to_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let (whole, chunked) = (photo(90_000, 7), photo(150_000, 8));

    let res = send(&router, put(&token, &sha(&whole), &whole, None)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json());
    for (start, end) in [(0, 60_000), (60_000, 150_000)] {
        send(&router, chunk(&token, &chunked, start, end)).await;
    }
    for data in [&whole, &chunked] {
        let hash = sha(data);
        assert_eq!(
            std::fs::read(stored_file(dir.path(), &hash)).unwrap(),
            *data
        );
        let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
        assert!(res.status == StatusCode::OK && res.bytes == *data);
        let req = Request::head(format!("/api/blobs/{hash}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = send(&router, req).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(res.headers[header::CONTENT_LENGTH], data.len().to_string());
    }
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!(
        (
            stats.blobs,
            stats.blob_bytes,
            stats.inline_bytes,
            stats.uploads
        ),
        (2, 240_000, 0, 0)
    );
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn a_failing_photo_store_answers_503_and_the_retry_stores_the_whole_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let data = photo(100_000, 9);
    let hash = sha(&data);
    // A file where the store needs a directory: every write of this blob fails, as on a full or
    // broken disk.
    let blocker = dir.path().join("blobs").join(&hash[..2]);
    std::fs::write(&blocker, b"not a directory").unwrap();

    let res = send(&router, put(&token, &hash, &data, None)).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers[header::RETRY_AFTER], "30");
    assert!(res.json()["error"].as_str().unwrap().contains("kho ảnh"));
    assert_eq!(srv.state.db.blob_stats().unwrap().blobs, 0);

    let res = send(&router, chunk(&token, &data, 0, 40_000)).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    let res = send(&router, chunk(&token, &data, 40_000, 100_000)).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    // Nothing the phone sent is lost: the server holds it all, not yet complete.
    assert_eq!(
        status(&router, &token, &hash).await,
        serde_json::json!({"sha256": hash, "complete": false, "offset": 100_000, "total": 100_000})
    );
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // The store works again; the phone resends its last chunk, as after any failed answer.
    std::fs::remove_file(&blocker).unwrap();
    let res = send(&router, chunk(&token, &data, 40_000, 100_000)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json());
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert!(res.status == StatusCode::OK && res.bytes == data);
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!((stats.blobs, stats.uploads, stats.upload_bytes), (1, 0, 0));
    // Counted for the operator; text sync does not depend on photos, so the node stays healthy.
    let res = send(&router, get("/healthz", None)).await;
    assert_eq!(res.status, StatusCode::OK);
    let health = String::from_utf8(res.bytes).unwrap();
    assert!(health.contains("photo_store_errors 2"), "{health}");
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn photos_damaged_or_lost_in_the_store_are_an_error_not_a_photo() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let data = photo(20_000, 10);
    let hash = sha(&data);
    send(&router, put(&token, &hash, &data, None)).await;
    // Damaged on disk: never sent under its name (it would be cached as immutable).
    let mut bad = data.clone();
    bad[500] ^= 1;
    std::fs::write(stored_file(dir.path(), &hash), &bad).unwrap();
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers[header::CACHE_CONTROL], "no-store");
    // Gone from the store.
    std::fs::remove_file(stored_file(dir.path(), &hash)).unwrap();
    let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(&token))).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn photos_inside_an_older_database_are_served_and_migrated_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let kadon = srv.state.db.user_by_name("kadon").unwrap().unwrap().id;
    let (old, damaged) = (photo(80_000, 11), photo(30_000, 12));
    let damaged_hash = sha(&photo(30_000, 13));
    // Rows as servers before the photo store wrote them: the bytes inside the database.
    {
        let db = rusqlite::Connection::open(server::db::path_in(dir.path())).unwrap();
        for (hash, data) in [(sha(&old), &old), (damaged_hash.clone(), &damaged)] {
            db.execute(
                "INSERT INTO blobs(sha256, size, data, created_at) VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![hash, data.len() as i64, data],
            )
            .unwrap();
            db.execute(
                "INSERT INTO blob_owners(sha256, user_id) VALUES (?1, ?2)",
                rusqlite::params![hash, kadon],
            )
            .unwrap();
        }
    }
    let path = format!("/api/blobs/{}", sha(&old));
    let res = send(&router, get(&path, Some(&token))).await;
    assert!(res.status == StatusCode::OK && res.bytes == old);

    // The migration command's code, on its own connection, as the server keeps serving.
    let db = std::sync::Arc::new(server::db::Db::open(&server::db::path_in(dir.path())).unwrap());
    let store =
        server::blob_store::BlobStore::open(&server::blob_store::default_dir(dir.path())).unwrap();
    let moved = server::blob_store::migrate(&db, &store).await.unwrap();
    assert_eq!(
        moved,
        server::blob_store::Migrated {
            blobs: 1,
            bytes: 80_000,
            damaged: 1
        }
    );
    assert_eq!(
        std::fs::read(stored_file(dir.path(), &sha(&old))).unwrap(),
        old
    );
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!((stats.blobs, stats.inline_bytes), (2, 30_000));
    let res = send(&router, get(&path, Some(&token))).await;
    assert!(res.status == StatusCode::OK && res.bytes == old);
    // Run again (as after an interruption): nothing more to move, the damaged one still kept.
    let again = server::blob_store::migrate(&db, &store).await.unwrap();
    assert_eq!((again.blobs, again.damaged), (0, 1));
    drop(router);
    srv.stop().await;
    // The command says the same, and fails while a damaged photo is left.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["blobs", "migrate"])
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("0 photos (0.0 MB) moved"), "{said}");
    assert!(said.contains("1 photos do not match their hash"), "{said}");
}

#[tokio::test]
async fn two_phones_completing_the_same_photo_at_once_store_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let router = app(srv.state.clone());
    let (a, b) = (
        login(&router, "kadon").await,
        login(&router, "kadon2").await,
    );
    let data = photo(200_000, 14);
    let hash = sha(&data);
    // Both hold all but the last chunk; both send it at the same moment.
    for t in [&a, &b] {
        let res = send(&router, chunk(t, &data, 0, 150_000)).await;
        assert_eq!(res.status, StatusCode::ACCEPTED);
    }
    let (ra, rb) = tokio::join!(
        send(&router, chunk(&a, &data, 150_000, 200_000)),
        send(&router, chunk(&b, &data, 150_000, 200_000)),
    );
    assert_eq!(
        (ra.status, rb.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    let stats = srv.state.db.blob_stats().unwrap();
    assert_eq!(
        (stats.blobs, stats.blob_bytes, stats.uploads),
        (1, 200_000, 0)
    );
    assert_eq!(std::fs::read(stored_file(dir.path(), &hash)).unwrap(), data);
    // Each uploaded it, so each may read it.
    for t in [&a, &b] {
        let res = send(&router, get(&format!("/api/blobs/{hash}"), Some(t))).await;
        assert!(res.status == StatusCode::OK && res.bytes == data);
    }
    drop(router);
    srv.stop().await;
}

#[tokio::test]
async fn the_photo_store_copies_to_another_store_checked_and_only_what_is_missing() {
    use server::blob_store::{BlobStore, BlobsAt, Copied, copy_all, default_dir};
    let dir = tempfile::tempdir().unwrap();
    let (srv, router, token) = kadon_server(dir.path()).await;
    let photos: Vec<Vec<u8>> = (0..3)
        .map(|i| photo(50_000 + i * 1000, 20 + i as u8))
        .collect();
    for p in &photos[..2] {
        send(&router, put(&token, &sha(p), p, None)).await;
    }
    let target_dir = tempfile::tempdir().unwrap();
    let target = BlobsAt::Dir(target_dir.path().join("bucket"));
    let (from, to) = (
        BlobStore::open(&default_dir(dir.path())).unwrap(),
        BlobStore::open(&target).unwrap(),
    );
    let copied = copy_all(&from, &to).await.unwrap();
    assert_eq!(
        copied,
        Copied {
            blobs: 2,
            bytes: 101_000,
            present: 0,
            damaged: 0
        }
    );
    for p in &photos[..2] {
        let there = std::fs::read(
            target_dir
                .path()
                .join("bucket")
                .join(&sha(p)[..2])
                .join(sha(p)),
        );
        assert_eq!(there.unwrap(), *p);
    }
    // A third photo arrives meanwhile, and its file is damaged on disk: not copied, and said.
    let third = &photos[2];
    send(&router, put(&token, &sha(third), third, None)).await;
    let mut bad = third.clone();
    bad[1000] ^= 0xFF;
    std::fs::write(stored_file(dir.path(), &sha(third)), &bad).unwrap();
    let again = copy_all(&from, &to).await.unwrap();
    assert_eq!((again.blobs, again.present, again.damaged), (0, 2, 1));
    drop(router);
    srv.stop().await;

    // The command: the same, from the data folder's store.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["blobs", "copy", "--to"])
        .arg(target_dir.path().join("bucket"))
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a damaged photo fails the command: {said}"
    );
    assert!(said.contains("2 were there already"), "{said}");
    assert!(said.contains("1 photos do not match"), "{said}");
}
