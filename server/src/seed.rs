//! First start: the demo org, plan and accounts (`--demo`), or a lone administrator with a random
//! password (a real deployment never gets a known password).

use crate::access::Role;
use crate::auth::{hash_password, random_hex};
use crate::db::{Db, NodeRow};
use crate::storage::SqliteStorage;
use crate::sync::seed_document;
use automerge::{ActorId, Automerge};
use shared::schema::{self, OrgNode, Task};
use shared::{DocKey, Quarter};

pub const DEMO_PASSWORD: &str = "danvan-demo";
pub const DEMO_PLAN_ID: &str = "kh-ct18-2022";

/// The actor the server writes org and plan documents as.
pub fn server_actor() -> ActorId {
    ActorId::from(&b"danvan-server-01"[..])
}

fn node(id: &str, name: &str, level: &str, parent: Option<&str>) -> NodeRow {
    NodeRow {
        id: id.into(),
        name: name.into(),
        level: level.into(),
        parent: parent.map(Into::into),
    }
}

/// The demo district: clearly marked as demo data, communes and hamlets of a Lâm Đồng district.
fn demo_nodes() -> Vec<NodeRow> {
    let root = "huyen-demo";
    let mut v = vec![node(root, "Huyện Đơn Dương (DỮ LIỆU DEMO)", "root", None)];
    type Commune<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let communes: [Commune; 4] = [
        (
            "xa-ka-don",
            "Xã Ka Đơn",
            &[
                ("ka-don-bon-ka-rai", "Bon Ka Rái"),
                ("ka-don-thon-ka-don", "Thôn Ka Đơn"),
            ],
        ),
        (
            "xa-lac-xuan",
            "Xã Lạc Xuân",
            &[
                ("lac-xuan-thon-lac-vien", "Thôn Lạc Viên"),
                ("lac-xuan-thon-diom", "Thôn Diom"),
            ],
        ),
        (
            "xa-tu-tra",
            "Xã Tu Tra",
            &[("tu-tra-thon-k-long", "Thôn K'Long Bong")],
        ),
        (
            "tt-thanh-my",
            "Thị trấn Thạnh Mỹ",
            &[("thanh-my-tdp-1", "Tổ dân phố Quảng Lập")],
        ),
    ];
    for (id, name, hamlets) in communes {
        v.push(node(id, name, "commune", Some(root)));
        for (hid, hname) in hamlets {
            v.push(node(hid, hname, "hamlet", Some(id)));
        }
    }
    v
}

/// The sample plan (the user's own document), imported by the plan importer as an editor would.
const DEMO_PLAN_TEXT: &str = include_str!("../fixtures/ke-hoach-chi-thi-18-2022.txt");

/// The plan's trackable tasks in document order: contents and implementation sections, with their
/// sub-tasks (purposes and requirements are text, not tasks).
fn demo_tasks(draft: &crate::plan_import::PlanDraft) -> Vec<Task> {
    fn walk(ts: &[crate::plan_import::TaskDraft], out: &mut Vec<Task>) {
        for t in ts {
            out.push(Task {
                id: format!("t-{}", t.number.to_lowercase().replace('.', "-")),
                number: t.number.clone(),
                title: t.title.clone(),
                text: t.text.clone(),
                order: out.len() as i64 + 1,
                deadline: t.deadline.clone(),
            });
            walk(&t.children, out);
        }
    }
    let mut out = Vec::new();
    for s in draft.sections.iter().filter(|s| s.kind != "purposes") {
        walk(&s.tasks, &mut out);
    }
    out
}

fn server_doc(key: &DocKey) -> anyhow::Result<Automerge> {
    let mut doc = schema::genesis_doc(key)?;
    doc.set_actor(server_actor());
    Ok(doc)
}

/// Seed an empty data dir. Returns the lines to print once (accounts and passwords).
pub async fn seed_if_empty(
    db: &Db,
    storage: &SqliteStorage,
    demo: bool,
    quarter: Quarter,
) -> anyhow::Result<Vec<String>> {
    if !db.is_empty()? {
        return Ok(Vec::new());
    }
    if !demo {
        let root = node(
            "root",
            "Cấp tổng hợp (đổi tên trong phần quản trị)",
            "root",
            None,
        );
        db.upsert_node(&root)?;
        let password = random_hex(12);
        db.create_user(
            "admin",
            "Quản trị viên",
            &hash_password(&password),
            Role::Admin,
            "root",
        )?;
        write_org(db, storage).await?;
        return Ok(vec![
            "First start: created the administrator account.".into(),
            format!("  username: admin    password: {password}"),
            "  This password is shown only once. Keep it safe.".into(),
        ]);
    }
    for n in demo_nodes() {
        db.upsert_node(&n)?;
    }
    write_org(db, storage).await?;

    let draft = crate::plan_import::import_text(DEMO_PLAN_TEXT)?;
    db.insert_plan(DEMO_PLAN_ID, &draft.title)?;
    let key = DocKey::plan(DEMO_PLAN_ID);
    let mut plan = server_doc(&key)?;
    schema::put_root_str(&mut plan, "title", &format!("Kế hoạch {}", draft.title))?;
    for t in demo_tasks(&draft) {
        schema::put_task(&mut plan, &t)?;
    }
    seed_document(storage, &key.doc_id(), &plan).await;

    // The current quarter's notes document of each commune exists from the start, so that clients
    // which cannot compute our genesis change (e.g. the stock automerge-repo) can find and write it.
    for n in db.nodes()?.iter().filter(|n| n.level == "commune") {
        let key = DocKey::notes(&n.id, quarter);
        seed_document(storage, &key.doc_id(), &schema::genesis_doc(&key)?).await;
    }

    seed_demo_activity(storage, quarter).await?;

    let hash = hash_password(DEMO_PASSWORD);
    let users = [
        ("admin", "Quản trị (demo)", Role::Admin, "huyen-demo"),
        (
            "huyen",
            "Ban Dân vận Huyện ủy (demo)",
            Role::Viewer,
            "huyen-demo",
        ),
        (
            "bientap",
            "Biên tập kế hoạch, Ban Dân vận (demo)",
            Role::Editor,
            "huyen-demo",
        ),
        (
            "kadon",
            "Cán bộ MTTQ xã Ka Đơn (demo)",
            Role::Member,
            "xa-ka-don",
        ),
        (
            "kadon2",
            "Hội Phụ nữ xã Ka Đơn (demo)",
            Role::Member,
            "xa-ka-don",
        ),
        (
            "lacxuan",
            "Cán bộ MTTQ xã Lạc Xuân (demo)",
            Role::Member,
            "xa-lac-xuan",
        ),
    ];
    let mut lines = vec![format!(
        "Demo data created (DỮ LIỆU DEMO). Accounts, password `{DEMO_PASSWORD}` for all:"
    )];
    for (u, name, role, node) in users {
        db.create_user(u, name, &hash, role, node)?;
        lines.push(format!("  {u:<8} {:<7} {name}", role.as_str()));
    }
    Ok(lines)
}

/// The actor of the demo's field activity: a pretend phone, so the read model treats it as synced
/// work (the communes with demo accounts start empty, for the tests and for a clean first try).
fn demo_device() -> ActorId {
    ActorId::from(&b"danvan-demo-dev1"[..])
}

/// Deterministic, plausible field work in the two communes without demo accounts: notes in this and
/// the previous quarter, and their units' progress on a few tasks.
async fn seed_demo_activity(storage: &SqliteStorage, quarter: Quarter) -> anyhow::Result<()> {
    let notes: [(&str, &str, &str, &str); 6] = [
        (
            "xa-tu-tra",
            "Hội nghị tuyên truyền Chỉ thị 18-CT/TU tại thôn K'Long Bong",
            "Ủy ban MTTQ xã phối hợp các đoàn thể tổ chức hội nghị; 52 người dự, 20 nữ, 35 đồng bào dân tộc thiểu số. Ghi nhận 2 kiến nghị về đường nội đồng.",
            "t-ii-1",
        ),
        (
            "xa-tu-tra",
            "Thăm hỏi hộ nghèo dịp cuối năm",
            "Hội Liên hiệp Phụ nữ xã thăm 8 hộ nghèo, trao 8 suất quà.",
            "t-ii-4-5",
        ),
        (
            "xa-tu-tra",
            "Giám sát việc giải quyết kiến nghị cử tri",
            "Ban Thanh tra nhân dân giám sát 3 kiến nghị; 2 đã giải quyết.",
            "t-ii-4-4",
        ),
        (
            "tt-thanh-my",
            "Vận động xây dựng khu dân cư kiểu mẫu tổ dân phố Quảng Lập",
            "Họp tổ dân phố, 40 hộ đăng ký tham gia.",
            "t-ii-4-5",
        ),
        (
            "tt-thanh-my",
            "Tập huấn chuyển đổi số cho cán bộ Mặt trận",
            "18 cán bộ tham dự; hướng dẫn dùng ứng dụng ghi chép.",
            "t-ii-4-3",
        ),
        (
            "tt-thanh-my",
            "Đối thoại với đoàn viên thanh niên",
            "Đoàn TNCS Hồ Chí Minh thị trấn tổ chức đối thoại; 60 đoàn viên dự.",
            "t-ii-4-7",
        ),
    ];
    // Fixed times: 10 days apart, ending in the first month of the current quarter.
    let base_day = format!("{:04}-{:02}-05", quarter.year, (quarter.q - 1) * 3 + 1);
    let base_ms = shared::status::end_of_day_vn(&base_day).unwrap_or(0);
    let mut by_doc: std::collections::BTreeMap<DocKey, Automerge> = Default::default();
    for (i, (commune, title, content, task)) in notes.iter().enumerate() {
        let at = base_ms - (i as i64 % 3) * 10 * 86_400_000;
        let (y, m, d) = shared::ids::vn_civil_date(at - 1);
        let date = format!("{y:04}-{m:02}-{d:02}");
        let key = DocKey::notes(commune, Quarter::of_month(y, m));
        let doc = match by_doc.entry(key.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let mut d = schema::genesis_doc(&key)?;
                d.set_actor(demo_device());
                v.insert(d)
            }
        };
        let note = schema::Note {
            id: schema::ulid(at as u64, [i as u8; 10]),
            activity_date: date,
            title: (*title).into(),
            content: (*content).into(),
            task_id: Some((*task).into()),
            author: "demo".into(),
            created_at: at,
        };
        schema::put_note(doc, &note)?;
    }
    for commune in ["xa-tu-tra", "tt-thanh-my"] {
        let key = DocKey::progress(DEMO_PLAN_ID, commune);
        let mut doc = schema::genesis_doc(&key)?;
        doc.set_actor(demo_device());
        for (task, unit, percent) in [
            ("t-ii-1", "ubmttq", 80u8),
            ("t-ii-4", "ubmttq", 60),
            ("t-ii-4", "hoi-phu-nu", 45),
            ("t-ii-4-5", "hoi-nong-dan", 30),
        ] {
            schema::put_progress(
                &mut doc,
                &schema::ProgressRecord {
                    task_id: task.into(),
                    unit: unit.into(),
                    percent,
                    remark: String::new(),
                    by: "demo".into(),
                    at: base_ms,
                    done_at: None,
                },
            )?;
        }
        by_doc.insert(key, doc);
    }
    for (key, doc) in by_doc {
        seed_document(storage, &key.doc_id(), &doc).await;
    }
    Ok(())
}

async fn write_org(db: &Db, storage: &SqliteStorage) -> anyhow::Result<()> {
    let key = DocKey::org();
    let mut org = server_doc(&key)?;
    for n in db.nodes()? {
        schema::put_org_node(
            &mut org,
            &OrgNode {
                id: n.id,
                name: n.name,
                level: n.level,
                parent: n.parent,
            },
        )?;
    }
    seed_document(storage, &key.doc_id(), &org).await;
    Ok(())
}
