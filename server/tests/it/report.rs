//! Quarterly reports end to end on the demo data: a cut-off freezes the figures (a later edit
//! changes the live figures, not the cut report, and shows as an amendment, also in the next
//! quarter's annex); the .docx opened by LibreOffice and read back with poppler holds the official
//! header lines and figures computed independently (the office's read model); the .xlsx read back
//! by calamine adds up to the overview; bad targets and foreign nodes are refused.

use crate::common::*;
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use shared::api::{OfficeSummary, ReportLayout, ReportSettings, ReportStatus};
use shared::report::AmendmentKind;
use shared::schema::{self, Note, Participants, ProgressRecord};
use shared::{DocKey, Quarter};
use std::io::Cursor;
use std::path::Path;
use std::process::Command;

const PLAN: &str = "kh-ct18-2022";
const NODE: &str = "huyen-demo";
const COMMUNE: &str = "xa-ka-don";

fn target(quarter: Quarter) -> String {
    format!("plan={PLAN}&period={quarter}&node={NODE}")
}

/// The .docx through LibreOffice (the reader a Party office has) to PDF, its text through
/// poppler without any whitespace (poppler splits justified Vietnamese syllables, "l ượt"; compare
/// with [`squash`]), and the first page as PNG bytes.
fn read_docx(docx: &[u8]) -> (String, Vec<u8>) {
    for tool in ["soffice", "pdftotext", "pdftoppm"] {
        assert!(
            Path::new("/usr/bin").join(tool).exists(),
            "/usr/bin/{tool} is missing: `cargo xtask test` installs libreoffice-writer-nogui, poppler-utils and fonts-liberation"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.docx");
    std::fs::write(&file, docx).unwrap();
    // A profile of its own: tests run side by side, and LibreOffice locks its profile.
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let pdf = dir.path().join("report.pdf");
    // LibreOffice itself sometimes aborts at start ("Unspecified Application Error", a fresh
    // machine's first runs side by side): a crash of the reader, not a fault of the file, so it
    // gets up to three tries; a file it cannot convert fails every time.
    let mut errors = Vec::new();
    for _ in 0..3 {
        let out = Command::new("soffice")
            .args([
                profile.as_str(),
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
            ])
            .arg(dir.path())
            .arg(&file)
            .output()
            .unwrap();
        if pdf.exists() {
            break;
        }
        errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    assert!(pdf.exists(), "LibreOffice made no PDF: {errors:?}");
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let text = squash(&text);
    let png = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    (text, std::fs::read(png.with_extension("png")).unwrap())
}

/// Text without whitespace, for comparing with the PDF's.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

async fn download(srv: &TestServer, token: &str, query: &str) -> (u16, Vec<u8>) {
    let r = HTTP
        .get(format!("{}/api/reports/file?{query}", srv.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn cut(srv: &TestServer, token: &str, quarter: Quarter) -> (u16, Option<ReportStatus>) {
    let r = HTTP
        .post(format!("{}/api/reports/cut", srv.url()))
        .bearer_auth(token)
        .json(&serde_json::json!({"plan": PLAN, "period": quarter.to_string(), "node": NODE}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.ok())
}

fn late_note(quarter: Quarter) -> Note {
    Note {
        id: "01LATENOTE000000000000000".into(),
        activity_date: quarter.first_day(),
        title: "Họp dân bổ sung sau khi chốt".into(),
        content: "Ghi chép đến muộn".into(),
        participants: Participants {
            total: 17,
            women: 9,
            ..Participants::default()
        },
        author: "kadon".into(),
        created_at: server::clock::now_ms(),
        ..Note::default()
    }
}

/// "Các cấp đã tổ chức N hoạt động với P lượt người tham dự (nữ W, …" as the report words it.
fn totals_sentence(s: &OfficeSummary) -> String {
    let t = &s.totals;
    format!(
        "tổ chức {} hoạt động với {} lượt người tham dự (nữ {}, đồng bào dân tộc thiểu số {}, đồng bào tôn giáo {})",
        t.notes,
        t.participants.total,
        t.participants.women,
        t.participants.ethnic_minority,
        t.participants.religious
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_report_keeps_its_figures_and_later_edits_are_amendments() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    all_settled(&srv).await;
    let huyen = login(&srv.url(), "huyen").await;
    let quarter = server::clock::current_quarter();
    let (y, q) = (quarter.year, quarter.q);

    // Before any cut-off: provisional, no amendments.
    let (status, st) = get::<ReportStatus>(
        &srv,
        &huyen.token,
        &format!("/api/reports?{}", target(quarter)),
    )
    .await;
    assert_eq!(status, 200);
    let st = st.unwrap();
    assert!(st.cut.is_none() && st.amendments.is_empty());
    assert_eq!(st.settings.superior, "HUYỆN ỦY ĐƠN DƯƠNG");
    let (_, summary) = get::<OfficeSummary>(&srv, &huyen.token, "/api/office/summary").await;
    let summary = summary.unwrap();
    assert!(
        summary.totals.notes > 0,
        "the demo has notes this quarter: {summary:?}"
    );
    let (code, docx) = download(
        &srv,
        &huyen.token,
        &format!("{}&format=docx", target(quarter)),
    )
    .await;
    assert_eq!(code, 200);
    let (text, png) = read_docx(&docx);
    for line in [
        "HUYỆN ỦY ĐƠN DƯƠNG",
        "BAN DÂN VẬN",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Số …-BC/BDV",
        "Đơn Dương, ngày",
        "BÁO CÁO",
        &format!("Kết quả thực hiện Kế hoạch quý {q} năm {y}"),
        "Số liệu tạm thời, chưa chốt",
        "I. KẾT QUẢ THỰC HIỆN",
        "II. HẠN CHẾ, NGUYÊN NHÂN",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ QUÝ TỚI",
        "IV. KIẾN NGHỊ, ĐỀ XUẤT",
        "Nơi nhận:",
        "T/M BAN THƯỜNG VỤ",
        "PHỤ LỤC 1",
        &totals_sentence(&summary),
    ] {
        assert!(
            text.contains(&squash(line)),
            "the report's text has {line:?}:\n{text}"
        );
    }
    assert!(png.starts_with(b"\x89PNG"), "the first page renders");

    // Cut now; then a note and a progress record arrive late.
    let (code, cut_status) = cut(&srv, &huyen.token, quarter).await;
    assert_eq!(code, 200);
    let taken = cut_status.unwrap().cut.expect("a cut-off");
    assert!(taken.taken_at.is_some());
    assert_eq!(taken.set_by, "huyen");
    let t = shared::api::ReportTarget {
        plan: PLAN.into(),
        period: quarter.to_string(),
        node: NODE.into(),
    };
    let resolved = server::report::resolve(&srv.state, &t).unwrap();
    let before = server::report::build(&srv.state, &resolved, None)
        .await
        .unwrap();
    let notes_key = DocKey::notes(COMMUNE, quarter);
    let n = late_note(quarter);
    put_note(&srv, &notes_key, n).await;
    let record = ProgressRecord {
        task_id: before.report.tasks[0].task.id.clone(),
        unit: "mttq".into(),
        percent: 55,
        by: "kadon".into(),
        at: server::clock::now_ms(),
        ..ProgressRecord::default()
    };
    srv.state
        .hub
        .change(
            &srv.state.storage,
            &DocKey::progress(PLAN, COMMUNE),
            move |d| schema::put_progress(d, &record),
        )
        .await
        .unwrap()
        .unwrap();
    settled(&srv, &notes_key).await;

    // The live figures moved; the cut report did not.
    let (_, live) = get::<OfficeSummary>(&srv, &huyen.token, "/api/office/summary").await;
    assert_eq!(live.unwrap().totals.notes, summary.totals.notes + 1);
    let after = server::report::build(&srv.state, &resolved, None)
        .await
        .unwrap();
    assert_eq!(
        after.report, before.report,
        "a cut report is computed from the cut-off's heads"
    );
    let (_, docx) = download(
        &srv,
        &huyen.token,
        &format!("{}&format=docx", target(quarter)),
    )
    .await;
    let (text, _) = read_docx(&docx);
    assert!(text.contains(&squash("Số liệu chốt lúc")), "{text}");
    assert!(
        text.contains(&squash(&totals_sentence(&summary))),
        "the cut figures:\n{text}"
    );

    // The late changes are amendments, and the cut-off never moves.
    let (_, st) = get::<ReportStatus>(
        &srv,
        &huyen.token,
        &format!("/api/reports?{}", target(quarter)),
    )
    .await;
    let amendments = st.unwrap().amendments;
    let added = amendments
        .iter()
        .find(|a| a.kind == AmendmentKind::NoteAdded)
        .expect("the late note");
    assert_eq!(
        (added.what.as_str(), added.commune.as_str()),
        ("Họp dân bổ sung sau khi chốt", "Xã Ka Đơn")
    );
    assert_eq!(added.by, "kadon");
    let progress = amendments
        .iter()
        .find(|a| a.kind == AmendmentKind::ProgressChanged)
        .expect("the late progress");
    assert!(progress.after.starts_with("55%"), "{progress:?}");
    let (code, _) = cut(&srv, &huyen.token, quarter).await;
    assert_eq!(code, 409, "a taken cut-off is final");

    // The next quarter's report carries them in its annex.
    let next: Quarter = if q == 4 {
        format!("{}-Q1", y + 1)
    } else {
        format!("{y}-Q{}", q + 1)
    }
    .parse()
    .unwrap();
    let (_, docx) = download(&srv, &huyen.token, &format!("{}&format=docx", target(next))).await;
    let (text, _) = read_docx(&docx);
    assert!(
        text.contains(&squash("THAY ĐỔI SỐ LIỆU KỲ TRƯỚC SAU KHI CHỐT")),
        "{text}"
    );
    assert!(
        text.contains(&squash("Họp dân bổ sung sau khi chốt")),
        "{text}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_layout_the_spreadsheet_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    all_settled(&srv).await;
    let huyen = login(&srv.url(), "huyen").await;
    let quarter = server::clock::current_quarter();

    // The Front's layout, with settings typed in the office.
    let settings = ReportSettings {
        layout: ReportLayout::Front,
        superior: "ỦY BAN MTTQ VIỆT NAM".into(),
        issuer: "HUYỆN ĐƠN DƯƠNG".into(),
        number: "12/BC-MTTQ-BTT".into(),
        place: "Đơn Dương".into(),
        date: "2026-12-20".into(),
        recipients: "Ban Thường trực Ủy ban MTTQ tỉnh (b/c),\nLưu VP.".into(),
        signer_mandate: "TM. BAN THƯỜNG TRỰC".into(),
        signer_position: "CHỦ TỊCH".into(),
        signer_name: "Nguyễn Thị Hòa".into(),
        ..ReportSettings::default()
    };
    let json = serde_json::to_string(&settings).unwrap();
    let query = format!(
        "{}&format=docx&settings={}",
        target(quarter),
        url::form_urlencoded::byte_serialize(json.as_bytes()).collect::<String>()
    );
    let (code, docx) = download(&srv, &huyen.token, &query).await;
    assert_eq!(code, 200);
    let (text, _) = read_docx(&docx);
    for line in [
        "ỦY BAN MTTQ VIỆT NAM",
        "HUYỆN ĐƠN DƯƠNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 12/BC-MTTQ-BTT",
        "Đơn Dương, ngày 20 tháng 12 năm 2026",
        "TM. BAN THƯỜNG TRỰC",
        "CHỦ TỊCH",
        "Nguyễn Thị Hòa",
        "- Lưu VP.",
    ] {
        assert!(
            text.contains(&squash(line)),
            "the Front report has {line:?}:\n{text}"
        );
    }
    assert!(
        !text.contains(&squash("ĐẢNG CỘNG SẢN VIỆT NAM")),
        "not the Party's motto"
    );

    // The spreadsheet adds up to the overview.
    let (_, summary) = get::<OfficeSummary>(&srv, &huyen.token, "/api/office/summary").await;
    let totals = summary.unwrap().totals;
    let (code, xlsx) = download(
        &srv,
        &huyen.token,
        &format!("{}&format=xlsx", target(quarter)),
    )
    .await;
    assert_eq!(code, 200);
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["Ma trận", "Ghi chép", "Kiến nghị", "Người tham dự"]
    );
    let notes = wb.worksheet_range("Ghi chép").unwrap();
    assert_eq!(notes.height() as i64 - 1, totals.notes, "one row per note");
    assert_eq!(notes.get((0, 2)), Some(&Data::String("Tiêu đề".into())));
    let people = wb.worksheet_range("Người tham dự").unwrap();
    let last = people.height() - 1;
    assert_eq!(
        people.get((last, 0)),
        Some(&Data::String("Tổng cộng".into()))
    );
    let number = |c: usize| match people.get((last, c)) {
        Some(Data::Float(f)) => *f as i64,
        other => panic!("not a number: {other:?}"),
    };
    assert_eq!(number(1), totals.notes);
    assert_eq!(number(2), totals.participants.total);
    assert_eq!(number(3), totals.participants.women);
    let sum: i64 = (1..last)
        .map(|r| match people.get((r, 2)) {
            Some(Data::Float(f)) => *f as i64,
            _ => 0,
        })
        .sum();
    assert_eq!(
        sum, totals.participants.total,
        "the communes add up to the total"
    );
    let petitions = wb.worksheet_range("Kiến nghị").unwrap();
    let p = totals.petitions;
    assert_eq!(
        petitions.height() as i64 - 1,
        p.open + p.answered + p.referred
    );
    let matrix = wb.worksheet_range("Ma trận").unwrap();
    assert_eq!(
        matrix.get((0, 0)),
        Some(&Data::String("Xã, thị trấn".into()))
    );
    assert!(matrix.height() >= 9, "a row per commune");

    // Refusals, each with a clear message.
    for (query, want) in [
        (format!("plan=khong-co&period={quarter}&node={NODE}"), 404),
        (format!("plan={PLAN}&period=2026-Q5&node={NODE}"), 400),
        (format!("plan={PLAN}&period={quarter}&node=khong-co"), 404),
        (format!("{}&format=pdf", target(quarter)), 400),
        (format!("{}&settings=%7Bnot-json", target(quarter)), 400),
    ] {
        let (code, body) = download(&srv, &huyen.token, &query).await;
        assert_eq!(code, want, "{query}");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON error");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    let branch = commune_viewer(&srv, COMMUNE).await;
    let (code, _) = download(&srv, &branch.token, &target(quarter)).await;
    assert_eq!(
        code, 403,
        "a commune's viewer cannot report on the district"
    );
    let (code, _) = cut(&srv, &branch.token, quarter).await;
    assert_eq!(code, 403);
    let (code, _) = download(
        &srv,
        &branch.token,
        &format!("plan={PLAN}&period={quarter}&node={COMMUNE}"),
    )
    .await;
    assert_eq!(code, 200, "but it can on its own commune");
    let member = login(&srv.url(), "kadon").await;
    let (code, _) = download(
        &srv,
        &member.token,
        &format!("plan={PLAN}&period={quarter}&node={COMMUNE}"),
    )
    .await;
    assert_eq!(code, 403, "members do not make reports");
    srv.stop().await;
}
