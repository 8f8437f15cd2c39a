//! Hostile and random input (issue 17): property tests over arbitrary and mutated bytes for every
//! decoder that reads what a phone or a user sends — the sync frame check and decoder, Automerge's
//! sync message, the plan importer (text and .docx/zip) and the `Content-Range` parser. None may
//! panic or hang; what they accept must make sense. Seeded (`DANVAN_FUZZ_SEED`), 10,000 cases per
//! target here, more with `DANVAN_FUZZ_CASES` (the figures in docs/benchmarks.md). Not
//! coverage-guided: cargo-fuzz needs a nightly toolchain, which this project does not use.

use axum::http::{HeaderMap, HeaderValue, header};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use shared::wire::{WireMessage, check_frame};
use std::time::{Duration, Instant};

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
            let _ = server::plan_import::import_text(std::str::from_utf8(b).unwrap());
        },
    );
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
