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

/// A first cut of the sample plan's tasks (the importer of issue 3 replaces this with the full text).
fn demo_tasks() -> Vec<Task> {
    let t = |order: i64, number: &str, title: &str, text: &str| Task {
        id: format!("t-{}", number.to_lowercase().replace('.', "-")),
        number: number.into(),
        title: title.into(),
        text: text.into(),
        order,
    };
    vec![
        t(
            1,
            "II.1",
            "Nâng cao nhận thức về vị trí, vai trò của Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội",
            "Các cấp ủy Đảng, chính quyền trong huyện và cán bộ, đảng viên tiếp tục nhận thức đầy đủ về vị trí, vai trò, chức năng, nhiệm vụ của Mặt trận Tổ quốc và các đoàn thể chính trị-xã hội.",
        ),
        t(
            2,
            "II.2",
            "Đổi mới phong cách lãnh đạo của cấp ủy đối với Mặt trận Tổ quốc và các đoàn thể",
            "Định kỳ hàng quý, Thường trực cấp ủy nghe báo cáo và định hướng nhiệm vụ trọng tâm của Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội.",
        ),
        t(
            3,
            "II.3",
            "Nâng cao chất lượng thực hiện quy chế phối hợp giữa chính quyền với Mặt trận và các đoàn thể",
            "Chính quyền các cấp nâng cao chất lượng thực hiện quy chế phối hợp công tác với Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội.",
        ),
        t(
            4,
            "II.4",
            "Đổi mới nội dung, phương thức hoạt động của Mặt trận và các đoàn thể, hướng về cơ sở",
            "Tăng cường đổi mới tổ chức và nội dung, phương thức, nâng cao chất lượng, hiệu quả hoạt động của Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội, hướng mạnh về cơ sở và địa bàn khu dân cư.",
        ),
        t(
            5,
            "II.5",
            "Bố trí, sắp xếp tổ chức bộ máy, cán bộ Mặt trận và các đoàn thể theo hướng tinh gọn",
            "Tiếp tục bố trí, sắp xếp tổ chức bộ máy, cán bộ Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội theo hướng tinh gọn, hoạt động hiệu quả.",
        ),
        t(
            6,
            "III.5",
            "Theo dõi, kiểm tra, giám sát và báo cáo kết quả thực hiện kế hoạch",
            "Giao Ban Dân vận Huyện ủy chủ trì, phối hợp với các tổ chức Đảng, Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội thường xuyên theo dõi, kiểm tra, giám sát và báo cáo kết quả thực hiện kế hoạch này với Ban Thường vụ Huyện ủy.",
        ),
    ]
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

    db.insert_plan(
        DEMO_PLAN_ID,
        "Kế hoạch thực hiện Chỉ thị số 18-CT/TU năm 2022",
    )?;
    let key = DocKey::plan(DEMO_PLAN_ID);
    let mut plan = server_doc(&key)?;
    schema::put_root_str(
        &mut plan,
        "title",
        "Kế hoạch thực hiện Chỉ thị số 18-CT/TU của Ban Thường vụ Tỉnh ủy năm 2022",
    )?;
    for t in demo_tasks() {
        schema::put_task(&mut plan, &t)?;
    }
    seed_document(storage, &key.doc_id(), &plan).await;

    // The current quarter's notes document of each commune exists from the start, so that clients
    // which cannot compute our genesis change (e.g. the stock automerge-repo) can find and write it.
    for n in db.nodes()?.iter().filter(|n| n.level == "commune") {
        let key = DocKey::notes(&n.id, quarter);
        seed_document(storage, &key.doc_id(), &schema::genesis_doc(&key)?).await;
    }

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
