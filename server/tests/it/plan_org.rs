//! Plans and the org tree over real sockets and real SQLite: publishing a revision reaches a
//! connected phone with task IDs kept, a new plan's documents become syncable, an administrator's
//! new commune becomes a node and a set of accepted document IDs, and a hostile plan entry is
//! quarantined while a valid edit beside it is stored.

use crate::common::*;
use automerge::ReadDoc;
use shared::schema::{self, OrgNode, ProgressRecord, Task};
use shared::{DocKey, DocumentId};
use std::time::Duration;

const SAMPLE: &str = include_str!("../../fixtures/ke-hoach-chi-thi-18-2022.txt");
const PLAN: &str = "kh-ct18-2022";

/// Long enough for a loaded CI machine; a `pump_until` returns as soon as its condition holds.
const IDLE: Duration = Duration::from_secs(5);

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// `POST /api/plans/publish[?plan=..]` with a text body; the status and the JSON answer (or Null).
async fn publish(
    base: &str,
    token: &str,
    plan: Option<&str>,
    text: &str,
) -> (u16, serde_json::Value) {
    let url = match plan {
        Some(p) => format!("{base}/api/plans/publish?plan={p}"),
        None => format!("{base}/api/plans/publish"),
    };
    let res = http()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "text/plain; charset=utf-8")
        .body(text.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

async fn get_json(base: &str, token: &str, path: &str) -> (u16, serde_json::Value) {
    let res = http()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

fn task<'a>(tasks: &'a [Task], id: &str) -> Option<&'a Task> {
    tasks.iter().find(|t| t.id == id)
}

/// The device's copy of `id` holds tasks (and whatever `f` asks of them).
fn has_tasks(d: &Device, id: &DocumentId, f: impl Fn(&[Task]) -> bool) -> bool {
    d.client
        .doc(id)
        .is_some_and(|doc| f(&schema::read_tasks(doc)))
}

/// The sample plan with content II.5 dropped and III.5 renumbered III.6.
fn revised_sample() -> String {
    let revised: Vec<String> = SAMPLE
        .lines()
        .filter(|l| !l.starts_with("5. Tiếp tục bố trí"))
        .map(|l| l.replacen("5. Giao Ban Dân vận", "6. Giao Ban Dân vận", 1))
        .collect();
    assert_eq!(
        revised.len() + 1,
        SAMPLE.lines().count(),
        "the fixture still has content II.5"
    );
    assert!(revised.iter().any(|l| l.starts_with("6. Giao Ban Dân vận")));
    revised.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_a_revision_reaches_a_connected_phone() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let key = DocKey::plan(PLAN);

    // A member's phone holds the plan as published by the demo seed.
    let (kadon, mut phone) = logged_in_device(&srv, "kadon").await;
    let id = phone.track(&key, false).await;
    phone
        .pump_until(
            |d| {
                has_tasks(d, &id, |ts| {
                    task(ts, "t-ii-5").is_some_and(|t| !t.removed)
                        && task(ts, "t-iii-5").is_some_and(|t| t.number == "III.5")
                })
            },
            IDLE,
        )
        .await;
    let before = schema::read_tasks(phone.client.doc(&id).unwrap());
    assert!(
        task(&before, "t-ii-5").is_some_and(|t| !t.removed && t.number == "II.5"),
        "the phone never received the demo plan"
    );
    assert_eq!(
        schema::read_plan_header(phone.client.doc(&id).unwrap()).revision,
        1
    );

    // The editor publishes a revision: content II.5 dropped, III.5 renumbered III.6.
    let bientap = login(&base, "bientap").await;
    let (status, res) = publish(&base, &bientap.token, Some(PLAN), &revised_sample()).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["plan_id"], PLAN);
    assert_eq!(res["doc_id"], key.doc_id().to_string());
    let s = &res["summary"];
    assert_eq!(s["revision"], 2, "{res}");
    assert_eq!(s["removed"], 1, "{res}");
    assert_eq!(
        s["added"], 0,
        "a revision matched every remaining task: {res}"
    );
    assert_eq!(
        s["tasks"].as_u64().unwrap() + 1,
        before.len() as u64,
        "{res}"
    );
    assert!(s["updated"].as_u64().unwrap() >= 1, "{res}");

    // The connected phone receives it over sync, without asking: same IDs, new fields.
    phone
        .pump_until(
            |d| {
                has_tasks(d, &id, |ts| {
                    task(ts, "t-ii-5").is_some_and(|t| t.removed)
                        && task(ts, "t-iii-5").is_some_and(|t| t.number == "III.6")
                })
            },
            IDLE,
        )
        .await;
    let doc = phone.client.doc(&id).unwrap();
    let after = schema::read_tasks(doc);
    let ii5 = task(&after, "t-ii-5").expect("a dropped task is never deleted");
    assert!(ii5.removed, "t-ii-5 not marked removed on the phone");
    let iii = task(&after, "t-iii-5").expect("the renumbered task keeps its ID");
    assert_eq!(iii.number, "III.6");
    assert!(!iii.removed);
    assert!(iii.lead_units.contains(&"ban-dan-van".to_string()));
    assert!(
        task(&after, "t-iii-6").is_none(),
        "a renumbered task got a new ID"
    );
    assert_eq!(
        after.len(),
        before.len(),
        "nothing is deleted or duplicated"
    );
    assert_eq!(schema::read_plan_header(doc).revision, 2);
    assert!(schema::check(doc, shared::DocKind::Plan).is_empty());
    // The server reports the phone's copy as durable: what the phone shows is stored.
    wait_covered(&base, &kadon.token, &mut phone, &id).await;

    // Only editors publish; an unknown plan is 404; a text without tasks is refused.
    let plans_before = srv.state.db.plan_ids().unwrap();
    let (status, _) = publish(&base, &kadon.token, Some(PLAN), &revised_sample()).await;
    assert_eq!(status, 403, "a member published a plan");
    let (status, _) = publish(&base, &kadon.token, None, SAMPLE).await;
    assert_eq!(status, 403, "a member created a plan");
    let (status, _) = publish(&base, &bientap.token, Some("nope"), SAMPLE).await;
    assert_eq!(status, 404);
    let (status, _) = publish(&base, &bientap.token, None, "xin chào").await;
    assert_eq!(status, 400);
    let (status, _) = publish(&base, &bientap.token, Some(PLAN), "xin chào").await;
    assert_eq!(status, 400);
    assert_eq!(
        srv.state.db.plan_ids().unwrap(),
        plans_before,
        "a refused publication created a plan"
    );
    // The refused revisions changed nothing: the phone still shows revision 2.
    phone.pump(Duration::from_millis(300)).await;
    let doc = phone.client.doc(&id).unwrap();
    assert_eq!(schema::read_plan_header(doc).revision, 2);
    srv.stop().await;
}

const NEW_PLAN: &str = "\
KẾ HOẠCH
Triển khai mô hình \"Dân vận khéo\" trên địa bàn huyện năm 2026

I. MỤC ĐÍCH, YÊU CẦU

1. Mục đích

- Phát huy vai trò của Mặt trận Tổ quốc và các đoàn thể trong vận động nhân dân.

2. Yêu cầu

- Triển khai nghiêm túc, thiết thực, phù hợp với tình hình địa phương.

II. NỘI DUNG

1. Tuyên truyền sâu rộng về mô hình \"Dân vận khéo\" đến cán bộ, đảng viên và nhân dân.

2. Mỗi xã xây dựng ít nhất một mô hình \"Dân vận khéo\" gắn với phát triển kinh tế hộ gia đình.

III. TỔ CHỨC THỰC HIỆN

1. Giao Hội Nông dân huyện chủ trì, phối hợp với Hội Liên hiệp Phụ nữ huyện hướng dẫn các xã triển khai thực hiện kế hoạch này.

2. Ủy ban nhân dân các xã, thị trấn bố trí kinh phí để thực hiện kế hoạch.
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_a_new_plan_makes_its_documents_syncable() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    // The member's phone is connected before the plan exists.
    let (kadon, mut phone) = logged_in_device(&srv, "kadon").await;

    let bientap = login(&base, "bientap").await;
    let (status, res) = publish(&base, &bientap.token, None, NEW_PLAN).await;
    assert_eq!(status, 200, "{res}");
    let plan_id = res["plan_id"].as_str().unwrap().to_string();
    assert!(plan_id.starts_with("kh-"), "{plan_id}");
    assert_eq!(plan_id.len(), 3 + 26, "kh- and a ULID: {plan_id}");
    assert_eq!(plan_id, plan_id.to_lowercase());
    assert_ne!(plan_id, PLAN);
    let plan_key = DocKey::plan(&plan_id);
    assert_eq!(res["doc_id"], plan_key.doc_id().to_string());
    let s = &res["summary"];
    assert_eq!(s["revision"], 1, "{res}");
    assert_eq!(s["tasks"], 4, "II.1, II.2, III.1, III.2: {res}");
    assert_eq!(s["added"], 4, "{res}");
    assert_eq!(s["removed"], 0, "{res}");
    assert!(srv.state.db.plan_ids().unwrap().contains(&plan_id));

    // The member's document list names the plan (read-only) and its commune's progress (writable).
    let (status, docs) = get_json(&base, &kadon.token, "/api/docs").await;
    assert_eq!(status, 200);
    let list = docs["docs"].as_array().unwrap();
    let plan_entry = list
        .iter()
        .find(|d| d["kind"] == "plan" && d["scope"] == plan_id.as_str())
        .unwrap_or_else(|| panic!("the new plan is not in kadon's list: {docs}"));
    assert_eq!(plan_entry["doc_id"], plan_key.doc_id().to_string());
    assert_eq!(plan_entry["access"], "ro");
    let progress_key = DocKey::progress(&plan_id, "xa-ka-don");
    let progress_entry = list
        .iter()
        .find(|d| d["kind"] == "progress" && d["scope"] == format!("{plan_id}/xa-ka-don"))
        .unwrap_or_else(|| panic!("no progress document of the new plan for kadon: {docs}"));
    assert_eq!(progress_entry["doc_id"], progress_key.doc_id().to_string());
    assert_eq!(progress_entry["access"], "rw");
    // Another commune's progress on the new plan is not listed for kadon.
    assert!(
        !list
            .iter()
            .any(|d| d["scope"] == format!("{plan_id}/xa-lac-xuan")),
        "{docs}"
    );

    // The already-connected phone syncs the new plan...
    let pid = phone.track(&plan_key, false).await;
    phone
        .pump_until(|d| has_tasks(d, &pid, |ts| ts.len() == 4), IDLE)
        .await;
    assert!(
        !phone.unavailable.contains(&pid),
        "the new plan is unavailable"
    );
    let tasks = schema::read_tasks(phone.client.doc(&pid).expect("plan synced"));
    let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["t-ii-1", "t-ii-2", "t-iii-1", "t-iii-2"]);
    let iii1 = task(&tasks, "t-iii-1").unwrap();
    assert_eq!(iii1.lead_units, vec!["hoi-nong-dan"]);
    assert!(iii1.partner_units.contains(&"hoi-phu-nu".to_string()));
    let header = schema::read_plan_header(phone.client.doc(&pid).unwrap());
    assert!(header.title.contains("Dân vận khéo"), "{header:?}");
    assert_eq!(header.revision, 1);

    // ...and records progress on it, which the server stores.
    let prid = phone.track(&progress_key, true).await;
    let record = ProgressRecord {
        task_id: "t-iii-1".into(),
        unit: "hoi-nong-dan".into(),
        percent: 40,
        remark: "Đã hướng dẫn 3 thôn".into(),
        by: "kadon".into(),
        at: 1_795_700_000_000,
        done_at: None,
    };
    phone
        .change(&prid, |d| schema::put_progress(d, &record).unwrap())
        .await;
    phone.pump(Duration::from_millis(300)).await;
    assert!(!phone.unavailable.contains(&prid));
    wait_covered(&base, &kadon.token, &mut phone, &prid).await;
    let stored = stored(&srv, prid.to_string()).await;
    let records = schema::read_progress(&stored);
    assert!(
        records
            .iter()
            .any(|r| r.task_id == "t-iii-1" && r.unit == "hoi-nong-dan" && r.percent == 40),
        "{records:?}"
    );
    // The read model counts it under the new plan.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = srv.state.db.progress(&plan_id).unwrap();
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        rows,
        [(
            "xa-ka-don".to_string(),
            "t-iii-1".to_string(),
            "hoi-nong-dan".to_string(),
            40
        )]
    );
    srv.stop().await;
}

fn commune(id: &str, name: &str) -> OrgNode {
    OrgNode {
        id: id.into(),
        name: name.into(),
        level: "commune".into(),
        parent: Some("huyen-demo".into()),
        ..OrgNode::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_commune_from_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let quarter = server::clock::current_quarter();
    let new_notes = DocKey::notes("xa-moi", quarter).doc_id();
    assert!(srv.state.registry.get(&new_notes).is_none());
    assert!(
        !srv.state
            .db
            .nodes()
            .unwrap()
            .iter()
            .any(|n| n.id == "xa-moi")
    );

    let (admin, mut device) = logged_in_device(&srv, "admin").await;
    let org = device.track(&DocKey::org(), false).await;
    device
        .pump_until(
            |d| {
                d.client
                    .doc(&org)
                    .is_some_and(|x| schema::read_org(x).iter().any(|n| n.id == "xa-ka-don"))
            },
            IDLE,
        )
        .await;
    assert!(
        schema::read_org(device.client.doc(&org).unwrap())
            .iter()
            .any(|n| n.id == "xa-ka-don"),
        "the admin's device never received the org tree"
    );
    device
        .change(&org, |d| {
            schema::put_org_node(d, &commune("xa-moi", "Xã Mới")).unwrap();
            schema::put_org_node(
                d,
                &OrgNode {
                    id: "thon-moi-1".into(),
                    name: "Thôn Mới 1".into(),
                    level: "hamlet".into(),
                    parent: Some("xa-moi".into()),
                    ..OrgNode::default()
                },
            )
            .unwrap();
        })
        .await;
    device.pump(Duration::from_millis(300)).await;
    wait_covered(&base, &admin.token, &mut device, &org).await;

    // The read model applies the new nodes and accepts the new commune's documents.
    let mut applied = false;
    for _ in 0..100 {
        let nodes = srv.state.db.nodes().unwrap();
        applied = nodes.iter().any(|n| {
            n.id == "xa-moi"
                && n.level == shared::vocab::OrgLevel::Commune
                && n.parent.as_deref() == Some("huyen-demo")
        }) && nodes
            .iter()
            .any(|n| n.id == "thon-moi-1" && n.parent.as_deref() == Some("xa-moi"))
            && srv.state.registry.get(&new_notes).is_some();
        if applied {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let nodes = srv.state.db.nodes().unwrap();
    assert!(
        applied,
        "the new commune never reached the node table and registry: {nodes:?}"
    );
    assert_eq!(
        nodes.iter().find(|n| n.id == "xa-moi").unwrap().name,
        "Xã Mới"
    );
    assert_eq!(
        srv.state.registry.get(&new_notes),
        Some(DocKey::notes("xa-moi", quarter))
    );
    assert!(
        srv.state
            .registry
            .get(&DocKey::progress(PLAN, "xa-moi").doc_id())
            .is_some(),
        "the new commune's progress on the existing plan is not accepted"
    );

    // A member writing into the org document stores nothing.
    let (_, mut member) = logged_in_device(&srv, "kadon").await;
    let morg = member.track(&DocKey::org(), false).await;
    member
        .pump_until(
            |d| {
                d.client
                    .doc(&morg)
                    .is_some_and(|x| schema::read_org(x).iter().any(|n| n.id == "xa-moi"))
            },
            IDLE,
        )
        .await;
    assert!(
        schema::read_org(member.client.doc(&morg).unwrap())
            .iter()
            .any(|n| n.id == "xa-moi"),
        "the member's device never received the admin's new commune"
    );
    member
        .change(&morg, |d| {
            schema::put_org_node(d, &commune("xa-cua-thanh-vien", "Xã Giả")).unwrap();
            schema::update_entry::<OrgNode>(d, "xa-ka-don", |n| n.name = "Bị sửa".into()).unwrap();
        })
        .await;
    member.pump(Duration::from_millis(500)).await;
    device.pump(Duration::from_millis(500)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = stored(&srv, org.to_string()).await;
    let stored_nodes = schema::read_org(&stored);
    assert!(stored_nodes.iter().any(|n| n.id == "xa-moi"));
    assert!(
        !stored_nodes.iter().any(|n| n.id == "xa-cua-thanh-vien"),
        "a member's org node was stored"
    );
    assert_ne!(
        stored_nodes
            .iter()
            .find(|n| n.id == "xa-ka-don")
            .unwrap()
            .name,
        "Bị sửa"
    );
    assert!(
        !schema::read_org(device.client.doc(&org).unwrap())
            .iter()
            .any(|n| n.id == "xa-cua-thanh-vien"),
        "a member's org change was relayed to the admin"
    );
    let nodes = srv.state.db.nodes().unwrap();
    assert!(!nodes.iter().any(|n| n.id == "xa-cua-thanh-vien"));
    assert!(
        srv.state
            .registry
            .get(&DocKey::notes("xa-cua-thanh-vien", quarter).doc_id())
            .is_none()
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_commune_leaves_the_overview_and_gets_no_new_documents() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let quarter = server::clock::current_quarter();
    let stored = DocKey::notes("xa-lac-xuan", quarter).doc_id();
    let next_year = DocKey::notes(
        "xa-lac-xuan",
        shared::Quarter {
            year: quarter.year + 1,
            q: 1,
        },
    )
    .doc_id();
    let listed = |srv: &TestServer| {
        srv.state
            .db
            .overview()
            .unwrap()
            .iter()
            .any(|c| c.commune_id == "xa-lac-xuan")
    };
    assert!(listed(&srv));
    assert!(srv.state.registry.get(&next_year).is_some());

    let (admin, mut device) = logged_in_device(&srv, "admin").await;
    let org = device.track(&DocKey::org(), false).await;
    device
        .pump_until(
            |d| {
                d.client
                    .doc(&org)
                    .is_some_and(|x| schema::read_org(x).iter().any(|n| n.id == "xa-lac-xuan"))
            },
            IDLE,
        )
        .await;
    device
        .change(&org, |d| {
            schema::update_entry::<OrgNode>(d, "xa-lac-xuan", |n| n.removed = true).unwrap();
        })
        .await;
    device.pump(Duration::from_millis(300)).await;
    wait_covered(&srv.url(), &admin.token, &mut device, &org).await;

    let mut gone = false;
    for _ in 0..100 {
        gone = !listed(&srv) && srv.state.registry.get(&next_year).is_none();
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone,
        "the removed commune is still listed or still gets new IDs"
    );
    let node = srv
        .state
        .db
        .nodes()
        .unwrap()
        .into_iter()
        .find(|n| n.id == "xa-lac-xuan")
        .expect("kept in the node table");
    assert!(node.removed);
    // What it already stored stays reachable: history, and phones with unsynced notes of it.
    assert_eq!(
        srv.state.registry.get(&stored),
        Some(DocKey::notes("xa-lac-xuan", quarter))
    );
    // A restart reads the same from SQL.
    srv.stop().await;
    let srv = TestServer::start(dir.path(), 0).await;
    assert!(!listed(&srv));
    assert!(srv.state.registry.get(&next_year).is_none());
    assert!(srv.state.registry.get(&stored).is_some());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_plan_entry_is_quarantined() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let key = DocKey::plan(PLAN);
    let admin = login(&base, "admin").await;
    let (status, before) = get_json(&base, &admin.token, "/api/quarantine").await;
    assert_eq!(status, 200);
    assert_eq!(
        before["entries"].as_array().map(Vec::len),
        Some(0),
        "the demo starts with quarantined entries: {before}"
    );

    let (bientap, mut editor) = logged_in_device(&srv, "bientap").await;
    let id = editor.track(&key, false).await;
    editor
        .pump_until(
            |d| has_tasks(d, &id, |ts| task(ts, "t-ii-4").is_some()),
            IDLE,
        )
        .await;
    assert!(
        has_tasks(&editor, &id, |ts| task(ts, "t-ii-4").is_some()),
        "the editor's device never received the plan"
    );
    // A buggy or hostile client writes tasks with wrong types or values...
    editor
        .change(&id, |d| {
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                let tasks = tx.get(ROOT, "tasks")?.unwrap().1;
                let evil = tx.put_object(&tasks, "t-evil", ObjType::Map)?;
                tx.put(&evil, "number", 42)?;
                tx.put(&evil, "title", "số sai kiểu")?;
                let late = tx.put_object(&tasks, "t-late", ObjType::Map)?;
                tx.put(&late, "number", "IX.1")?;
                tx.put(&late, "title", "hạn không hợp lệ")?;
                tx.put(&late, "deadline", "soon")?;
                Ok(())
            })
            .unwrap();
        })
        .await;
    // ...and, in the same session, a valid edit of a real task.
    editor
        .change(&id, |d| {
            schema::update_entry::<Task>(d, "t-ii-4", |t| t.deadline = Some("2026-12-31".into()))
                .unwrap()
                .expect("t-ii-4 exists");
        })
        .await;
    editor.pump(Duration::from_millis(300)).await;
    wait_covered(&base, &bientap.token, &mut editor, &id).await;

    // The administrators see the bad entries, and only those.
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        listed = get_json(&base, &admin.token, "/api/quarantine").await.1;
        if listed["entries"].as_array().is_some_and(|e| e.len() >= 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entries = listed["entries"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["entry"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"t-evil"), "{listed}");
    assert!(names.contains(&"t-late"), "{listed}");
    assert!(
        !names.contains(&"t-ii-4"),
        "a valid edit was quarantined: {listed}"
    );
    assert_eq!(names.len(), 2, "{listed}");
    for e in entries {
        assert_eq!(e["doc_id"], key.doc_id().to_string());
        assert_eq!(e["kind"], "plan");
        assert_eq!(e["scope"], PLAN);
        assert!(!e["reason"].as_str().unwrap_or("").is_empty());
    }

    // The valid edit is stored, the bad entries are kept in the document but skipped by readers.
    let stored = stored(&srv, id.to_string()).await;
    let ii4 = schema::read_entry::<Task, _>(&stored, "t-ii-4").expect("t-ii-4 readable");
    assert_eq!(ii4.deadline.as_deref(), Some("2026-12-31"));
    let tasks_obj = stored.get(ROOT, "tasks").unwrap().unwrap().1;
    assert!(stored.get(&tasks_obj, "t-evil").unwrap().is_some());
    assert!(task(&schema::read_tasks(&stored), "t-evil").is_none());

    // A member's phone receives the valid edit too.
    let (_, mut phone) = logged_in_device(&srv, "kadon").await;
    let pid = phone.track(&key, false).await;
    phone
        .pump_until(
            |d| {
                has_tasks(d, &pid, |ts| {
                    task(ts, "t-ii-4").is_some_and(|t| t.deadline.as_deref() == Some("2026-12-31"))
                })
            },
            IDLE,
        )
        .await;
    assert!(has_tasks(&phone, &pid, |ts| {
        task(ts, "t-ii-4").is_some_and(|t| t.deadline.as_deref() == Some("2026-12-31"))
    }));

    // The server keeps serving.
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, _) = get_json(&base, &bientap.token, "/api/docs").await;
    assert_eq!(status, 200);
    srv.stop().await;
}
