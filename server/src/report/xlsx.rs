//! The spreadsheet behind a report: the matrix communes × tasks (status words in the status
//! colours, percent, last update), every note of the period, the open and closed petitions, and
//! participants per commune — Vietnamese headers, frozen header row, filters, A4 landscape.

use super::Built;
use crate::error::ApiError;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet, XlsxError};
use shared::ids::{display_date, display_datetime_vn};
use shared::status::DeadlineStatus;

/// A4 in Excel's paper codes.
const A4: u8 = 9;

/// The office's status colours (public/style.css), as cell fills.
fn status_fill(s: DeadlineStatus) -> Color {
    match s {
        DeadlineStatus::DoneOnTime => Color::RGB(0xC8E6C9),
        DeadlineStatus::DoneLate => Color::RGB(0xD7CCC8),
        DeadlineStatus::Overdue => Color::RGB(0xFFCDD2),
        DeadlineStatus::InProgress => Color::RGB(0xBBDEFB),
        DeadlineStatus::NotStarted => Color::RGB(0xEEEEEE),
    }
}

/// A sheet with its header row: bold, frozen, filtered, printed A4 landscape on one page wide,
/// the header repeated on every page; `widths` in characters.
fn sheet<'a>(
    wb: &'a mut Workbook,
    name: &str,
    headers: &[(&str, f64)],
    rows: u32,
) -> Result<&'a mut Worksheet, XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let bold = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xF3E9D2));
    for (c, (h, w)) in headers.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, *h, &bold)?;
        ws.set_column_width(c, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, rows.max(1), headers.len().saturating_sub(1) as u16)?;
    ws.set_landscape()
        .set_paper_size(A4)
        .set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    Ok(ws)
}

fn write(b: &Built) -> Result<Vec<u8>, XlsxError> {
    let r = &b.report;
    let mut wb = Workbook::new();
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);

    // 1. The matrix.
    let mut headers: Vec<(String, f64)> = vec![("Xã, thị trấn".into(), 24.0)];
    for l in &r.tasks {
        headers.push((format!("{} {}", l.task.number, l.task.title), 22.0));
    }
    let hs: Vec<(&str, f64)> = headers.iter().map(|(h, w)| (h.as_str(), *w)).collect();
    let ws = sheet(&mut wb, "Ma trận", &hs, r.communes.len() as u32)?;
    ws.set_row_height(0, 60)?;
    for (i, c) in r.communes.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &c.name)?;
        for (j, cell) in c.cells.iter().enumerate() {
            let col = j as u16 + 1;
            match cell {
                None => {
                    ws.write_string(row, col, "—")?;
                }
                Some(k) => {
                    let mut text = k.status.label_vi().to_string();
                    if k.percent > 0 && k.percent < 100 {
                        text.push_str(&format!(" · {}%", k.percent));
                    }
                    if let Some(at) = k.last {
                        text.push_str(&format!(" · {}", display_datetime_vn(at)));
                    }
                    let f = Format::new()
                        .set_text_wrap()
                        .set_border(FormatBorder::Thin)
                        .set_background_color(status_fill(k.status));
                    ws.write_string_with_format(row, col, text, &f)?;
                }
            }
        }
    }

    // 2. Every note of the period.
    let ws = sheet(
        &mut wb,
        "Ghi chép",
        &[
            ("Ngày", 12.0),
            ("Xã", 18.0),
            ("Tiêu đề", 30.0),
            ("Loại hoạt động", 16.0),
            ("Nhiệm vụ", 14.0),
            ("Nội dung", 50.0),
            ("Kết quả", 30.0),
            ("Tham dự", 9.0),
            ("Nữ", 7.0),
            ("DTTS", 7.0),
            ("Tôn giáo", 9.0),
            ("Kiến nghị", 9.0),
            ("Ảnh", 6.0),
            ("Người ghi", 12.0),
        ],
        r.notes.len() as u32,
    )?;
    for (i, (commune, n)) in r.notes.iter().enumerate() {
        let row = i as u32 + 1;
        let kind = n
            .activity_type
            .as_ref()
            .map(|k| k.labels().map_or(k.to_string(), |(vi, _)| vi.to_string()))
            .unwrap_or_default();
        let tasks: Vec<&str> = n
            .task_ids
            .iter()
            .map(|id| {
                r.tasks
                    .iter()
                    .find(|l| l.task.id == *id)
                    .map_or(id.as_str(), |l| l.task.number.as_str())
            })
            .collect();
        ws.write_string(row, 0, display_date(&n.activity_date))?;
        ws.write_string(row, 1, commune)?;
        ws.write_string_with_format(row, 2, &n.title, &wrap)?;
        ws.write_string(row, 3, kind)?;
        ws.write_string(row, 4, tasks.join(", "))?;
        ws.write_string_with_format(row, 5, &n.content, &wrap)?;
        ws.write_string_with_format(row, 6, &n.results, &wrap)?;
        let p = n.participants;
        for (c, v) in [p.total, p.women, p.ethnic_minority, p.religious]
            .into_iter()
            .enumerate()
        {
            ws.write_number(row, 7 + c as u16, v as f64)?;
        }
        ws.write_number(row, 11, n.petitions.len() as f64)?;
        ws.write_number(row, 12, n.photos.len() as f64)?;
        ws.write_string(row, 13, &n.author)?;
    }

    // 3. Petitions, with their follow-up.
    let petitions: Vec<(&String, &shared::schema::Note, &shared::schema::Petition)> = r
        .notes
        .iter()
        .flat_map(|(c, n)| n.petitions.iter().map(move |p| (c, n, p)))
        .collect();
    let ws = sheet(
        &mut wb,
        "Kiến nghị",
        &[
            ("Ngày", 12.0),
            ("Xã", 18.0),
            ("Nội dung kiến nghị", 60.0),
            ("Tình trạng", 24.0),
            ("Ghi chép", 30.0),
        ],
        petitions.len() as u32,
    )?;
    for (i, (commune, n, p)) in petitions.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, display_date(&n.activity_date))?;
        ws.write_string(row, 1, *commune)?;
        ws.write_string_with_format(row, 2, &p.text, &wrap)?;
        ws.write_string(
            row,
            3,
            p.status
                .labels()
                .map_or(p.status.to_string(), |(vi, _)| vi.to_string()),
        )?;
        ws.write_string_with_format(row, 4, &n.title, &wrap)?;
    }

    // 4. Participants per commune.
    let ws = sheet(
        &mut wb,
        "Người tham dự",
        &[
            ("Xã, thị trấn", 24.0),
            ("Số hoạt động", 12.0),
            ("Tổng số người tham dự", 14.0),
            ("Nữ", 10.0),
            ("Dân tộc thiểu số", 12.0),
            ("Tôn giáo", 10.0),
        ],
        r.communes.len() as u32 + 1,
    )?;
    for (i, c) in r.communes.iter().enumerate() {
        let row = i as u32 + 1;
        let f = &c.figures;
        ws.write_string(row, 0, &c.name)?;
        let p = f.participants;
        for (col, v) in [f.notes, p.total, p.women, p.ethnic_minority, p.religious]
            .into_iter()
            .enumerate()
        {
            ws.write_number(row, 1 + col as u16, v as f64)?;
        }
    }
    let total_row = r.communes.len() as u32 + 1;
    let bold = Format::new().set_bold();
    ws.write_string_with_format(total_row, 0, "Tổng cộng", &bold)?;
    let t = &r.totals;
    let p = t.participants;
    for (col, v) in [t.notes, p.total, p.women, p.ethnic_minority, p.religious]
        .into_iter()
        .enumerate()
    {
        ws.write_number_with_format(total_row, 1 + col as u16, v as f64, &bold)?;
    }
    wb.save_to_buffer()
}

pub fn render(b: &Built) -> Result<Vec<u8>, ApiError> {
    write(b).map_err(|e| ApiError::Internal(anyhow::anyhow!("writing the .xlsx: {e}")))
}
