//! The report as a Word file in the official layout: the Party's (Hướng dẫn 36-HD/VPTW,
//! 03/4/2018) for Party committees and the Ban Dân vận, or the state style the Front uses
//! (Hướng dẫn 91/HD-MTTW-BTT after Nghị định 30/2020): A4, Times New Roman, the two-column header,
//! number, place and date, title and summary line, the four parts such reports have, recipients
//! and signature, an annex of communes × tasks, and the previous period's late changes.

use super::Built;
use crate::error::ApiError;
use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, LineSpacing, PageMargin, PageNum, Paragraph, Run,
    RunFonts, SpecialIndentType, Table, TableCell, TableLayoutType, TableRow, WidthType,
};
use shared::api::ReportLayout;
use shared::ids::{display_date, display_datetime_vn, parse_iso_date};
use shared::status::DeadlineStatus;

/// Points to Word's half-points.
const fn pt(p: usize) -> usize {
    p * 2
}

/// Millimetres to twentieths of a point.
fn twips(mm: u32) -> i32 {
    (f64::from(mm) * 1440.0 / 25.4).round() as i32
}

/// A4 in twips.
const A4: (u32, u32) = (11906, 16838);

fn run(text: impl Into<String>, size: usize) -> Run {
    Run::new().add_text(text).size(pt(size)).fonts(
        RunFonts::new()
            .ascii("Times New Roman")
            .hi_ansi("Times New Roman")
            .cs("Times New Roman"),
    )
}

fn centered(r: Run) -> Paragraph {
    Paragraph::new().align(AlignmentType::Center).add_run(r)
}

/// A body paragraph: 14 pt, justified, first line indented 1 cm, 6 pt after.
fn body(text: impl Into<String>) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(567)), None, None)
        .line_spacing(LineSpacing::new().after(120))
        .add_run(run(text, 14))
}

/// A part heading ("I. KẾT QUẢ THỰC HIỆN"): bold.
fn heading(text: impl Into<String>) -> Paragraph {
    Paragraph::new()
        .indent(None, Some(SpecialIndentType::FirstLine(567)), None, None)
        .line_spacing(LineSpacing::new().before(120).after(120))
        .add_run(run(text, 14).bold())
}

/// A table without borders, of cells each given as a column width (twips) and paragraphs.
fn layout_table(cells: Vec<(usize, Vec<Paragraph>)>) -> Table {
    let widths: Vec<usize> = cells.iter().map(|(w, _)| *w).collect();
    let row = TableRow::new(
        cells
            .into_iter()
            .map(|(w, ps)| {
                ps.into_iter().fold(
                    TableCell::new().width(w, WidthType::Dxa),
                    TableCell::add_paragraph,
                )
            })
            .collect(),
    );
    let total = widths.iter().sum();
    Table::without_borders(vec![row])
        .set_grid(widths)
        .width(total, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// "ngày 15 tháng 12 năm 2026" (days and months below 10 with a leading zero for 1 and 2, as the
/// rule asks: "ngày 05 tháng 02").
fn date_words(iso: &str) -> String {
    match parse_iso_date(iso) {
        Some((y, m, d)) => {
            let m = if m < 3 {
                format!("{m:02}")
            } else {
                m.to_string()
            };
            format!("ngày {d:02} tháng {m} năm {y}")
        }
        None => "ngày … tháng … năm …".into(),
    }
}

/// The header block: issuer at left, motto at right, then the number and the date line.
fn header(b: &Built, width: usize, date: &str) -> Table {
    let s = &b.settings;
    let left_w = width * 40 / 100;
    let right_w = width - left_w;
    let date_line = centered(run(format!("{}, {}", s.place, date_words(date)), 14).italic());
    match s.layout {
        ReportLayout::Party => layout_table(vec![
            (
                left_w,
                vec![
                    centered(run(s.superior.to_uppercase(), 14)),
                    centered(run(s.issuer.to_uppercase(), 14).bold()),
                    centered(run("*", 14)),
                    centered(run(format!("Số {}", s.number), 14)),
                ],
            ),
            (
                right_w,
                vec![
                    centered(run("ĐẢNG CỘNG SẢN VIỆT NAM", 15).bold().underline("single")),
                    Paragraph::new(),
                    date_line,
                ],
            ),
        ]),
        ReportLayout::Front => layout_table(vec![
            (
                left_w,
                vec![
                    centered(run(s.superior.to_uppercase(), 13)),
                    centered(run(s.issuer.to_uppercase(), 13).bold().underline("single")),
                    Paragraph::new(),
                    centered(run(format!("Số: {}", s.number), 13)),
                ],
            ),
            (
                right_w,
                vec![
                    centered(run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13).bold()),
                    centered(
                        run("Độc lập - Tự do - Hạnh phúc", 14)
                            .bold()
                            .underline("single"),
                    ),
                    Paragraph::new(),
                    date_line,
                ],
            ),
        ]),
    }
}

/// Recipients at left, the signature at right.
fn signature(b: &Built, width: usize) -> Table {
    let s = &b.settings;
    let mut left = vec![Paragraph::new().add_run(run("Nơi nhận:", 12).bold().italic())];
    for line in s
        .recipients
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        left.push(Paragraph::new().add_run(run(format!("- {line}"), 11)));
    }
    let mut right = vec![centered(run(s.signer_mandate.to_uppercase(), 14).bold())];
    if !s.signer_position.trim().is_empty() {
        right.push(centered(run(s.signer_position.to_uppercase(), 14).bold()));
    }
    // Room for the signature and the seal.
    for _ in 0..4 {
        right.push(Paragraph::new());
    }
    right.push(centered(run(s.signer_name.clone(), 14).bold()));
    layout_table(vec![(width / 2, left), (width - width / 2, right)])
}

/// A bordered table of text cells, the first row bold (the annexes).
fn grid(rows: Vec<Vec<String>>, widths: Vec<usize>, size: usize) -> Table {
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, cells)| {
            TableRow::new(
                cells
                    .into_iter()
                    .zip(&widths)
                    .map(|(text, w)| {
                        let r = run(text, size);
                        let r = if i == 0 { r.bold() } else { r };
                        TableCell::new()
                            .width(*w, WidthType::Dxa)
                            .add_paragraph(Paragraph::new().add_run(r))
                    })
                    .collect(),
            )
        })
        .collect();
    Table::new(rows).set_grid(widths)
}

/// An annex's heading on a new page: "PHỤ LỤC n" and its title.
fn annex(doc: Docx, n: u32, title: &str) -> Docx {
    doc.add_paragraph(
        Paragraph::new()
            .add_run(Run::new().add_break(BreakType::Page))
            .add_run(run(format!("PHỤ LỤC {n}"), 14).bold())
            .align(AlignmentType::Center),
    )
    .add_paragraph(centered(run(title, 14).bold()))
}

pub fn render(b: &Built) -> Result<Vec<u8>, ApiError> {
    let s = &b.settings;
    let r = &b.report;
    let width =
        (A4.0 as i32 - twips(s.margin_left_mm) - twips(s.margin_right_mm)).max(2000) as usize;
    let today = shared::ids::vn_civil_date(crate::clock::now_ms());
    let date = if s.date.trim().is_empty() {
        format!("{:04}-{:02}-{:02}", today.0, today.1, today.2)
    } else {
        s.date.clone()
    };
    let (q, y) = shared::Quarter::of_iso_date(&r.from).map_or((0, 0), |q| (q.q, q.year));
    let number = if r.header.number.trim().is_empty() {
        String::new()
    } else {
        format!(" số {}", r.header.number.trim())
    };
    let summary = format!("Kết quả thực hiện Kế hoạch{number} quý {q} năm {y}");
    let frozen = match &b.cut {
        Some(c) => format!(
            "(Số liệu chốt lúc {})",
            display_datetime_vn(c.taken_at.unwrap_or(r.at))
        ),
        None => format!(
            "(Số liệu tạm thời, chưa chốt — tính đến {})",
            display_datetime_vn(r.at)
        ),
    };

    let mut doc = Docx::new()
        .page_size(A4.0, A4.1)
        .page_margin(
            PageMargin::new()
                .top(twips(s.margin_top_mm))
                .bottom(twips(s.margin_bottom_mm))
                .left(twips(s.margin_left_mm))
                .right(twips(s.margin_right_mm))
                .header(567)
                .footer(567),
        )
        .default_fonts(
            RunFonts::new()
                .ascii("Times New Roman")
                .hi_ansi("Times New Roman")
                .cs("Times New Roman"),
        )
        .default_size(pt(14))
        // Page numbers from page 2 (the first page's footer is empty).
        .title_pg()
        .first_footer(Footer::new().add_paragraph(Paragraph::new()))
        .footer(
            Footer::new().add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_page_num(PageNum::new()),
            ),
        )
        .add_table(header(b, width, &date))
        .add_paragraph(Paragraph::new())
        .add_paragraph(centered(run("BÁO CÁO", 16).bold()))
        .add_paragraph(centered(run(summary, 14).bold()))
        .add_paragraph(centered(run("-----", 14)))
        .add_paragraph(centered(run(frozen, 13).italic()));

    let reporting = r.communes.len() - r.silent.len();
    let t = &r.totals;
    let petitions = t.petitions.open + t.petitions.answered + t.petitions.referred;
    let plan_date = r
        .header
        .date
        .as_deref()
        .map(|d| format!(" ngày {}", display_date(d)))
        .unwrap_or_default();
    // "Kế hoạch thực hiện …" is quoted after "Kế hoạch số …", without its first word again.
    let title = r.header.title.trim();
    let title = title.strip_prefix("Kế hoạch ").unwrap_or(title);
    let title = if title.is_empty() {
        String::new()
    } else {
        format!(" “{title}”")
    };
    doc = doc.add_paragraph(body(format!(
        "Căn cứ Kế hoạch{number}{plan_date}{title}, kết quả thực hiện quý {q} năm {y} trên địa bàn {} như sau:",
        r.node_name
    )));
    doc = doc.add_paragraph(heading("I. KẾT QUẢ THỰC HIỆN"));
    doc = doc.add_paragraph(heading("1. Tình hình chung"));
    doc = doc.add_paragraph(body(format!(
        "Trong kỳ (từ {} đến {}), {reporting}/{} xã, thị trấn có ghi chép hoạt động. Các cấp đã tổ chức {} hoạt động với {} lượt người tham dự (nữ {}, đồng bào dân tộc thiểu số {}, đồng bào tôn giáo {}); ghi nhận {petitions} ý kiến, kiến nghị của nhân dân ({} đã giải quyết, trả lời; {} đã chuyển cấp có thẩm quyền; {} đang xem xét, giải quyết); {} ảnh tư liệu.",
        display_date(&r.from),
        display_date(&r.to),
        r.communes.len(),
        t.notes,
        t.participants.total,
        t.participants.women,
        t.participants.ethnic_minority,
        t.participants.religious,
        t.petitions.answered,
        t.petitions.referred,
        t.petitions.open,
        t.photos,
    )));
    doc = doc.add_paragraph(heading("2. Kết quả thực hiện từng nhiệm vụ"));
    for line in &r.tasks {
        let [not_started, in_progress, overdue, on_time, late] = line.counts;
        let targeted: i64 = line.counts.iter().sum();
        let mut text = format!(
            "{} {}: {}/{targeted} xã hoàn thành ({on_time} đúng hạn, {late} quá hạn), {in_progress} đang thực hiện, {overdue} quá hạn, {not_started} chưa bắt đầu; {} hoạt động với {} lượt người tham dự.",
            line.task.number,
            line.task.title,
            on_time + late,
            line.notes,
            line.participants
        );
        for i in &line.indicators {
            let target = i
                .target
                .map(|t| format!("{t} {}", i.unit_of_measure))
                .unwrap_or_default();
            text.push_str(&format!(" Chỉ tiêu {}: {target}.", i.name));
        }
        if !line.highlights.is_empty() {
            let quotes: Vec<String> = line
                .highlights
                .iter()
                .map(|h| format!("{} ({}): {}", h.commune, display_date(&h.date), h.title))
                .collect();
            text.push_str(&format!(" Tiêu biểu: {}.", quotes.join("; ")));
        }
        doc = doc.add_paragraph(body(text));
    }

    doc = doc.add_paragraph(heading("II. HẠN CHẾ, NGUYÊN NHÂN"));
    let overdue: Vec<_> = r.tasks.iter().filter(|l| !l.overdue.is_empty()).collect();
    if overdue.is_empty() && r.silent.is_empty() {
        doc = doc.add_paragraph(body(
            "Không có nhiệm vụ quá hạn; tất cả các xã đều có ghi chép trong kỳ.",
        ));
    }
    for l in overdue {
        doc = doc.add_paragraph(body(format!(
            "- Nhiệm vụ {} quá hạn tại: {}.",
            l.task.number,
            l.overdue.join(", ")
        )));
    }
    if !r.silent.is_empty() {
        doc = doc.add_paragraph(body(format!(
            "- Chưa có ghi chép hoạt động trong kỳ: {}.",
            r.silent.join(", ")
        )));
    }

    doc = doc.add_paragraph(heading("III. PHƯƠNG HƯỚNG, NHIỆM VỤ QUÝ TỚI"));
    if r.next.is_empty() {
        doc = doc.add_paragraph(body("Tiếp tục thực hiện các nhiệm vụ của kế hoạch."));
    }
    for task in &r.next {
        let when = match (&task.deadline, &task.recurrence) {
            (_, Some(rec)) => rec
                .labels()
                .map_or("định kỳ".to_string(), |(vi, _)| vi.to_lowercase()),
            (Some(d), None) => format!("hạn {}", display_date(d)),
            (None, None) => String::new(),
        };
        doc = doc.add_paragraph(body(format!("- {} {} ({when}).", task.number, task.title)));
    }

    doc = doc.add_paragraph(heading("IV. KIẾN NGHỊ, ĐỀ XUẤT"));
    if r.petitions.is_empty() {
        doc = doc.add_paragraph(body("Không có ý kiến, kiến nghị đang chờ giải quyết."));
    } else {
        doc = doc.add_paragraph(body(format!(
            "Đề nghị các cấp, các ngành quan tâm xem xét, giải quyết {} ý kiến, kiến nghị của nhân dân còn đang chờ:",
            r.petitions.len()
        )));
        let mut commune = "";
        let mut items: Vec<String> = Vec::new();
        for p in &r.petitions {
            if p.commune != commune && !items.is_empty() {
                doc = doc.add_paragraph(body(format!("- {commune}: {}.", items.join("; "))));
                items.clear();
            }
            commune = &p.commune;
            items.push(format!("{} ({})", p.text, display_date(&p.date)));
        }
        if !items.is_empty() {
            doc = doc.add_paragraph(body(format!("- {commune}: {}.", items.join("; "))));
        }
    }
    doc = doc
        .add_paragraph(Paragraph::new())
        .add_table(signature(b, width));

    // Annex 1: communes × tasks.
    doc = annex(doc, 1, "TÌNH HÌNH THỰC HIỆN NHIỆM VỤ THEO XÃ");
    doc = doc.add_paragraph(centered(
        run(
            format!(
                "Số nhiệm vụ theo tình trạng tại mỗi xã, tính đến {}",
                display_datetime_vn(r.at)
            ),
            12,
        )
        .italic(),
    ));
    // One row per commune (a province has 150: a row, not a column, each); the full matrix
    // communes × tasks is the spreadsheet's first sheet.
    let mut rows = vec![
        [
            "Xã, thị trấn",
            "Hoàn thành",
            "Đang thực hiện",
            "Quá hạn",
            "Chưa bắt đầu",
            "Nhiệm vụ quá hạn",
            "Hoạt động",
            "Người tham dự",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for c in &r.communes {
        let count = |want: &[DeadlineStatus]| {
            c.cells
                .iter()
                .flatten()
                .filter(|k| want.contains(&k.status))
                .count()
                .to_string()
        };
        let overdue: Vec<&str> = c
            .cells
            .iter()
            .zip(&r.tasks)
            .filter(|(k, _)| k.is_some_and(|k| k.status == DeadlineStatus::Overdue))
            .map(|(_, l)| l.task.number.as_str())
            .collect();
        rows.push(vec![
            c.name.clone(),
            count(&[DeadlineStatus::DoneOnTime, DeadlineStatus::DoneLate]),
            count(&[DeadlineStatus::InProgress]),
            count(&[DeadlineStatus::Overdue]),
            count(&[DeadlineStatus::NotStarted]),
            overdue.join(", "),
            c.figures.notes.to_string(),
            c.figures.participants.total.to_string(),
        ]);
    }
    let w = width / 10;
    doc = doc.add_table(grid(
        rows,
        vec![w * 2, w, w, w, w, w * 2, w, width - 9 * w],
        10,
    ));

    // Annex 2: the previous period's changes after its cut-off.
    if !b.previous_amendments.is_empty() {
        doc = annex(doc, 2, "THAY ĐỔI SỐ LIỆU KỲ TRƯỚC SAU KHI CHỐT");
        let mut rows = vec![
            [
                "Xã",
                "Thay đổi",
                "Nội dung",
                "Trước",
                "Sau",
                "Người ghi, thời gian",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for a in &b.previous_amendments {
            rows.push(vec![
                a.commune.clone(),
                a.kind.label_vi().to_string(),
                a.what.clone(),
                a.before.clone(),
                a.after.clone(),
                format!("{}, {}", a.by, display_datetime_vn(a.at)),
            ]);
        }
        let w = width / 6;
        doc = doc.add_table(grid(rows, vec![w; 6], 9));
    }

    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing the .docx: {e}")))?;
    Ok(out.into_inner())
}
