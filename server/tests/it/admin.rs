//! Administration: users, devices and the audit log, against a real server on 127.0.0.1 with a real
//! SQLite file.

use crate::common::*;
use shared::DocKey;
use shared::api::{AdminUser, AdminUsers, AuditLog, OneTimePassword};
use std::time::{Duration, Instant};

const PLAN: &str = "kh-ct18-2022";
const COMMUNE: &str = "xa-ka-don";

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
    assert_eq!(
        body["user"]["must_change"], true,
        "a one-time password is to be replaced"
    );
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
    // The revoked phone still exports its unsynced work, and says so: the server takes that
    // report (and nothing else) from the ended login.
    let export = serde_json::json!({"events": [{"kind": "export", "at": server::clock::now_ms(),
        "docs": 3, "photos": 1, "sealed": true}]});
    let (s, e) = post(&srv, &member.token, "/api/audit/report", export.clone()).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["recorded"], 1);

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
    let (s, body) = login_with(&srv, "nongdan.kadon", &reset.password).await;
    assert_eq!(s, 200);
    assert_eq!(body["user"]["must_change"], true);
    // The member chooses their own password: no longer a one-time one (not the same one again).
    let token = body["token"].as_str().unwrap().to_string();
    let change = |new: &str| serde_json::json!({"old": reset.password, "new": new});
    let (s, e) = post(&srv, &token, "/api/password", change(&reset.password)).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = post(&srv, &token, "/api/password", change("của riêng tôi 2026")).await;
    assert_eq!(s, 200, "{e}");
    let (_, me) = get::<serde_json::Value>(&srv, e["token"].as_str().unwrap(), "/api/me").await;
    assert_eq!(me.unwrap()["user"]["must_change"], false);

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
        "export",
        "password-changed",
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
    let (_, exports) = get::<AuditLog>(&srv, &admin.token, "/api/admin/audit?action=export").await;
    let exports = exports.unwrap();
    assert_eq!(exports.total, 1);
    let e = &exports.entries[0];
    assert_eq!(
        (e.actor.as_str(), e.target.as_str()),
        ("nongdan.kadon", member.peer_id.as_str())
    );
    assert!(
        e.detail.contains("3 document(s), 1 photo(s), sealed")
            && e.detail
                .contains("after sign-out (device revoked by an administrator)"),
        "{e:?}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_report_is_checked_and_needs_a_login_that_existed() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let phone = login(&srv.url(), "kadon").await;
    let event = |kind: &str| serde_json::json!({"kind": kind, "at": 1_790_000_000_000_i64, "docs": 2, "photos": 0});
    let report = |events: Vec<serde_json::Value>| serde_json::json!({ "events": events });
    for (body, want) in [
        (report(vec![event("import")]), 200),
        (report(vec![event("delete-everything")]), 400),
        (report(vec![event("export"); 51]), 400),
        (serde_json::json!({"events": "export"}), 400),
    ] {
        let (s, e) = post(&srv, &phone.token, "/api/audit/report", body).await;
        assert_eq!(s, want, "{e}");
    }
    // An unknown token, and one its own user logged out of, report nothing.
    let (s, _) = post(
        &srv,
        "not-a-token",
        "/api/audit/report",
        report(vec![event("export")]),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = post(&srv, &phone.token, "/api/logout", serde_json::json!({})).await;
    assert_eq!(s, 200);
    let (s, _) = post(
        &srv,
        &phone.token,
        "/api/audit/report",
        report(vec![event("export")]),
    )
    .await;
    assert_eq!(s, 401);
    let admin = login(&srv.url(), "admin").await;
    let (_, log) = get::<AuditLog>(&srv, &admin.token, "/api/admin/audit?action=import").await;
    assert_eq!(log.unwrap().total, 1);
    let (_, log) = get::<AuditLog>(&srv, &admin.token, "/api/admin/audit?action=export").await;
    assert_eq!(log.unwrap().total, 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_done_from_a_phone_with_a_wrong_clock_is_judged_by_its_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let now = server::clock::now_ms();
    let day = 24 * 3600 * 1000;
    // The phone's clock is ten days behind the server's (set back, or never set).
    let r = HTTP
        .post(format!("{}/api/login", srv.url()))
        .header("x-danvan-clock", (now - 10 * day).to_string())
        .json(&serde_json::json!({"username": "kadon", "password": "danvan-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // It marks a task done "on time", a day before the deadline by its clock.
    let plan = DocKey::plan(PLAN);
    let tasks = srv
        .state
        .storage
        .with_durable(plan.doc_id().to_string(), shared::schema::read_tasks)
        .await
        .unwrap();
    let task = tasks
        .iter()
        .find(|t| t.deadline.is_some() && t.targets(COMMUNE))
        .expect("a task with a deadline");
    let deadline = shared::status::end_of_day_vn(task.deadline.as_deref().unwrap()).unwrap();
    let record = shared::schema::ProgressRecord {
        task_id: task.id.clone(),
        unit: task
            .lead_units
            .first()
            .cloned()
            .unwrap_or_else(|| "mttq".into()),
        percent: 100,
        by: "kadon".into(),
        at: deadline - day,
        done_at: Some(deadline - day),
        ..Default::default()
    };
    let key = DocKey::progress(PLAN, COMMUNE);
    let r2 = record.clone();
    srv.state
        .hub
        .change(&srv.state.storage, &key, move |d| {
            shared::schema::put_progress(d, &r2)
        })
        .await
        .unwrap()
        .unwrap();
    // The office is told to judge it by the server's receipt (now, after the deadline) ...
    let huyen = login(&srv.url(), "huyen").await;
    let mut judged = Vec::new();
    for _ in 0..200 {
        let (_, o) =
            get::<shared::api::OverviewResponse>(&srv, &huyen.token, "/api/overview").await;
        judged = o.unwrap().judged;
        if !judged.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(judged.len(), 1, "only this record: {judged:?}");
    let j = &judged[0];
    assert_eq!(
        (j.commune.as_str(), j.task.as_str(), j.at),
        (COMMUNE, task.id.as_str(), record.at)
    );
    assert!(
        j.done_at >= now && j.done_at > deadline,
        "{j:?} vs deadline {deadline}"
    );
    // ... and so is the report: done late, not on time.
    let t = shared::api::ReportTarget {
        plan: PLAN.into(),
        period: server::clock::current_quarter().to_string(),
        node: "huyen-demo".into(),
    };
    let resolved = server::report::resolve(&srv.state, &t).unwrap();
    let (_, _, communes) = server::report::read_state(&srv.state, &resolved, None).await;
    let mine = communes.iter().find(|c| c.id == COMMUNE).unwrap();
    let got = mine
        .progress
        .iter()
        .find(|r| r.task_id == task.id && r.at == record.at)
        .unwrap();
    assert_eq!(got.done_at, Some(j.done_at));
    let cell = shared::report::cell(task, &[got], now);
    assert_eq!(cell.status, shared::status::DeadlineStatus::DoneLate);
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
    let rotated = e["token"].as_str().unwrap().to_string();
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
        get::<serde_json::Value>(&srv, &rotated, "/api/docs")
            .await
            .0,
        200,
        "this device stays, with a new token"
    );
    assert_eq!(
        get::<serde_json::Value>(&srv, &here.token, "/api/docs")
            .await
            .0,
        401,
        "the token presented with the old password is dead"
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
