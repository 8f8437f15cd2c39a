//! Schema versioning: documents written by version 1 (fixtures kept byte-for-byte) load, migrate
//! forward without loss, and fields this version does not know survive its writes.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc, ScalarValue, Value};
use shared::schema::*;
use shared::{DocKey, DocKind, Quarter};

fn fixture(name: &str) -> Automerge {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture present");
    Automerge::load(&bytes).expect("fixture loads")
}

fn scalar(doc: &Automerge, obj: &automerge::ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key).unwrap()? {
        (Value::Scalar(s), _) => Some(s.into_owned()),
        _ => None,
    }
}

fn note_obj(doc: &Automerge, id: &str) -> automerge::ObjId {
    let (_, c) = doc.get(ROOT, "notes").unwrap().unwrap();
    doc.get(&c, id).unwrap().unwrap().1
}

#[test]
fn version_1_notes_read_migrate_and_keep_unknown_fields() {
    let mut doc = fixture("notes-v1.automerge");
    assert_eq!(doc_schema(&doc), 1);
    let before = read_notes(&doc);
    assert_eq!(before.len(), 2);
    let linked = before.iter().find(|n| n.id.ends_with('1')).unwrap();
    assert_eq!(
        linked.task_ids,
        vec!["t-ii-4".to_string()],
        "v1 task_id reads as task_ids"
    );
    assert_eq!(linked.title, "Họp dân bon Ka Rái");
    assert_eq!(
        linked.created_at, 1_786_000_000_000,
        "v1 timestamps read as ms"
    );
    assert_eq!(linked.content, "45 người dự, 12 nữ.\nKiến nghị sửa đường.");

    assert!(migrate(&mut doc).unwrap());
    assert_eq!(doc_schema(&doc), SCHEMA_VERSION);
    assert_eq!(
        read_notes(&doc),
        before,
        "nothing lost or changed by the migration"
    );
    // The list is really written (not only read through the fallback), and the old key stays.
    let n1 = note_obj(&doc, &linked.id);
    assert!(matches!(
        doc.get(&n1, "task_ids").unwrap(),
        Some((Value::Object(_), _))
    ));
    assert_eq!(scalar(&doc, &n1, "task_id"), Some("t-ii-4".into()));
    // Fields a newer app wrote survive.
    let n2 = note_obj(&doc, "01K0V1NOTE0000000000000002");
    assert_eq!(scalar(&doc, &n2, "x_weather"), Some("mưa".into()));
    assert_eq!(
        scalar(&doc, &ROOT, "x_future_root"),
        Some(ScalarValue::Int(7))
    );

    // Idempotent: a second migration makes no change.
    let heads = doc.get_heads();
    assert!(!migrate(&mut doc).unwrap());
    assert_eq!(doc.get_heads(), heads);

    // Editing the note with the field the newer app added: the unknown field is still there.
    let mut edited = before
        .iter()
        .find(|n| n.id == "01K0V1NOTE0000000000000002")
        .unwrap()
        .clone();
    edited.results = "Đã tuyên truyền cho 30 hộ".into();
    put_note(&mut doc, &edited).unwrap();
    let n2 = note_obj(&doc, "01K0V1NOTE0000000000000002");
    assert_eq!(scalar(&doc, &n2, "x_weather"), Some("mưa".into()));
    assert_eq!(read_notes(&doc)[0].results, "Đã tuyên truyền cho 30 hộ");
}

#[test]
fn a_version_2_write_upgrades_a_version_1_document_in_the_same_change() {
    let mut doc = fixture("notes-v1.automerge");
    let changes = doc.get_changes(&[]).len();
    let note = Note {
        id: "01K0V2NOTE".into(),
        activity_date: "2026-09-20".into(),
        title: "Thăm hộ nghèo".into(),
        task_ids: vec!["t-ii-4".into(), "t-ii-2".into()],
        participants: Participants {
            total: 45,
            women: 12,
            ethnic_minority: 30,
            religious: 0,
        },
        petitions: vec![Petition {
            text: "Sửa đường vào bon".into(),
            status: "moi".into(),
        }],
        gps: Some(Gps {
            lat: 11.8,
            lon: 108.5,
            accuracy_m: 12.0,
        }),
        ..Note::default()
    };
    put_note(&mut doc, &note).unwrap();
    assert_eq!(doc.get_changes(&[]).len(), changes + 1);
    assert_eq!(doc_schema(&doc), SCHEMA_VERSION);
    let notes = read_notes(&doc);
    assert_eq!(notes.len(), 3);
    assert_eq!(notes.iter().find(|n| n.id == "01K0V2NOTE"), Some(&note));
    // Version-1 readers still see the first linked task.
    assert_eq!(
        scalar(&doc, &note_obj(&doc, "01K0V2NOTE"), "task_id"),
        Some("t-ii-4".into())
    );
}

#[test]
fn concurrent_migrations_converge() {
    let base = fixture("notes-v1.automerge");
    let mut a = base.fork().with_actor(ActorId::from(&[0xA1u8; 16][..]));
    let mut b = base.fork().with_actor(ActorId::from(&[0xB2u8; 16][..]));
    migrate(&mut a).unwrap();
    migrate(&mut b).unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    assert_eq!(read_notes(&a), read_notes(&b));
    assert_eq!(read_notes(&a), read_notes(&base));
    assert_eq!(doc_schema(&a), SCHEMA_VERSION);
}

#[test]
fn version_1_plan_org_and_progress_read_and_migrate() {
    let mut plan = fixture("plan-v1.automerge");
    let tasks = read_tasks(&plan);
    let numbers: Vec<&str> = tasks.iter().map(|t| t.number.as_str()).collect();
    assert_eq!(
        numbers,
        ["II.2", "II.4", "III.5"],
        "v1 string order still sorts"
    );
    assert_eq!(tasks[1].deadline.as_deref(), Some("2026-12-31"));
    assert_eq!(tasks[1].order, 2);
    assert_eq!(
        read_plan_header(&plan).title,
        "Kế hoạch thực hiện Chỉ thị 18"
    );
    migrate(&mut plan).unwrap();
    assert_eq!(read_tasks(&plan), tasks);
    assert!(check(&plan, DocKind::Plan).is_empty());

    let mut org = fixture("org-v1.automerge");
    let nodes = read_org(&org);
    assert_eq!(nodes.len(), 3);
    assert!(
        nodes
            .iter()
            .any(|n| n.id == "ka-don-bon-ka-rai" && n.level == shared::vocab::OrgLevel::Hamlet)
    );
    migrate(&mut org).unwrap();
    assert_eq!(read_org(&org), nodes);

    let mut progress = fixture("progress-v1.automerge");
    let records = read_progress(&progress);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].percent, 60);
    assert_eq!(records[0].done_at, Some(1_787_000_000_000));
    migrate(&mut progress).unwrap();
    assert_eq!(read_progress(&progress), records);
    assert!(check(&progress, DocKind::Progress).is_empty());
}

#[test]
fn a_newer_document_is_not_downgraded_and_keeps_what_this_version_does_not_know() {
    let key = DocKey::plan("kh-x");
    let mut doc = genesis_doc(&key).unwrap();
    put_task(
        &mut doc,
        &Task {
            id: "t-1".into(),
            number: "1".into(),
            title: "Tuyên truyền".into(),
            ..Task::default()
        },
    )
    .unwrap();
    // A future version 3 app adds a field to the task and a root field, and bumps the version.
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let (_, c) = tx.get(ROOT, "tasks")?.unwrap();
        let (_, t) = tx.get(&c, "t-1")?.unwrap();
        tx.put(&t, "x_budget", 1_000_000i64)?;
        tx.put(ROOT, "schema", 3u64)?;
        Ok(())
    })
    .unwrap();
    // This version edits the task.
    set_task_deadline(&mut doc, "t-1", Some("2026-12-31")).unwrap();
    assert_eq!(doc_schema(&doc), 3, "never lowered");
    let (_, c) = doc.get(ROOT, "tasks").unwrap().unwrap();
    let (_, t) = doc.get(&c, "t-1").unwrap().unwrap();
    assert_eq!(
        scalar(&doc, &t, "x_budget"),
        Some(ScalarValue::Int(1_000_000))
    );
    assert_eq!(read_tasks(&doc)[0].deadline.as_deref(), Some("2026-12-31"));
}

#[test]
fn entries_of_the_wrong_shape_are_reported_not_read() {
    let mut notes = genesis_doc(&DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 })).unwrap();
    let mut plan = genesis_doc(&DocKey::plan("kh-x")).unwrap();
    let mut progress = genesis_doc(&DocKey::progress("kh-x", "xa-ka-don")).unwrap();
    let mut org = genesis_doc(&DocKey::org()).unwrap();
    let hostile =
        |doc: &mut Automerge, container: &str, key: &str, fields: &[(&str, ScalarValue)]| {
            doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                let (_, c) = tx.get(ROOT, container)?.unwrap();
                let e = tx.put_object(&c, key, automerge::ObjType::Map)?;
                for (k, v) in fields {
                    tx.put(&e, *k, v.clone())?;
                }
                Ok(())
            })
            .unwrap();
        };
    hostile(
        &mut notes,
        "notes",
        "n1",
        &[
            ("activity_date", "2026-10-01".into()),
            ("title", 42i64.into()),
        ],
    );
    hostile(
        &mut plan,
        "tasks",
        "t1",
        &[("number", "1".into()), ("deadline", "soon".into())],
    );
    hostile(
        &mut progress,
        "records",
        "t1@mttq",
        &[
            ("task_id", "t1".into()),
            ("unit", "mttq".into()),
            ("percent", 500i64.into()),
        ],
    );
    hostile(
        &mut org,
        "nodes",
        "x",
        &[("name", "X".into()), ("level", "<b>galaxy</b>".into())],
    );
    // A level a newer version could have written is kept, not quarantined: older readers skip it.
    hostile(
        &mut org,
        "nodes",
        "y",
        &[("name", "Y".into()), ("level", "cluster".into())],
    );
    for (doc, kind) in [
        (&notes, DocKind::Notes),
        (&plan, DocKind::Plan),
        (&progress, DocKind::Progress),
        (&org, DocKind::Org),
    ] {
        let bad = check(doc, kind);
        assert_eq!(bad.len(), 1, "{kind:?}: {bad:?}");
    }
    assert!(read_notes(&notes).is_empty());
    assert!(read_progress(&progress).is_empty());
    assert!(read_org(&org).is_empty());
}
