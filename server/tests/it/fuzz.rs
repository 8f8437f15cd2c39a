//! Hostile and random input (issue 17): property tests over arbitrary and mutated bytes for every
//! decoder that reads what a phone or a user sends — the sync frame check and decoder, Automerge's
//! sync message, the plan importer (text and .docx/zip), the `Content-Range` parser and the JSON
//! body of every endpoint that takes one. None may panic or hang (nor answer 500); what they accept must make sense. Seeded (`DANVAN_FUZZ_SEED`), 10,000 cases per
//! target here, more with `DANVAN_FUZZ_CASES` (the figures in docs/benchmarks.md). Not
//! coverage-guided: cargo-fuzz needs a nightly toolchain, which this project does not use.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use http_body_util::BodyExt;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use shared::wire::{WireMessage, check_frame};
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn cases() -> usize {
    std::env::var("DANVAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn rng(target: &str) -> StdRng {
    let seed: u64 = std::env::var("DANVAN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(17);
    // One stream per target, so adding a target does not change the others' cases.
    let salt = target
        .bytes()
        .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    StdRng::seed_from_u64(seed ^ salt)
}

/// A case from `valid` inputs: mostly one of them mutated (bytes flipped, inserted, removed,
/// cut, spliced with another), sometimes plain random bytes.
fn mutate(rng: &mut StdRng, valid: &[Vec<u8>]) -> Vec<u8> {
    if rng.random_ratio(1, 8) {
        let mut b = vec![0u8; rng.random_range(0..256)];
        rng.fill_bytes(&mut b);
        return b;
    }
    let mut b = valid[rng.random_range(0..valid.len())].clone();
    for _ in 0..rng.random_range(1..6) {
        let len = b.len();
        match rng.random_range(0..6) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                b[i] = *[0x00, 0xff, 0x7f, 0x80, 0x1b, 0x5b, 0x9f, 0xbf, 0xf6, 0xfa]
                    .get(rng.random_range(0..10))
                    .unwrap();
            }
            2 => {
                let i = rng.random_range(0..=len);
                b.insert(i, rng.random());
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                b.remove(i);
            }
            4 => b.truncate(rng.random_range(0..=len)),
            _ => {
                let other = &valid[rng.random_range(0..valid.len())];
                let at = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                b.splice(at.., other[from..].iter().copied());
            }
        }
    }
    b
}

/// Run `f` on `cases()` inputs, reporting the rate and the slowest case (a hang shows there).
fn run(target: &str, mut next: impl FnMut(&mut StdRng) -> Vec<u8>, mut f: impl FnMut(&[u8])) {
    let mut rng = rng(target);
    let started = Instant::now();
    let mut slowest = (Duration::ZERO, Vec::new());
    for _ in 0..cases() {
        let input = next(&mut rng);
        let t = Instant::now();
        f(&input);
        if t.elapsed() > slowest.0 {
            slowest = (t.elapsed(), input);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {target}: {} cases in {secs:.1} s ({:.0}/s), slowest {:?} ({} bytes)",
        cases(),
        cases() as f64 / secs,
        slowest.0,
        slowest.1.len()
    );
    assert!(
        slowest.0 < Duration::from_secs(2),
        "{target}: one case took {:?}: {:?}",
        slowest.0,
        slowest.1
    );
}

fn frames() -> Vec<Vec<u8>> {
    let doc: shared::DocumentId =
        shared::DocKey::notes("xa-ka-don", server::clock::current_quarter()).doc_id();
    let am = automerge::Automerge::new();
    let mut state = automerge::sync::State::new();
    let data = automerge::sync::SyncDoc::generate_sync_message(&am, &mut state)
        .map(|m| m.encode())
        .unwrap_or_default();
    [
        WireMessage::Join {
            sender_id: "dv-u1-abc".into(),
            supported_protocol_versions: vec!["1".into()],
        },
        WireMessage::Request {
            sender_id: "dv-u1-abc".into(),
            target_id: "danvan-server".into(),
            document_id: doc,
            data: data.clone(),
        },
        WireMessage::Sync {
            sender_id: "dv-u1-abc".into(),
            target_id: "danvan-server".into(),
            document_id: doc,
            data,
        },
        WireMessage::DocUnavailable {
            sender_id: "danvan-server".into(),
            target_id: "dv-u1-abc".into(),
            document_id: doc,
        },
    ]
    .iter()
    .map(WireMessage::encode)
    .collect()
}

#[test]
fn sync_frames_never_panic_and_what_passes_the_check_decodes() {
    let valid = frames();
    run(
        "frame",
        |r| mutate(r, &valid),
        |b| {
            let checked = check_frame(b);
            let decoded = WireMessage::decode(b);
            if let Ok(m) = &decoded {
                // What decodes encodes to a frame that decodes the same.
                assert_eq!(WireMessage::decode(&m.encode()).as_ref(), Ok(m));
            }
            if checked.is_ok() {
                assert!(
                    decoded.is_ok(),
                    "the gate passed a frame the decoder refuses: {b:?}"
                );
            }
        },
    );
}

#[test]
fn automerge_sync_messages_never_panic() {
    // Sync messages with changes in them, as a phone sends.
    let mut valid = Vec::new();
    let key = shared::DocKey::notes("xa-ka-don", server::clock::current_quarter());
    let mut am = shared::schema::genesis_doc(&key).unwrap();
    for i in 0..4 {
        let note = shared::schema::Note {
            id: format!("fz-{i}"),
            activity_date: "2026-10-01".into(),
            title: "Họp dân".into(),
            ..Default::default()
        };
        shared::schema::put_note(&mut am, &note).unwrap();
        let mut state = automerge::sync::State::new();
        let m = automerge::sync::SyncDoc::generate_sync_message(&am, &mut state).unwrap();
        valid.push(m.encode());
        let mut peer = automerge::Automerge::new();
        let mut ps = automerge::sync::State::new();
        automerge::sync::SyncDoc::receive_sync_message(
            &mut peer,
            &mut ps,
            automerge::sync::Message::decode(&valid[valid.len() - 1]).unwrap(),
        )
        .unwrap();
        if let Some(m) = automerge::sync::SyncDoc::generate_sync_message(&peer, &mut ps) {
            valid.push(m.encode());
        }
    }
    run(
        "automerge-sync",
        |r| mutate(r, &valid),
        |b| {
            if let Ok(m) = automerge::sync::Message::decode(b) {
                // And applying it to a document never panics either.
                let mut doc = automerge::Automerge::new();
                let mut state = automerge::sync::State::new();
                let _ = automerge::sync::SyncDoc::receive_sync_message(&mut doc, &mut state, m);
            }
        },
    );
}

#[test]
fn the_plan_importer_never_panics_on_text() {
    let sample = include_str!("../../fixtures/ke-hoach-chi-thi-18-2022.txt");
    let lines: Vec<&str> = sample.lines().collect();
    let pieces = [
        "I. ",
        "II.",
        "1.",
        "1.1.",
        "a)",
        "- ",
        "+ ",
        "Căn cứ ",
        "Thực hiện ",
        "Số 07-KH/ĐU",
        "Số: 125/KH-UBND",
        "ngày  02 tháng 4 năm 2026",
        "trước ngày 15/4/2026",
        "hằng quý",
        "chủ trì, phối hợp với",
        ":",
        "\t",
        "\n",
        "\r\n",
        "(",
        ")",
        "/",
        "-----",
        "*",
        "T/M BAN THƯỜNG VỤ",
        "Nơi nhận:",
        "\u{feff}",
        "\u{0}",
        "𝒳",
        "ĐỊNH KỲ 6 THÁNG (trước ngày 10/6)",
    ];
    run(
        "import-text",
        |r| {
            let mut s = String::new();
            match r.random_range(0..3) {
                // A slice of the sample plan.
                0 => {
                    let from = r.random_range(0..lines.len());
                    let to = r.random_range(from..=lines.len().min(from + 40));
                    s = lines[from..to].join("\n");
                }
                // Plan-like fragments in any order.
                1 => {
                    for _ in 0..r.random_range(0..60) {
                        s.push_str(pieces[r.random_range(0..pieces.len())]);
                        if r.random_ratio(1, 3) {
                            s.push_str(lines[r.random_range(0..lines.len())]);
                        }
                    }
                }
                // Arbitrary characters.
                _ => {
                    for _ in 0..r.random_range(0..300) {
                        s.push(char::from_u32(r.random_range(0..0x2_0000)).unwrap_or('x'));
                    }
                }
            }
            s.into_bytes()
        },
        |b| {
            let text = std::str::from_utf8(b).unwrap();
            if let Ok(draft) = server::plan_import::import_text(text) {
                let lost = lost_words(text, &draft);
                assert!(lost.is_empty(), "lost {lost:?} of {text:?}");
            }
        },
    );
}

static TABLE_MARK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^(?:\d{1,3}|[IVX]{1,5}|[a-zđ])[.)]?$").unwrap()
});
static NOI_NHAN: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"Nơi nhận[:\s]*(?:\S{1,4}(?:\s|$))?").unwrap());

/// Runs of letters and digits of `text` found nowhere in the draft (its fields, its tasks, the unclassified list):
/// the importer may leave out only list marks, ornaments and the national motto.
fn lost_words(text: &str, d: &shared::api::PlanDraft) -> Vec<String> {
    fn task(t: &shared::api::TaskDraft, out: &mut String) {
        for s in [&t.number, &t.title, &t.text]
            .into_iter()
            .chain(&t.lead_units)
            .chain(&t.partner_units)
        {
            out.push_str(s);
            out.push('\n');
        }
        t.children.iter().for_each(|c| task(c, out));
    }
    let mut kept = serde_json::to_string(&(
        &d.doc_type,
        &d.number,
        &d.title,
        &d.issuer,
        &d.place,
        &d.basis,
        &d.preamble,
        &d.recipients,
        &d.signer,
        &d.unclassified,
    ))
    .unwrap();
    // JSON escapes would hide words with quotes or control characters: the raw strings too.
    for part in d
        .preamble
        .iter()
        .chain(&d.unclassified)
        .chain(&d.recipients)
        .chain([&d.title])
    {
        kept.push_str(part);
        kept.push('\n');
    }
    // The plan's date was read from "ngày 2 tháng 4 năm 2026": its words are accounted for.
    if let Some(date) = &d.date {
        kept.push_str(" ngày tháng năm ");
        for part in date.split('-') {
            kept.push_str(&format!(" {part} {} ", part.trim_start_matches('0')));
        }
    }
    for s in &d.sections {
        kept.push_str(&format!("{}\n{}\n{}\n", s.number, s.title, s.intro));
        s.tasks.iter().for_each(|t| task(t, &mut kept));
    }
    // Most runs are found whole; the rest as part of a longer one.
    let whole: std::collections::HashSet<String> = runs(&kept).into_iter().collect();
    text.lines()
        .filter(|l| {
            let l = l.trim_start_matches('\u{feff}').trim();
            !(l.starts_with("CỘNG HÒA")
                || l.starts_with("CỘNG HOÀ")
                || l.starts_with("Độc lập")
                || l.starts_with("ĐẢNG CỘNG SẢN"))
        })
        // Labels, as "1." or "a)" are: "Nơi nhận", and "Số" before a number.
        .flat_map(|l| l.split('\t'))
        // A cell that is only a mark ("II.", "1", "a)"): a table row's number, a label as "1." is.
        .filter(|cell| !TABLE_MARK.is_match(cell.trim()))
        .map(|l| {
            // (With a stray mark of up to four characters typed onto it: "Nơi nhận/nh".)
            let l = NOI_NHAN.replace_all(l, " ").into_owned();
            match l.trim_start().strip_prefix("Số") {
                Some(rest)
                    if rest
                        .trim_start_matches([':', ' '])
                        .starts_with(|c: char| c.is_ascii_digit() || c == '/') =>
                {
                    rest.to_string()
                }
                _ => l,
            }
        })
        .flat_map(|l| runs(&l))
        .filter(|w| !whole.contains(w) && !kept.contains(w.as_str()))
        .collect()
}

/// Runs of letters and runs of digits ("2026Số" is a date's year and a label).
fn runs(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last = None;
    for c in s.chars() {
        let kind = c.is_alphanumeric().then(|| c.is_numeric());
        match (kind, last) {
            (Some(k), Some(Some(p))) if k == p => out.last_mut().unwrap().push(c),
            (Some(_), _) => out.push(c.to_string()),
            (None, _) => {}
        }
        last = Some(kind);
    }
    out
}

fn sample_docx() -> Vec<u8> {
    let text = include_str!("../../fixtures/ke-hoach-chi-thi-18-2022.txt");
    let mut d = docx_rs::Docx::new();
    for line in text.lines().take(80) {
        d = d.add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text(line)));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    d.build().pack(&mut out).unwrap();
    out.into_inner()
}

#[test]
fn the_plan_importer_never_panics_on_docx_and_zip_bytes() {
    let valid = vec![sample_docx()];
    assert!(
        server::plan_import::import_docx(&valid[0]).is_ok(),
        "the unmutated file imports"
    );
    run(
        "import-docx",
        |r| mutate(r, &valid),
        |b| {
            let _ = server::plan_import::import_docx(b);
        },
    );
}

#[test]
fn content_range_never_panics_and_what_it_accepts_is_inside_the_blob() {
    let parts = [
        "bytes ",
        "bytes",
        "0",
        "1",
        "9",
        "-",
        "/",
        " ",
        "18446744073709551615",
        "18446744073709551616",
        "5242880",
        "5242881",
        "-1",
        "+3",
        "*",
        "00",
        "\u{a0}",
    ];
    run(
        "content-range",
        |r| {
            let mut s = String::new();
            for _ in 0..r.random_range(0..8) {
                s.push_str(parts[r.random_range(0..parts.len())]);
            }
            let body_len: u16 = r.random();
            let mut b = body_len.to_le_bytes().to_vec();
            b.extend(s.into_bytes());
            b
        },
        |b| {
            let body_len = usize::from(u16::from_le_bytes([b[0], b[1]]));
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&b[2..]) {
                headers.insert(header::CONTENT_RANGE, v);
            }
            if let Ok((start, total)) = server::blobs::chunk_range(&headers, body_len) {
                assert!(
                    start + body_len as u64 <= total,
                    "{start}+{body_len} past {total}"
                );
                assert!(body_len > 0);
            }
        },
    );
}

/// A random JSON value shaped like our bodies: objects with the field names the endpoints read,
/// values of every type (wrong ones included), a little nesting.
fn json_value(r: &mut StdRng, depth: u32) -> serde_json::Value {
    use serde_json::{Value, json};
    const KEYS: &[&str] = &[
        "username",
        "password",
        "display_name",
        "role",
        "commune",
        "node",
        "unit",
        "have",
        "title",
        "text",
        "plan",
        "period",
        "format",
        "layout",
        "tasks",
        "draft",
        "id",
        "new",
        "old",
        "device",
        "events",
        "kind",
        "scope",
        "notes",
        "heads",
    ];
    match r.random_range(0..if depth == 0 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(r.random::<bool>()),
        2 => json!([0i64, -1, 1 << 40, i64::MIN, i64::MAX][r.random_range(0..5)]),
        3 => json!(r.random::<f64>() * 1e300),
        4 => json!(
            [
                "",
                "admin",
                "kadon",
                "xa-ka-don",
                "2026-Q4",
                "member",
                "Quản trị",
                "2026-13-45",
                "../../etc/passwd",
                "\u{0}",
                "🌾",
                "a".repeat(5000).as_str()
            ][r.random_range(0..12)]
        ),
        5 => json!(format!("{:x}", r.random::<u128>())),
        6 => Value::Array(
            (0..r.random_range(0..4))
                .map(|_| json_value(r, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..r.random_range(0..6))
                .map(|_| {
                    (
                        KEYS[r.random_range(0..KEYS.len())].to_string(),
                        json_value(r, depth - 1),
                    )
                })
                .collect(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_of_every_endpoint_get_an_answer_never_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::common::TestServer::start(dir.path(), 0).await;
    let router = server::app(srv.state.clone());
    // Straight into the database, as the storm tests do: argon2 per login would be the test.
    let hash = server::auth::hash_password("not used");
    let token = |role: server::access::Role, name: &str| {
        let db = &srv.state.db;
        let uid = db
            .create_user(name, name, &hash, &role, "xa-ka-don")
            .unwrap();
        let token = server::auth::random_hex(32);
        let now = server::clock::now_ms();
        db.insert_token(
            uid,
            &server::auth::token_hash(&token),
            &format!("dv-u{uid}-fz"),
            now,
            now + 3_600_000,
        )
        .unwrap();
        token
    };
    let admin = token(server::access::Role::Admin, "fuzzadmin");
    let member = token(server::access::Role::Member, "fuzzmember");
    let routes: &[(&str, &str)] = &[
        ("/api/login", ""),
        ("/api/audit/report", "member"),
        ("/api/admin/users", "admin"),
        ("/api/admin/users/{n}", "admin"),
        ("/api/admin/users/{n}/password", "admin"),
        ("/api/admin/devices/{n}/revoke", "admin"),
        ("/api/durable-heads", "member"),
        ("/api/reports/cut", "admin"),
        ("/api/plans/import", "admin"),
        ("/api/plans/publish", "admin"),
    ];
    let valid: Vec<Vec<u8>> = [
        r#"{"username":"kadon","password":"x"}"#,
        r#"{"username":"new1","display_name":"A","password":"abcdefgh12","role":"member","commune":"xa-ka-don"}"#,
        r#"{"have":{"abc":["00"]}}"#,
        r#"{"plan":"p","period":"2026-Q4","node":"xa-ka-don"}"#,
        r#"{"text":"KẾ HOẠCH\nI. MỤC ĐÍCH\n1. Tuyên truyền"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut rng = rng("json");
    let started = Instant::now();
    for i in 0..cases() {
        let (path, who) = routes[i % routes.len()];
        let path = path.replace("{n}", &rng.random_range(1000..1100).to_string());
        let body = if rng.random_ratio(1, 4) {
            mutate(&mut rng, &valid)
        } else {
            serde_json::to_vec(&json_value(&mut rng, 3)).unwrap()
        };
        let mut req = Request::post(&path).header(header::CONTENT_TYPE, "application/json");
        match who {
            "admin" => req = req.header(header::AUTHORIZATION, format!("Bearer {admin}")),
            "member" => req = req.header(header::AUTHORIZATION, format!("Bearer {member}")),
            _ => {}
        }
        let res = router
            .clone()
            .oneshot(req.body(Body::from(body.clone())).unwrap())
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.into_body().collect().await.unwrap().to_bytes();
        assert!(
            status < 500 || status == 503,
            "{path}: {status} {} for {}",
            String::from_utf8_lossy(&text),
            String::from_utf8_lossy(&body)
        );
        *statuses.entry(status).or_default() += 1;
    }
    eprintln!(
        "fuzz json: {} cases over {} endpoints in {:.1} s; statuses {statuses:?}",
        cases(),
        routes.len(),
        started.elapsed().as_secs_f64()
    );
    srv.stop().await;
}
