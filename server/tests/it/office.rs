//! The office's read model and endpoints over real SQLite: incremental updates give exactly the
//! rows a rebuild gives (random edits, deletes, concurrent offline edits merged), the summary's
//! totals add up to the registers, search ignores accents, and a viewer of one commune sees
//! nothing of another.

use crate::common::*;
use automerge::Automerge;
use rand::{Rng, SeedableRng};
use shared::api::{OfficeNotes, OfficePetitions, OfficeSummary};
use shared::schema::{self, Note, Participants, Petition};
use shared::vocab::{ActivityType, PetitionStatus};
use shared::{DocKey, Quarter};
use std::time::Duration;

const COMMUNE: &str = "xa-ka-don";

fn note(id: &str, date: &str, title: &str, petitions: usize) -> Note {
    Note {
        id: id.into(),
        activity_date: date.into(),
        title: title.into(),
        content: format!("Nội dung {title}: tuyên truyền công tác dân vận ở bon Đạ Tông"),
        task_ids: vec!["t-ii-1".into()],
        activity_type: Some(ActivityType::Propaganda),
        participants: Participants {
            total: 20,
            women: 8,
            ethnic_minority: 5,
            religious: 2,
        },
        petitions: (0..petitions)
            .map(|i| Petition {
                text: format!("Kiến nghị {i} về đường giao thông"),
                status: if i % 2 == 0 {
                    PetitionStatus::Received
                } else {
                    PetitionStatus::Answered
                },
            })
            .collect(),
        author: "kadon".into(),
        created_at: 1_795_700_000_000,
        ..Note::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_updates_give_the_rows_a_rebuild_gives() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes(COMMUNE, quarter);
    let date = quarter.first_day();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut ids: Vec<String> = Vec::new();
    let (_, incremental_before) = server::readmodel::update_counts();
    for round in 0..60 {
        let op = rng.random_range(0..10);
        let change = match op {
            // A new note.
            0..=3 => {
                let id = format!("01N{round:03}");
                ids.push(id.clone());
                let n = note(
                    &id,
                    &date,
                    &format!("Ghi chép {round}"),
                    rng.random_range(0..3),
                );
                srv.state
                    .hub
                    .change(&srv.state.storage, &key, move |d| {
                        schema::put_note(d, &n).map(|_| ())
                    })
                    .await
            }
            // An edit of one field of an existing note.
            4..=6 if !ids.is_empty() => {
                let id = ids[rng.random_range(0..ids.len())].clone();
                let title = format!("Sửa {round}");
                srv.state
                    .hub
                    .change(&srv.state.storage, &key, move |d| {
                        schema::update_entry::<Note>(d, &id, |n| n.title = title).map(|_| ())
                    })
                    .await
            }
            // A delete (tombstone).
            7 if !ids.is_empty() => {
                let id = ids[rng.random_range(0..ids.len())].clone();
                srv.state
                    .hub
                    .change(&srv.state.storage, &key, move |d| {
                        schema::update_entry::<Note>(d, &id, |n| n.deleted = true).map(|_| ())
                    })
                    .await
            }
            // Two phones edit the same note offline; their changes arrive together, merged.
            _ if !ids.is_empty() => {
                let id = ids[rng.random_range(0..ids.len())].clone();
                let base = stored(&srv, key.doc_id().to_string()).await;
                let mut a = base.fork().with_actor(automerge::ActorId::random());
                let mut b = base.fork().with_actor(automerge::ActorId::random());
                schema::update_entry::<Note>(&mut a, &id, |n| n.content = format!("A {round}"))
                    .unwrap();
                schema::update_entry::<Note>(&mut b, &id, |n| {
                    n.participants.total += 1;
                    n.petitions.push(Petition {
                        text: format!("Kiến nghị mới {round}"),
                        status: PetitionStatus::InProgress,
                    });
                })
                .unwrap();
                a.merge(&mut b).unwrap();
                srv.state
                    .hub
                    .change(&srv.state.storage, &key, move |d: &mut Automerge| {
                        d.merge(&mut a).map(|_| ()).map_err(Into::into)
                    })
                    .await
            }
            _ => continue,
        };
        change.unwrap().unwrap();
        if round % 7 == 0 {
            settled(&srv, &key).await;
        }
    }
    all_settled(&srv).await;
    let incremental = srv.state.db.read_model_dump().unwrap();
    // (Counters are per process: other tests add to them too, but never take away.)
    let (_, incremental_after) = server::readmodel::update_counts();
    assert!(
        incremental_after >= incremental_before + 5,
        "commits were indexed from their diff: {incremental_before} → {incremental_after}"
    );
    assert!(
        incremental
            .iter()
            .filter(|l| l.starts_with("rm_note_rows"))
            .count()
            > 10,
        "the test wrote notes: {}",
        incremental.len()
    );
    let docs = server::readmodel::rebuild(&srv.state).await.unwrap();
    assert!(docs > 10);
    let rebuilt = srv.state.db.read_model_dump().unwrap();
    let diff: Vec<_> = incremental
        .iter()
        .filter(|l| !rebuilt.contains(l))
        .chain(rebuilt.iter().filter(|l| !incremental.contains(l)))
        .collect();
    assert!(
        diff.is_empty(),
        "incremental and rebuilt rows differ: {diff:#?}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_add_up_search_ignores_accents_and_scope_holds() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let quarter: Quarter = server::clock::current_quarter();
    let key = DocKey::notes(COMMUNE, quarter);
    let n = note("01SEARCH", &quarter.first_day(), "Họp dân vận ở bon", 3);
    put_note(&srv, &key, n).await;
    // Every commune's documents indexed (the demo's too, read at start in the background): the
    // summary and the registers below are compared, so both must see the same notes.
    all_settled(&srv).await;

    let huyen = login(&srv.url(), "huyen").await;
    let (s, summary) = get::<OfficeSummary>(&srv, &huyen.token, "/api/office/summary").await;
    assert_eq!(s, 200);
    let summary = summary.unwrap();
    assert!(summary.communes.len() >= 8, "{:?}", summary.communes.len());
    // The totals are the sums of the registers behind them.
    let (_, notes) = get::<OfficeNotes>(&srv, &huyen.token, "/api/office/notes").await;
    let (_, petitions) = get::<OfficePetitions>(&srv, &huyen.token, "/api/office/petitions").await;
    let (notes, petitions) = (notes.unwrap(), petitions.unwrap());
    assert_eq!(summary.totals.notes, notes.total);
    let p = summary.totals.petitions;
    assert_eq!(p.open + p.answered + p.referred, petitions.total);
    assert!(p.open > 0 && p.answered + p.referred > 0, "{p:?}");
    // Each petition figure is the count of the register behind its link.
    for (query, want) in [
        ("open=true", p.open),
        ("status=da-giai-quyet", p.answered),
        ("status=da-chuyen", p.referred),
    ] {
        let (_, page) = get::<OfficePetitions>(
            &srv,
            &huyen.token,
            &format!("/api/office/petitions?{query}"),
        )
        .await;
        assert_eq!(page.unwrap().total, want, "{query}");
    }
    assert!(summary.totals.notes > 0);
    let by_type: i64 = summary.activities.iter().map(|a| a.notes).sum();
    assert_eq!(
        by_type, summary.totals.notes,
        "activities add up to the notes"
    );
    let by_week: i64 = summary.weeks.iter().map(|w| w.notes).sum();
    assert_eq!(by_week, summary.totals.notes, "weeks add up to the notes");
    assert!(
        summary.weeks.windows(2).all(|w| w[0].monday < w[1].monday),
        "weeks oldest first, each once: {:?}",
        summary.weeks
    );
    for w in &summary.weeks {
        let (y, m, d) = shared::ids::parse_iso_date(&w.monday).expect("a date");
        // Sakamoto's day of the week, 0 = Sunday.
        let t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let y = if m < 3 { y - 1 } else { y };
        let dow = (y + y / 4 - y / 100 + y / 400 + t[m as usize - 1] + d as i32) % 7;
        assert_eq!(dow, 1, "{} is a Monday", w.monday);
    }
    let people: i64 = summary.activities.iter().map(|a| a.participants).sum();
    assert_eq!(people, summary.totals.participants.total);
    let ka_don = summary
        .communes
        .iter()
        .find(|c| c.commune_id == COMMUNE)
        .unwrap();
    assert!(ka_don.figures.notes >= 1 && ka_don.figures.participants.women >= 8);
    // Stale communes come first.
    let first_fresh = summary
        .communes
        .iter()
        .position(|c| !c.stale)
        .unwrap_or(summary.communes.len());
    assert!(summary.communes[first_fresh..].iter().all(|c| !c.stale));

    // Search without diacritics, every word must match.
    let (_, found) = get::<OfficeNotes>(
        &srv,
        &huyen.token,
        "/api/office/notes?q=dan%20van%20bon%20hop",
    )
    .await;
    let found = found.unwrap();
    assert!(
        found.notes.iter().any(|n| n.note.id == "01SEARCH"),
        "{found:?}"
    );
    assert_eq!(found.notes[0].commune_name, "Xã Ka Đơn");
    assert_eq!(
        found
            .notes
            .iter()
            .find(|n| n.note.id == "01SEARCH")
            .unwrap()
            .note
            .petitions
            .len(),
        3
    );
    let (_, none) = get::<OfficeNotes>(
        &srv,
        &huyen.token,
        "/api/office/notes?q=dan%20van%20khongco",
    )
    .await;
    assert_eq!(none.unwrap().total, 0);
    let (s, _) = get::<OfficeNotes>(&srv, &huyen.token, "/api/office/notes?from=2026-13-01").await;
    assert_eq!(s, 400);

    // A viewer of one commune sees that commune and nothing of another, on every endpoint.
    let branch = commune_viewer(&srv, COMMUNE).await;
    let (_, summary) = get::<OfficeSummary>(&srv, &branch.token, "/api/office/summary").await;
    let ids: Vec<String> = summary
        .unwrap()
        .communes
        .into_iter()
        .map(|c| c.commune_id)
        .collect();
    assert_eq!(ids, [COMMUNE]);
    let (_, other) =
        get::<OfficeNotes>(&srv, &branch.token, "/api/office/notes?commune=xa-lac-xuan").await;
    assert_eq!(other.unwrap().total, 0);
    let (_, all) = get::<OfficeNotes>(&srv, &branch.token, "/api/office/notes").await;
    assert!(all.unwrap().notes.iter().all(|n| n.commune_id == COMMUNE));
    let (_, pets) = get::<OfficePetitions>(&srv, &branch.token, "/api/office/petitions").await;
    assert!(
        pets.unwrap()
            .petitions
            .iter()
            .all(|p| p.commune_id == COMMUNE)
    );
    let (_, overview) =
        get::<shared::api::OverviewResponse>(&srv, &branch.token, "/api/overview").await;
    let ids: Vec<String> = overview
        .unwrap()
        .communes
        .into_iter()
        .map(|c| c.commune_id)
        .collect();
    assert_eq!(ids, [COMMUNE]);
    let (_, docs) = get::<shared::api::DocsResponse>(&srv, &branch.token, "/api/docs").await;
    for d in docs.unwrap().docs {
        let key = d.key().unwrap();
        assert!(
            key.commune().is_none_or(|c| c == COMMUNE),
            "{key:?} listed to a viewer of {COMMUNE}"
        );
    }
    // Members have no office.
    let kadon = login(&srv.url(), "kadon").await;
    let (s, _) = get::<OfficeSummary>(&srv, &kadon.token, "/api/office/summary").await;
    assert_eq!(s, 403);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_changes_reach_only_the_viewers_who_may_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let branch = commune_viewer(&srv, COMMUNE).await;
    let mut events = HTTP
        .get(format!("{}/api/office/events", srv.url()))
        .bearer_auth(&branch.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let quarter = server::clock::current_quarter();
    let write = |commune: &'static str, id: &'static str| {
        let key = DocKey::notes(commune, quarter);
        let n = note(id, &quarter.first_day(), id, 0);
        let st = srv.state.clone();
        async move {
            st.hub
                .change(&st.storage, &key, move |d| {
                    schema::put_note(d, &n).map(|_| ())
                })
                .await
                .unwrap()
                .unwrap();
        }
    };
    // Another commune's note: nothing arrives (only keep-alive comments, if any).
    write("xa-lac-xuan", "01OTHER").await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, events.chunk()).await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!seen.contains("xa-lac-xuan"), "{seen}");
    // Its own commune's note: a change event naming it.
    write(COMMUNE, "01OWN").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains(&format!("data: {COMMUNE}")) {
        match tokio::time::timeout_at(deadline, events.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("no event for {COMMUNE}: {other:?}; seen {seen:?}"),
        }
    }
    assert!(seen.contains("event: change"), "{seen}");
    assert!(!seen.contains("xa-lac-xuan"), "{seen}");
    // Members have no events.
    let kadon = login(&srv.url(), "kadon").await;
    let r = HTTP
        .get(format!("{}/api/office/events", srv.url()))
        .bearer_auth(&kadon.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    drop(events);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rebuild_command_writes_the_same_rows_and_refuses_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let key = DocKey::notes(COMMUNE, server::clock::current_quarter());
    let n = note(
        "01CLI",
        &server::clock::current_quarter().first_day(),
        "Ghi chép CLI",
        2,
    );
    put_note(&srv, &key, n).await;
    settled(&srv, &key).await;
    // (The seeded documents are indexed in the background at start: a rebuild settles them all.)
    server::readmodel::rebuild(&srv.state).await.unwrap();
    let before = srv.state.db.read_model_dump().unwrap();
    assert!(
        before
            .iter()
            .any(|l| l.contains("Ghi chép CLI") || l.contains("Ghi ch"))
    );
    srv.stop().await;

    let bin = env!("CARGO_BIN_EXE_danvan-server");
    // On PostgreSQL (the suite's second pass), the command is told where the database is.
    let pg = crate::common::pg::database_for(dir.path());
    let out = std::process::Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(pg.iter().flat_map(|url| ["--database", url]))
        .args(["readmodel", "rebuild"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("read model rebuilt from"), "{said}");
    let db = match pg {
        Some(url) => tokio::task::spawn_blocking(move || server::db::Db::open_postgres(&url))
            .await
            .unwrap()
            .unwrap(),
        None => server::db::Db::open(&dir.path().join("danvan.sqlite3")).unwrap(),
    };
    let after = db.read_model_dump().unwrap();
    let differ = before.iter().filter(|l| !after.contains(l)).count()
        + after.iter().filter(|l| !before.contains(l)).count();
    let only_after: Vec<_> = after
        .iter()
        .filter(|l| !before.contains(l))
        .take(5)
        .collect();
    let only_before: Vec<_> = before
        .iter()
        .filter(|l| !after.contains(l))
        .take(5)
        .collect();
    assert_eq!(
        differ,
        0,
        "{} rows before, {} after; only after: {only_after:#?}; only before: {only_before:#?}",
        before.len(),
        after.len()
    );

    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin)
        .arg("--data-dir")
        .arg(empty.path())
        .args(["readmodel", "rebuild"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database"));
    assert!(
        !empty.path().join("danvan.sqlite3").exists(),
        "nothing seeded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_records_when_it_received_each_note_beside_the_devices_time() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let quarter: Quarter = server::clock::current_quarter();
    let key = DocKey::notes(COMMUNE, quarter);
    let t0 = server::clock::now_ms();
    // A note whose device claims it was written five days ago (kept offline, or a wrong clock).
    let mut n = note("01LATE", &quarter.first_day(), "Ghi chép gửi muộn", 0);
    n.created_at = t0 - 5 * 24 * 3600 * 1000;
    put_note(&srv, &key, n.clone()).await;
    settled(&srv, &key).await;
    let huyen = login(&srv.url(), "huyen").await;
    let (_, notes) = get::<OfficeNotes>(&srv, &huyen.token, "/api/office/notes?q=gui%20muon").await;
    let found = notes
        .unwrap()
        .notes
        .into_iter()
        .find(|x| x.note.id == "01LATE")
        .unwrap();
    let received = found.received_at.expect("a receipt time");
    assert!(
        received >= t0 && received <= server::clock::now_ms(),
        "{received} vs {t0}"
    );
    assert_eq!(
        found.note.created_at, n.created_at,
        "the device's time is kept as it said"
    );

    // A later edit keeps the first receipt; a rebuild of the read model keeps it too.
    n.results = "Đã bổ sung".into();
    put_note(&srv, &key, n).await;
    settled(&srv, &key).await;
    let doc = key.doc_id().to_string();
    assert_eq!(
        srv.state.db.received_at(&doc, "01LATE").unwrap(),
        Some(received)
    );
    srv.state.db.clear_read_model().unwrap();
    assert_eq!(
        srv.state.db.received_at(&doc, "01LATE").unwrap(),
        Some(received)
    );
    srv.stop().await;
}
