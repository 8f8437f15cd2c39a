//! Administration: users, devices and the audit log, against a real server on 127.0.0.1 with a real
//! SQLite file.

use crate::common::*;
use shared::DocKey;
use shared::api::{AdminUser, AdminUsers, AuditLog, OneTimePassword};
use std::time::{Duration, Instant};

async fn post(
    srv: &TestServer,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = HTTP
        .post(format!("{}{path}", srv.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

async fn login_with(srv: &TestServer, user: &str, password: &str) -> (u16, serde_json::Value) {
    let r = HTTP
        .post(format!("{}/api/login", srv.url()))
        .header("user-agent", "Mozilla/5.0 (Linux; Android 10) test phone")
        .header("x-danvan-version", "test-1")
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_member_who_logs_in_then_revokes_the_phone() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let admin = login(&srv.url(), "admin").await;

    // A member of the Farmers' Union in Xã Ka Đơn, with a one-time password shown once.
    let (s, body) = post(
        &srv,
        &admin.token,
        "/api/admin/users",
        serde_json::json!({"username": "nongdan.kadon", "display_name": "Hội Nông dân xã Ka Đơn",
            "role": "member", "node_id": "xa-ka-don", "unit": "hoi-nong-dan"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let created: OneTimePassword = serde_json::from_value(body).unwrap();
    assert_eq!(created.user.unit.as_deref(), Some("hoi-nong-dan"));
    assert_eq!(created.password.len(), 12);
    // Taken, bad unit, unknown node: refused with a reason.
    for (body, want) in [
        (
            serde_json::json!({"username": "nongdan.kadon", "display_name": "x", "role": "member", "node_id": "xa-ka-don"}),
            409,
        ),
        (
            serde_json::json!({"username": "x2", "display_name": "x", "role": "member", "node_id": "xa-ka-don", "unit": "hoi-xyz"}),
            400,
        ),
        (
            serde_json::json!({"username": "x3", "display_name": "x", "role": "member", "node_id": "nowhere"}),
            400,
        ),
        (
            serde_json::json!({"username": "Bad Name", "display_name": "x", "role": "member", "node_id": "xa-ka-don"}),
            400,
        ),
        (serde_json::json!({"username": 5}), 400),
    ] {
        let (s, e) = post(&srv, &admin.token, "/api/admin/users", body).await;
        assert_eq!(s, want, "{e}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }

    // The member logs in on a phone and syncs.
    let (s, body) = login_with(&srv, "nongdan.kadon", &created.password).await;
    assert_eq!(s, 200, "{body}");
    let member = Login {
        token: body["token"].as_str().unwrap().into(),
        peer_id: body["peer_id"].as_str().unwrap().into(),
    };
    let mut phone = Device::connect(srv.addr, &member).await;
    phone.track(&DocKey::org(), false).await;
    phone.pump(Duration::from_millis(200)).await;
    let (s, _) = get::<serde_json::Value>(&srv, &member.token, "/api/docs").await;
    assert_eq!(s, 200);

    // The admin sees the device: what it said at login, where from.
    let (_, users) = get::<AdminUsers>(&srv, &admin.token, "/api/admin/users").await;
    let user = users
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.username == "nongdan.kadon")
        .unwrap();
    assert_eq!(user.devices.len(), 1);
    let device = &user.devices[0];
    assert_eq!(device.peer_id, member.peer_id);
    assert!(device.user_agent.contains("Android"), "{device:?}");
    assert_eq!(device.app_version, "test-1");
    assert_eq!(device.last_addr, "127.0.0.1");
    assert!(device.last_seen.is_some());

    // Revoked: the socket closes within a second, the next call gets 401.
    let start = Instant::now();
    let (s, body) = post(
        &srv,
        &admin.token,
        &format!("/api/admin/devices/{}/revoke", device.token_id),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let after: AdminUser = serde_json::from_value(body).unwrap();
    assert!(after.devices.is_empty());
    closed_within_a_second(&mut phone, start).await;
    let (s, _) = get::<serde_json::Value>(&srv, &member.token, "/api/docs").await;
    assert_eq!(s, 401);

    // Disabled: no login at all; enabled again with a reset password, the old one is gone.
    let (s, _) = post(
        &srv,
        &admin.token,
        &format!("/api/admin/users/{}", user.id),
        serde_json::json!({"disabled": true}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, e) = login_with(&srv, "nongdan.kadon", &created.password).await;
    assert_eq!(s, 403, "{e}");
    let (s, _) = post(
        &srv,
        &admin.token,
        &format!("/api/admin/users/{}", user.id),
        serde_json::json!({"disabled": false}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = post(
        &srv,
        &admin.token,
        &format!("/api/admin/users/{}/password", user.id),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let reset: OneTimePassword = serde_json::from_value(body).unwrap();
    assert_ne!(reset.password, created.password);
    assert_eq!(
        login_with(&srv, "nongdan.kadon", &created.password).await.0,
        401
    );
    assert_eq!(
        login_with(&srv, "nongdan.kadon", &reset.password).await.0,
        200
    );

    // The audit log: who did what, never a password.
    let (s, log) = get::<AuditLog>(&srv, &admin.token, "/api/admin/audit").await;
    assert_eq!(s, 200);
    let log = log.unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
    for want in [
        "user-created",
        "login",
        "device-revoked",
        "user-changed",
        "login-refused",
        "password-reset",
        "login-failed",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&created.password) && !text.contains(&reset.password));
    let (_, only) =
        get::<AuditLog>(&srv, &admin.token, "/api/admin/audit?action=device-revoked").await;
    let only = only.unwrap();
    assert_eq!(only.total, 1);
    assert_eq!(only.entries[0].target, "nongdan.kadon");
    assert_eq!(only.entries[0].actor, "admin");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_administer_and_only_their_branch() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    // Non-admins: refused everywhere.
    for user in ["kadon", "huyen"] {
        let l = login(&srv.url(), user).await;
        assert_eq!(
            get::<serde_json::Value>(&srv, &l.token, "/api/admin/users")
                .await
                .0,
            403
        );
        assert_eq!(
            get::<serde_json::Value>(&srv, &l.token, "/api/admin/audit")
                .await
                .0,
            403
        );
        let (s, _) = post(&srv, &l.token, "/api/admin/users", serde_json::json!({"username": "zz", "display_name": "z", "role": "admin", "node_id": "huyen-demo"})).await;
        assert_eq!(s, 403);
    }
    // An administrator of one commune sees and manages only that commune's people.
    let hash = server::auth::hash_password("danvan-demo");
    srv.state
        .db
        .create_user(
            "qtkadon",
            "Quản trị Ka Đơn",
            &hash,
            &shared::vocab::Role::Admin,
            "xa-ka-don",
        )
        .unwrap();
    let local = login(&srv.url(), "qtkadon").await;
    let (_, users) = get::<AdminUsers>(&srv, &local.token, "/api/admin/users").await;
    let names: Vec<String> = users
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert!(
        names.contains(&"kadon".to_string()) && names.contains(&"qtkadon".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"huyen".to_string()) && !names.contains(&"admin".to_string()),
        "{names:?}"
    );
    let (s, _) = post(&srv, &local.token, "/api/admin/users", serde_json::json!({"username": "zz", "display_name": "z", "role": "viewer", "node_id": "huyen-demo"})).await;
    assert_eq!(s, 403, "a node above their own");
    let huyen = srv.state.db.user_by_name("huyen").unwrap().unwrap();
    let (s, _) = post(
        &srv,
        &local.token,
        &format!("/api/admin/users/{}/password", huyen.id),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(s, 403, "a user above their own node");
    // Nobody locks themselves out.
    let me = srv.state.db.user_by_name("qtkadon").unwrap().unwrap();
    let (s, _) = post(
        &srv,
        &local.token,
        &format!("/api/admin/users/{}", me.id),
        serde_json::json!({"disabled": true}),
    )
    .await;
    assert_eq!(s, 400);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_ones_password_signs_out_the_other_devices() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let here = login(&srv.url(), "kadon").await;
    let (other, mut other_phone) = logged_in_device(&srv, "kadon").await;
    other_phone.track(&DocKey::org(), false).await;
    other_phone.pump(Duration::from_millis(200)).await;
    let (s, e) = post(
        &srv,
        &here.token,
        "/api/password",
        serde_json::json!({"old": "wrong", "new": "mật khẩu mới 2026"}),
    )
    .await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = post(
        &srv,
        &here.token,
        "/api/password",
        serde_json::json!({"old": "danvan-demo", "new": "short"}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = post(
        &srv,
        &here.token,
        "/api/password",
        serde_json::json!({"old": "danvan-demo", "new": "mật khẩu mới 2026"}),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    assert!(
        !other_phone
            .pump_until(|_| false, Duration::from_secs(2))
            .await,
        "the other phone's socket closes"
    );
    assert_eq!(
        get::<serde_json::Value>(&srv, &other.token, "/api/docs")
            .await
            .0,
        401
    );
    assert_eq!(
        get::<serde_json::Value>(&srv, &here.token, "/api/docs")
            .await
            .0,
        200,
        "this device stays"
    );
    assert_eq!(login_with(&srv, "kadon", "danvan-demo").await.0, 401);
    assert_eq!(login_with(&srv, "kadon", "mật khẩu mới 2026").await.0, 200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_renew_with_use_and_after_months_offline_but_not_when_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let (near, offline, abandoned, revoked) = (
        login(&srv.url(), "kadon").await,
        login(&srv.url(), "kadon").await,
        login(&srv.url(), "kadon").await,
        login(&srv.url(), "kadon").await,
    );
    // The devices' ends, set in the real database file as time would have moved them.
    let db = rusqlite::Connection::open(dir.path().join("danvan.sqlite3")).unwrap();
    let day = 24 * 3600 * 1000;
    let now = server::clock::now_ms();
    let set = |peer: &str, end: i64| {
        db.execute(
            "UPDATE tokens SET expires_at = ?2 WHERE peer_id = ?1",
            rusqlite::params![peer, end],
        )
        .unwrap();
    };
    let end = |peer: &str| -> i64 {
        db.query_row(
            "SELECT expires_at FROM tokens WHERE peer_id = ?1",
            [peer],
            |r| r.get(0),
        )
        .unwrap()
    };
    set(&near.peer_id, now + day);
    set(&offline.peer_id, now - 30 * day);
    set(&abandoned.peer_id, now - 200 * day);
    set(&revoked.peer_id, now - 30 * day);
    let admin = login(&srv.url(), "admin").await;
    let token_id: i64 = db
        .query_row(
            "SELECT id FROM tokens WHERE peer_id = ?1",
            [&revoked.peer_id],
            |r| r.get(0),
        )
        .unwrap();
    let (s, _) = post(
        &srv,
        &admin.token,
        &format!("/api/admin/devices/{token_id}/revoke"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(s, 200);

    // Used near its end: renewed for the whole lifetime.
    assert_eq!(
        get::<serde_json::Value>(&srv, &near.token, "/api/docs")
            .await
            .0,
        200
    );
    assert!(end(&near.peer_id) >= now + 179 * day);
    // Past its end after a month offline: the reconnect renews it.
    let mut phone = Device::connect(srv.addr, &offline).await;
    phone.track(&DocKey::org(), false).await;
    assert!(
        phone
            .pump_until(|_| false, Duration::from_millis(300))
            .await,
        "the socket stays open"
    );
    assert!(end(&offline.peer_id) >= now + 179 * day);
    // Unused for a year, or revoked: log in again.
    let (s, e) = get::<serde_json::Value>(&srv, &abandoned.token, "/api/docs").await;
    assert_eq!(s, 401, "{e:?}");
    assert_eq!(
        get::<serde_json::Value>(&srv, &revoked.token, "/api/docs")
            .await
            .0,
        401
    );
    assert!(
        open_ws(srv.addr, &revoked.token).await.is_err(),
        "no socket for a revoked device"
    );
    srv.stop().await;
}
