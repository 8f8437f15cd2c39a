//! First start: the demo org, plan and accounts (`--demo`), or a lone administrator with a random
//! password (a real deployment never gets a known password).

use crate::access::Role;
use crate::auth::{hash_password, random_hex};
use crate::db::{Db, NodeRow};
use crate::storage::DocStorage;
use crate::sync::seed_document;
use automerge::{ActorId, Automerge};
use shared::schema::{self, OrgNode};
use shared::vocab::OrgLevel;
use shared::{DocKey, Quarter};

pub const DEMO_PASSWORD: &str = "danvan-demo";
pub const DEMO_PLAN_ID: &str = "kh-ct18-2022";

fn node(id: &str, name: &str, level: &str, parent: Option<&str>) -> NodeRow {
    NodeRow {
        id: id.into(),
        name: name.into(),
        level: OrgLevel::parse(level),
        parent: parent.map(Into::into),
        removed: false,
    }
}

/// The demo district: clearly marked as demo data, eight communes of a Lâm Đồng district and their
/// hamlets (thôn, bon, tổ dân phố).
fn demo_nodes() -> Vec<NodeRow> {
    let root = "huyen-demo";
    let mut v = vec![node(root, "Huyện Đơn Dương (DỮ LIỆU DEMO)", "root", None)];
    type Commune<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let communes: [Commune; 8] = [
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
            &[
                ("tu-tra-thon-k-long", "Thôn K'Long Bong"),
                ("tu-tra-thon-kinh-tai", "Thôn Kinh Tế"),
            ],
        ),
        (
            "tt-thanh-my",
            "Thị trấn Thạnh Mỹ",
            &[
                ("thanh-my-tdp-1", "Tổ dân phố Quảng Lập"),
                ("thanh-my-tdp-2", "Tổ dân phố Thạnh Nghĩa"),
            ],
        ),
        (
            "tt-d-ran",
            "Thị trấn D'Ran",
            &[
                ("d-ran-tdp-lam-tuyen", "Tổ dân phố Lâm Tuyền"),
                ("d-ran-thon-kiet-thanh", "Thôn Kiết Thanh"),
            ],
        ),
        (
            "xa-ka-do",
            "Xã Ka Đô",
            &[
                ("ka-do-bon-nam-hang", "Bon Nam Hang"),
                ("ka-do-thon-ka-do-moi", "Thôn Ka Đô Mới"),
            ],
        ),
        (
            "xa-quang-lap",
            "Xã Quảng Lập",
            &[("quang-lap-thon-p-ro", "Thôn Pró Trong")],
        ),
        (
            "xa-pro",
            "Xã Pró",
            &[
                ("pro-thon-pro-ngoai", "Thôn Pró Ngoài"),
                ("pro-bon-ma-danh", "Bon Ma Đanh"),
            ],
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

/// The units (organisations) of the demo: the district's bodies the plan names, and the Front and
/// the four mass organisations in every commune.
fn demo_units(nodes: &[NodeRow]) -> Vec<OrgNode> {
    let mut out = Vec::new();
    let mut unit = |parent: &str, kind: &str, suffix: &str| {
        let base = schema::UNIT_KINDS
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map_or(kind, |(_, vi, _)| *vi);
        out.push(OrgNode {
            id: format!("{parent}.{kind}"),
            name: format!("{base} {suffix}"),
            level: "unit".into(),
            parent: Some(parent.into()),
            kind: Some(kind.into()),
            removed: false,
        });
    };
    for n in nodes {
        match n.level.as_str() {
            "root" => {
                for k in ["ban-dan-van", "ban-to-chuc", "mttq", "ubnd"] {
                    unit(&n.id, k, "huyện");
                }
            }
            "commune" => {
                let suffix = if n.id.starts_with("tt-") {
                    "thị trấn"
                } else {
                    "xã"
                };
                for k in [
                    "mttq",
                    "hoi-nong-dan",
                    "hoi-phu-nu",
                    "doan-thanh-nien",
                    "hoi-ccb",
                ] {
                    unit(&n.id, k, suffix);
                }
            }
            _ => {}
        }
    }
    out
}

/// The sample plan (the user's own document), imported by the plan importer as an editor would.
const DEMO_PLAN_TEXT: &str = include_str!("../fixtures/ke-hoach-chi-thi-18-2022.txt");

/// Deadlines the demo editor set after publishing (the sample states none), relative to the current
/// quarter so that every status shows: (task, days after the quarter's first day).
const DEMO_DEADLINES: &[(&str, i64)] = &[
    ("t-ii-1", 20),
    ("t-ii-4-3", 45),
    ("t-ii-4-5", 80),
    ("t-ii-4-7", 100),
    ("t-iii-4", 200),
];

fn server_doc(key: &DocKey) -> anyhow::Result<Automerge> {
    let mut doc = schema::genesis_doc(key)?;
    doc.set_actor(crate::clock::server_actor());
    Ok(doc)
}

/// Seed an empty data dir. Returns the lines to print once (accounts and passwords).
pub async fn seed_if_empty(
    db: &Db,
    storage: &DocStorage,
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
            &Role::Admin,
            "root",
        )?;
        write_org(db, storage, &[]).await?;
        return Ok(vec![
            "First start: created the administrator account.".into(),
            format!("  username: admin    password: {password}"),
            "  This password is shown only once. Keep it safe.".into(),
        ]);
    }
    let nodes = demo_nodes();
    for n in &nodes {
        db.upsert_node(n)?;
    }
    write_org(db, storage, &demo_units(&nodes)).await?;

    // The plan goes through the importer and the publisher, exactly as an editor's upload would.
    let draft = crate::plan_import::import_text(DEMO_PLAN_TEXT)?;
    let key = DocKey::plan(DEMO_PLAN_ID);
    let mut plan = server_doc(&key)?;
    let quarter_start = quarter_start_ms(quarter);
    crate::plan_publish::publish_into(&mut plan, &draft, "huyen-demo", quarter_start)?;
    for (task, days) in DEMO_DEADLINES {
        let (y, m, d) = shared::ids::vn_civil_date(quarter_start + days * DAY_MS);
        schema::set_task_deadline(&mut plan, task, Some(&format!("{y:04}-{m:02}-{d:02}")))?;
    }
    db.insert_plan(DEMO_PLAN_ID, &schema::read_plan_header(&plan).title)?;
    seed_document(storage, &key.doc_id(), &plan).await;

    // The current quarter's notes document of each commune exists from the start, so that clients
    // which cannot compute our genesis change (e.g. the stock automerge-repo) can find and write it.
    for n in db.nodes()?.iter().filter(|n| n.level == OrgLevel::Commune) {
        let key = DocKey::notes(&n.id, quarter);
        seed_document(storage, &key.doc_id(), &schema::genesis_doc(&key)?).await;
    }

    seed_demo_activity(storage, &nodes, quarter).await?;

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
        db.create_user(u, name, &hash, &role, node)?;
        lines.push(format!("  {u:<8} {:<7} {name}", role.as_str()));
    }
    Ok(lines)
}

const DAY_MS: i64 = 86_400_000;

/// Unix ms of 00:00 (Asia/Ho_Chi_Minh) on the first day of `q`.
fn quarter_start_ms(q: Quarter) -> i64 {
    let first = format!("{:04}-{:02}-01", q.year, (q.q - 1) * 3 + 1);
    shared::status::end_of_day_vn(&first).unwrap_or(0) - DAY_MS
}

/// The actor of the demo's field activity: a pretend phone, so the read model treats it as synced
/// work (the communes with demo accounts start empty, for the tests and for a clean first try).
fn demo_device() -> ActorId {
    ActorId::from(&b"danvan-demo-dev1"[..])
}

/// Communes with demo accounts: they start with no field work.
const ACCOUNT_COMMUNES: &[&str] = &["xa-ka-don", "xa-lac-xuan"];

/// Field notes the demo draws from: (type, unit, title, content, task, participants total, women,
/// ethnic minority, petition).
type NoteTemplate<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
    i64,
    i64,
    &'a str,
);
const NOTE_TEMPLATES: &[NoteTemplate] = &[
    (
        "hoi-nghi",
        "mttq",
        "Hội nghị tuyên truyền Chỉ thị 18-CT/TU",
        "Ủy ban MTTQ phối hợp các đoàn thể tổ chức hội nghị quán triệt Chỉ thị 18-CT/TU và kế hoạch của Huyện ủy.",
        "t-ii-1",
        52,
        20,
        35,
        "Đề nghị sửa đường nội đồng trước mùa mưa.",
    ),
    (
        "tham-hoi",
        "hoi-phu-nu",
        "Thăm hỏi hộ nghèo, hộ cận nghèo",
        "Hội Liên hiệp Phụ nữ thăm 8 hộ nghèo, trao 8 suất quà; nắm tâm tư của hội viên.",
        "t-ii-4-5",
        12,
        9,
        6,
        "",
    ),
    (
        "giam-sat",
        "mttq",
        "Giám sát việc giải quyết kiến nghị cử tri",
        "Ban Thanh tra nhân dân giám sát 3 kiến nghị; 2 kiến nghị đã được giải quyết.",
        "t-ii-4-4",
        9,
        3,
        2,
        "Đề nghị UBND trả lời kiến nghị về cấp nước sinh hoạt.",
    ),
    (
        "van-dong",
        "hoi-nong-dan",
        "Vận động xây dựng khu dân cư kiểu mẫu",
        "Họp dân, 40 hộ đăng ký tham gia hiến đất làm đường và chỉnh trang hàng rào.",
        "t-ii-4-5",
        40,
        15,
        22,
        "",
    ),
    (
        "tuyen-truyen",
        "doan-thanh-nien",
        "Đối thoại với đoàn viên thanh niên",
        "Đoàn TNCS Hồ Chí Minh tổ chức đối thoại về việc làm và khởi nghiệp; 60 đoàn viên dự.",
        "t-ii-4-7",
        60,
        28,
        31,
        "Đề nghị mở lớp dạy nghề sửa chữa máy nông nghiệp.",
    ),
    (
        "hoi-nghi",
        "hoi-ccb",
        "Sinh hoạt chuyên đề của Hội Cựu chiến binh",
        "Hội Cựu chiến binh sinh hoạt chuyên đề về giữ gìn an ninh trật tự ở khu dân cư.",
        "t-ii-4-3",
        25,
        2,
        8,
        "",
    ),
];

/// Deterministic, plausible field work in every commune without demo accounts: notes spread over
/// this and the previous quarter, and their units' progress on the plan's tasks.
async fn seed_demo_activity(
    storage: &DocStorage,
    nodes: &[NodeRow],
    quarter: Quarter,
) -> anyhow::Result<()> {
    let start = quarter_start_ms(quarter);
    let communes: Vec<&NodeRow> = nodes
        .iter()
        .filter(|n| n.level == OrgLevel::Commune && !ACCOUNT_COMMUNES.contains(&n.id.as_str()))
        .collect();
    let mut by_doc: std::collections::BTreeMap<DocKey, Automerge> = Default::default();
    fn doc_for(
        by_doc: &mut std::collections::BTreeMap<DocKey, Automerge>,
        key: DocKey,
    ) -> anyhow::Result<&mut Automerge> {
        Ok(match by_doc.entry(key.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let mut d = schema::genesis_doc(&key)?;
                d.set_actor(demo_device());
                v.insert(d)
            }
        })
    }
    for (ci, commune) in communes.iter().enumerate() {
        let hamlets: Vec<&NodeRow> = nodes
            .iter()
            .filter(|n| n.parent.as_deref() == Some(commune.id.as_str()))
            .collect();
        // 3 to 5 notes per commune, from 70 days before the quarter to 10 days into it.
        for i in 0..3 + ci % 3 {
            let t = NOTE_TEMPLATES[(ci + i * 2) % NOTE_TEMPLATES.len()];
            let (kind, unit, title, content, task, total, women, ethnic, petition) = t;
            let at = start - 70 * DAY_MS + ((ci * 7 + i * 19) as i64 % 80) * DAY_MS + 9 * 3_600_000;
            let (y, m, d) = shared::ids::vn_civil_date(at);
            let hamlet = hamlets.get(i % hamlets.len().max(1));
            let note = schema::Note {
                id: shared::ids::ulid(at as u64, [(ci * 16 + i) as u8; 10]),
                activity_date: format!("{y:04}-{m:02}-{d:02}"),
                title: format!(
                    "{title} — {}",
                    hamlet.map_or(commune.name.as_str(), |h| &h.name)
                ),
                content: content.into(),
                task_ids: vec![task.into()],
                hamlet: hamlet.map(|h| h.id.clone()),
                activity_type: Some(kind.into()),
                unit: Some(unit.into()),
                participants: schema::Participants {
                    total,
                    women,
                    ethnic_minority: ethnic,
                    religious: total / 10,
                },
                results: format!("{total} người tham dự."),
                petitions: (!petition.is_empty())
                    .then(|| schema::Petition {
                        text: petition.into(),
                        status: shared::vocab::PetitionStatus::ALL[i % 4].clone(),
                    })
                    .into_iter()
                    .collect(),
                author: "demo".into(),
                created_at: at,
                ..schema::Note::default()
            };
            schema::put_note(
                doc_for(
                    &mut by_doc,
                    DocKey::notes(&commune.id, Quarter::of_month(y, m)),
                )?,
                &note,
            )?;
        }
        // Progress of the commune's units: some done (on time or late), some under way.
        let doc = doc_for(&mut by_doc, DocKey::progress(DEMO_PLAN_ID, &commune.id))?;
        let rows: [(&str, &str, i64, Option<i64>); 5] = [
            (
                "t-ii-1",
                "mttq",
                100,
                Some(start + (10 + ci as i64 * 3) * DAY_MS),
            ),
            ("t-ii-2", "mttq", 100, Some(start + 5 * DAY_MS)),
            ("t-ii-4-3", "mttq", 40 + 10 * (ci as i64 % 5), None),
            ("t-ii-4-5", "hoi-phu-nu", 30 + 15 * (ci as i64 % 4), None),
            ("t-ii-4-5", "hoi-nong-dan", 20 + 20 * (ci as i64 % 3), None),
        ];
        for (task, unit, percent, done_at) in rows.into_iter().skip(ci % 2) {
            schema::put_progress(
                doc,
                &schema::ProgressRecord {
                    task_id: task.into(),
                    unit: unit.into(),
                    percent,
                    remark: if done_at.is_some() {
                        "Đã hoàn thành, có báo cáo gửi Ban Dân vận.".into()
                    } else {
                        "Đang triển khai ở các thôn.".into()
                    },
                    by: "demo".into(),
                    at: done_at.unwrap_or(start + 12 * DAY_MS),
                    done_at,
                },
            )?;
        }
    }
    for (key, doc) in by_doc {
        seed_document(storage, &key.doc_id(), &doc).await;
    }
    Ok(())
}

async fn write_org(db: &Db, storage: &DocStorage, units: &[OrgNode]) -> anyhow::Result<()> {
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
                ..OrgNode::default()
            },
        )?;
    }
    for u in units {
        schema::put_org_node(&mut org, u)?;
    }
    seed_document(storage, &key.doc_id(), &org).await;
    Ok(())
}
