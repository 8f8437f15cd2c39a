//! Plan import: a Vietnamese administrative plan (Kế hoạch) as plain text or .docx → a draft plan
//! for an editor to review. Pure text processing, no IO beyond unpacking a .docx held in memory.
//!
//! It follows the drafting conventions of Party and state documents rather than one sample: Roman
//! numerals for sections, `1.` / `1.1.` / `a)` numbering, dash bullets, "Giao X chủ trì, phối hợp với
//! Y" assignments, "Định kỳ hàng quý" recurrences, dates as `22/02/2022` or "ngày 22 tháng 02 năm
//! 2022", and paragraphs broken across pages (a line starting in lower case continues the one
//! before). What it cannot classify is kept, as text, and listed — never dropped; a header field the
//! document lacks stays empty.
//!
//! Copy-paste and Word flatten the two-column header and signature into one line; a tab or a wide
//! gap marks the columns, and such a line is read cell by cell (as is a Word table's row, and a
//! task table's row with its unit and time columns). Items are placed by the mark that opened them:
//! a dotted number under its prefix, `a)` under the nearest number, a bullet mark seen before is a
//! sibling and a new one a level deeper. Scored field by field on `server/fixtures/plans/` by
//! `cargo xtask import-score` (issue 14).

use regex::Regex;
pub use shared::api::{DraftBasis, DraftSection, PlanDraft, Signer, TaskDraft};
use shared::vocab::{Recurrence, SectionKind};
use std::sync::LazyLock;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not a .docx file: {0}")]
    Docx(String),
    #[error("the document has no text")]
    Empty,
    #[error("the document is too large to be a plan ({0})")]
    TooLarge(&'static str),
}

/// A plan is tens of kilobytes of text in a few hundred paragraphs; these bounds are far above any
/// real one and keep a crafted file (a 512-byte .docx can ask for millions of list numbers) from
/// turning into gigabytes.
const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
const MAX_PARAGRAPHS: usize = 20_000;
/// The largest list number written out; Word's own lists stop far below.
const MAX_LIST_NUMBER: u32 = 9_999;
/// The longest list-number pattern (`%1.%2.` is six characters).
const MAX_LEVEL_TEXT: usize = 64;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("valid regex"));
    };
}

re!(
    ROMAN,
    r"^(X{0,3}(?:IX|IV|V?I{0,3}))\s*[.:/)–-]\s*(\P{Ll}.*)?$"
);
re!(NUMBERED, r"^(\d{1,2})[.)]\s*(\D.*)$");
re!(SUBNUMBERED, r"^(\d{1,2}(?:\.\d{1,2})+)\.?\s+(\D.*)$");
re!(LETTERED, r"^([a-zđ])\)\s+(.+)$");
re!(BULLET, r"^[-–—•+*]\s*(.+)$");
/// A document's number and symbol in every form: Party "07-KH/ĐU", state "125/KH-UBND",
/// "45/KH-MTTQ-BTT", a law's "10/2022/QH15", a decree's "30/2020/NĐ-CP". (Checked to hold a letter,
/// so that a date is not taken for one.)
const CODE: &str = r"\d+(?:/\d{2,4})?[-/–](?:[\p{L}\d.]+[-/–])*[\p{L}\d]+";
re!(NUMBER_LINE, &format!(r"^Số\s*:?\s*({CODE})?"));
re!(
    PLACE_DATE,
    r"^([\p{L} .'’-]+?),\s*ngày\s+(\d{1,2})\s*(?:tháng\s+|/|-)(\d{1,2})\s*(?:năm\s+|/|-)(\d{4})\b"
);
// A place with a date left blank to be filled in by hand: "Long Hoa, ngày    tháng    năm 2024".
re!(
    PLACE_BLANK_DATE,
    r"^([\p{L} .'’-]+?),\s*ngày(?:\s+(\d{1,2}))?\s+tháng(?:\s+(\d{1,2}))?\s+năm(?:\s+\d{4}\b)?"
);
re!(DATE_NUMERIC, r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b");
re!(
    DATE_WORDS,
    r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})\b"
);
/// The kinds of document a plan cites, longest first where one begins another.
const BASIS_KINDS: &str = "Chỉ thị|Nghị quyết liên tịch|Nghị quyết|Quyết định|Kết luận|Kế hoạch liên tịch|Kế hoạch|Quy định|Quy chế phối hợp|Quy chế|Hướng dẫn|Thông báo|Thông tri|Công văn|Văn bản|Luật|Nghị định|Thông tư liên tịch|Thông tư|Chương trình phối hợp|Chương trình hành động|Chương trình|Đề án|Điều lệ|Pháp lệnh|Tờ trình|Báo cáo";
re!(
    BASIS,
    &format!(r"({BASIS_KINDS})\s+(?:số\s*:?\s*)?({CODE})")
);
// A law or charter cited by its name only: "Căn cứ Luật Mặt trận Tổ quốc Việt Nam năm 2015".
re!(
    BASIS_NAMED,
    r"(?:^(?:Căn cứ|Thực hiện|Theo)\s+|^|,\s+)(Luật|Bộ luật|Điều lệ|Hiến pháp|Pháp lệnh)\s+([^;,:“”\x22]+?)\s*(?:[;,:.]|$)"
);
// A paragraph that cites what the plan implements, however it begins.
re!(
    BASIS_START,
    r"^(?:Căn cứ|Thực hiện|Theo|Triển khai|Để triển khai|Nhằm triển khai)\s"
);
re!(TABLE_NUMBER, r"^(?:\d{1,3}|[IVX]{1,5}|[a-zđ])[.)]?$");
// The motto however it is typed: "Độc lập – Tự do – Hạnh phuc".
re!(
    MOTTO_LINE,
    r"^(?i:Độc lập\s*[-–—]\s*Tự do\s*[-–—]\s*Hạnh ph[úu]c)"
);
// A line that is only a rule or ornament: "-----", "*", "_______", "***".
re!(ORNAMENT, r"^[-–—_*=~.·•|\s]+$");
// Where copy-paste or Word left one line holding two columns (a tab, or a wide run of spaces).
re!(COLUMN_GAP, r"[ \u{a0}]*\t[ \u{a0}]*|[ \u{a0}]{3,}");
re!(QUOTED, r"[“\x22]([^”\x22]+)[”\x22]");
// Where a basis document's issuer ends and its title begins: a quote, "về", or a word a title
// starts with ("… của Chính phủ quy định chuẩn nghèo …").
re!(
    ISSUER_END,
    r"\s*[“\x22(]|,\s|\s+(?:về|quy định|hướng dẫn|sửa đổi|phê duyệt|ban hành|triển khai|thực hiện|lãnh đạo|tăng cường|đẩy mạnh|tiếp tục|xây dựng|thành lập|kiện toàn|phát động|công bố|chỉ đạo|nâng cao|đổi mới|hỗ trợ|phát triển)[\s,]"
);
// A law cited by name and number: "Luật Mặt trận Tổ quốc Việt Nam số 75/2015/QH13".
re!(
    BASIS_LAW,
    &format!(r"(Luật|Bộ luật|Pháp lệnh|Điều lệ)\s+([^;,“”\x22]{{2,100}}?)\s+số\s*:?\s*({CODE})")
);
re!(
    ISSUER_BUILDS,
    r"[;,.]\s*([^;,.]+?)\s+(?:xây dựng|ban hành)\s+(?:kế hoạch|Kế hoạch)"
);
re!(
    LEAD,
    r"(?:Giao|giao|Đề nghị|đề nghị)?\s*([^.;:]*?)\s+chủ trì"
);
re!(
    PARTNERS,
    r"[Pp]hối hợp(?:\s+chặt chẽ)?\s+với\s+([^.;:]+)|với sự phối hợp của\s+([^.;:]+)"
);
re!(
    PARTNER_SUBJECT,
    r"^([^.;:]{3,150}?)\s+(?:cùng\s+)?phối hợp\b"
);
// Units written out: a line "Cơ quan chủ trì: X", "Đơn vị thực hiện: X", "Chủ trì: X. Phối hợp:
// Y", "Trách nhiệm: X (chủ trì)", or closing a task "(X chủ trì)", "(X chủ trì; Y phối hợp)",
// "(chủ trì: X; phối hợp: Y)". Partners named after a label run to the end of the sentence: "Phối
// hợp: Hội LHPN các huyện A, B; Sở Giáo dục và Đào tạo."
re!(
    NAMED_LEAD,
    r"(?:(?:Cơ quan|Đơn vị|cơ quan|đơn vị) (?:chủ trì|thực hiện)\s*:\s*([^;.\n]+)|(?:Trách nhiệm\s*:\s*|;\s*)([^;()\n]+?)\s*\(chủ trì\)|\(([^();]+?)\s+chủ trì\s*[;,)]|(?:^|\n|\(|\.\s)[Cc]hủ trì\s*:\s*([^;.\n()]+))"
);
re!(
    NAMED_PARTNERS,
    r"(?:(?:Cơ quan|Đơn vị|cơ quan|đơn vị) phối hợp\s*:\s*([^.\n()]+)|;\s*([^;()\n]+?)\s*\(phối hợp\)|[(;]\s*([^();]+?)\s+phối hợp\)|(?:^|\n|\(|;\s|\.\s)[Pp]hối hợp\s*:\s*([^.\n()]+))"
);
re!(
    DONE_BY,
    r"\bdo\s+([^.;:]{3,150}?)\s+(?:chủ trì|tổ chức|thực hiện|đảm nhiệm)\b"
);
// "… X chủ trì, Y phối hợp", "X chủ trì; Y, Z phối hợp", "X làm thường trực, Y phối hợp".
re!(
    DONE_BY_PARTNERS,
    r"(?:chủ trì|thường trực|đầu mối)\s*[,;]\s*([^.;]{3,150}?)\s+phối hợp\b"
);
re!(
    DEADLINE,
    r"(?i:trước|chậm nhất|hoàn thành trong|hạn chót|thời hạn|đến|dự kiến)\s*:?\s+(?:ngày\s+)?(\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{4})?|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?|\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?)"
);
re!(
    DEADLINE_PERIOD,
    r"(?i:trong|đến|thời gian thực hiện\s*:|thời gian\s*:|thời hạn\s*:)\s+(tháng|quý|Quý|Tháng)\s+(\d{1,2}|IV|III|II|I)\b(?:(?:[/-]|\s+năm\s+)(\d{4}))?"
);

/// Words that end a list of units: the predicate of the sentence starts there.
const PREDICATE_STARTS: &[&str] = &[
    " thường xuyên",
    " triển khai",
    " theo dõi",
    " xây dựng",
    " tham mưu",
    " hướng dẫn",
    " kiểm tra",
    " thực hiện",
    " căn cứ",
    " tiếp tục",
    " chỉ đạo",
    " chịu trách nhiệm",
    " tập trung",
    " có trách nhiệm",
    " nghiên cứu",
    " quán triệt",
    " phối hợp",
    " chủ trì",
    " để ",
    " nhằm ",
    " trong việc",
    " biên soạn",
    " tuyên truyền",
    " vận động",
    " giám sát",
    " đôn đốc",
    " rà soát",
    " báo cáo",
    " tham gia",
    " phát động",
    " hỗ trợ",
    " đề xuất",
    " củng cố",
    " kiện toàn",
    " phổ biến",
    " tập huấn",
    " đánh giá",
    " sơ kết",
    " tổng kết",
    " chuẩn bị",
    " bảo đảm",
    " đảm bảo",
    " ban hành",
    " tiến hành",
    " lồng ghép",
    " nắm bắt",
    " tổng hợp",
    " đưa ",
    " lãnh đạo",
    " tiếp nhận",
    " niêm yết",
    " định hướng",
    " thông báo",
    " cung cấp",
    " giới thiệu",
    " thăm",
    " thành lập",
    " xem xét",
    " kết luận",
    " bố trí",
    " tạo điều kiện",
    " quan tâm",
    " ra thư",
    " cập nhật",
    " đẩy mạnh",
    " tăng cường",
    " tăng thời lượng",
    " phấn đấu",
    " duy trì",
    " phụ trách",
    " treo ",
    " lập danh sách",
    " rà soát",
    " xây dựng",
    " làm ",
    " thẩm định",
    " theo chức năng",
    " lựa chọn",
    " được giao",
    " được phân công",
    " là đơn vị",
    " là cơ quan",
    " ra quân",
    " kết nối",
    " là đầu mối",
    " cụ thể hóa",
    " cụ thể hoá",
    " nắm tình hình",
    " nắm chắc",
];

/// Lines that say who or when for the item just above them.
const LABEL_LINES: &[&str] = &[
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Đơn vị thực hiện",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Cơ quan thực hiện",
    "Chủ trì:",
    "Phối hợp:",
    "Trách nhiệm:",
    "Thời gian thực hiện",
    "Thời gian:",
    "Thời hạn",
];

/// Where " tổ chức" is the verb ("Hội LHPN tỉnh tổ chức Liên hoan …") rather than the noun ("các
/// tổ chức chính trị - xã hội", "tổ chức thành viên"): the byte offset of its space.
fn organises_at(s: &str) -> Option<usize> {
    const NOUN_BEFORE: &[&str] = &["các", "Các", "những", "và", "quan"];
    const NOUN_AFTER: &[&str] = &[
        "chính trị",
        "thành viên",
        "đoàn thể",
        "xã hội",
        "cơ sở",
        "cán bộ",
    ];
    s.match_indices(" tổ chức").map(|(i, _)| i).find(|&i| {
        let after = &s[i + " tổ chức".len()..];
        let before = s[..i].rsplit(' ').next().unwrap_or_default();
        (after.is_empty() || after.starts_with(' '))
            && !NOUN_BEFORE.contains(&before)
            && !NOUN_AFTER.iter().any(|n| after.trim_start().starts_with(n))
    })
}

/// Import plain text.
pub fn import_text(text: &str) -> Result<PlanDraft, ImportError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(ImportError::TooLarge("text over 4 MiB"));
    }
    let paragraphs = paragraphs(text);
    if paragraphs.is_empty() {
        return Err(ImportError::Empty);
    }
    if paragraphs.len() > MAX_PARAGRAPHS {
        return Err(ImportError::TooLarge("over 20,000 paragraphs"));
    }
    Ok(Parser::default().run(paragraphs))
}

/// Import a .docx (Office Open XML): the text of `word/document.xml`, paragraph by paragraph.
pub fn import_docx(bytes: &[u8]) -> Result<PlanDraft, ImportError> {
    import_text(&docx_text(bytes)?)
}

/// The paragraphs of a .docx, one per line, with Word's automatic numbering written out.
pub fn docx_text(bytes: &[u8]) -> Result<String, ImportError> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::Docx(e.to_string()))?;
    let mut read = |name: &str| -> Result<Option<String>, ImportError> {
        let mut xml = String::new();
        match zip.by_name(name) {
            Ok(f) => f
                .take(32 * 1024 * 1024)
                .read_to_string(&mut xml)
                .map_err(|e| ImportError::Docx(e.to_string()))?,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(ImportError::Docx(e.to_string())),
        };
        Ok(Some(xml))
    };
    let document = read("word/document.xml")?
        .ok_or_else(|| ImportError::Docx("no word/document.xml".into()))?;
    let numbering = Numbering::parse(&read("word/numbering.xml")?.unwrap_or_default());
    document_xml_text(&document, numbering)
}

/// The value of attribute `w:val` (or another) in a tag's text.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let i = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[i..].find('"')?;
    Some(&tag[i..i + len])
}

/// One level of a Word list: its number format (`decimal`, `upperRoman`, `lowerLetter`, `bullet`,
/// ...), its text pattern (`%1.`, `%1.%2.`, `%3)`) and its start value.
#[derive(Clone, Default)]
struct Level {
    fmt: String,
    text: String,
    start: u32,
}

/// `word/numbering.xml`: list definitions, and the counters of the lists met so far. Plans are often
/// numbered by Word itself (`<w:numPr>`), not in the text: without this, "1." and "a)" would vanish.
#[derive(Default)]
struct Numbering {
    /// numId → abstractNumId.
    nums: std::collections::HashMap<String, String>,
    /// abstractNumId → levels.
    abstract_levels: std::collections::HashMap<String, Vec<Level>>,
    /// numId → current counter per level.
    counters: std::collections::HashMap<String, Vec<u32>>,
}

impl Numbering {
    fn parse(xml: &str) -> Numbering {
        let mut n = Numbering::default();
        let (mut abstract_id, mut num_id, mut level) =
            (None::<String>, None::<String>, None::<usize>);
        for tag in xml.split('<').filter_map(|t| t.split('>').next()) {
            let name = tag.split([' ', '/']).next().unwrap_or_default();
            match name {
                "w:abstractNum" => abstract_id = attr(tag, "w:abstractNumId").map(str::to_string),
                "w:lvl" => level = attr(tag, "w:ilvl").and_then(|v| v.parse().ok()),
                "w:num" => num_id = attr(tag, "w:numId").map(str::to_string),
                "w:abstractNumId" => {
                    if let (Some(num), Some(v)) = (&num_id, attr(tag, "w:val")) {
                        n.nums.insert(num.clone(), v.to_string());
                    }
                }
                "w:start" | "w:numFmt" | "w:lvlText" => {
                    let (Some(a), Some(l), Some(v)) = (&abstract_id, level, attr(tag, "w:val"))
                    else {
                        continue;
                    };
                    if l > 8 {
                        continue;
                    }
                    let levels = n.abstract_levels.entry(a.clone()).or_default();
                    if levels.len() <= l {
                        levels.resize(
                            l + 1,
                            Level {
                                start: 1,
                                ..Level::default()
                            },
                        );
                    }
                    let lv = &mut levels[l];
                    match name {
                        "w:start" => lv.start = v.parse().unwrap_or(1).min(MAX_LIST_NUMBER),
                        "w:numFmt" => lv.fmt = v.to_string(),
                        _ => lv.text = unescape_xml(v).chars().take(MAX_LEVEL_TEXT).collect(),
                    }
                }
                _ => {}
            }
        }
        n
    }

    /// The number text of the next paragraph of list `num_id` at `level` (`""` for unknown lists).
    fn next(&mut self, num_id: &str, level: usize) -> String {
        let Some(levels) = self
            .nums
            .get(num_id)
            .and_then(|a| self.abstract_levels.get(a))
        else {
            return String::new();
        };
        if level >= levels.len() {
            return String::new();
        }
        let counters = self.counters.entry(num_id.to_string()).or_default();
        if counters.len() < levels.len() {
            counters.resize(levels.len(), 0);
        }
        // This level advances; the levels below it start again.
        counters[level] = if counters[level] == 0 {
            levels[level].start
        } else {
            (counters[level] + 1).min(MAX_LIST_NUMBER)
        };
        for c in counters.iter_mut().skip(level + 1) {
            *c = 0;
        }
        let lv = &levels[level];
        if lv.fmt == "bullet" || lv.fmt == "none" {
            return if lv.fmt == "bullet" {
                "- ".into()
            } else {
                String::new()
            };
        }
        let mut out = lv.text.clone();
        for (i, l) in levels.iter().enumerate().take(level + 1) {
            let value = counters[i].max(l.start);
            out = out.replace(&format!("%{}", i + 1), &format_number(&l.fmt, value));
        }
        if out.is_empty() {
            out
        } else {
            format!("{out} ")
        }
    }
}

fn format_number(fmt: &str, n: u32) -> String {
    fn roman(mut n: u32) -> String {
        const R: [(u32, &str); 13] = [
            (1000, "M"),
            (900, "CM"),
            (500, "D"),
            (400, "CD"),
            (100, "C"),
            (90, "XC"),
            (50, "L"),
            (40, "XL"),
            (10, "X"),
            (9, "IX"),
            (5, "V"),
            (4, "IV"),
            (1, "I"),
        ];
        let mut s = String::new();
        for (v, r) in R {
            while n >= v {
                s.push_str(r);
                n -= v;
            }
        }
        s
    }
    let letter = |n: u32| char::from(b'a' + ((n.max(1) - 1) % 26) as u8).to_string();
    match fmt {
        "upperRoman" => roman(n),
        "lowerRoman" => roman(n).to_lowercase(),
        "lowerLetter" => letter(n),
        "upperLetter" => letter(n).to_uppercase(),
        _ => n.to_string(),
    }
}

/// Paragraph text out of WordprocessingML: `<w:t>` runs joined, `<w:tab/>` as a space, `<w:br/>` and
/// `</w:p>` as line ends (table cells are paragraphs too, read in order), and the number Word's
/// automatic numbering (`<w:numPr>`) gives the paragraph written in front, as a typist would have.
fn document_xml_text(xml: &str, mut numbering: Numbering) -> Result<String, ImportError> {
    let mut out = String::new();
    // The paragraph being read, and the table row it is in (its cells' paragraphs).
    let mut para = String::new();
    let mut row: Option<Vec<Vec<String>>> = None;
    let mut rest = xml;
    let (mut ilvl, mut num_id) = (0usize, None::<String>);
    while let Some(lt) = rest.find('<') {
        if out.len() + para.len() > MAX_TEXT_BYTES {
            return Err(ImportError::TooLarge("text over 4 MiB"));
        }
        let Some(gt) = rest[lt..].find('>') else {
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        let after = &rest[lt + gt + 1..];
        match name {
            "w:p" => {
                ilvl = 0;
                num_id = None;
            }
            "w:ilvl" => ilvl = attr(tag, "w:val").and_then(|v| v.parse().ok()).unwrap_or(0),
            "w:numId" => num_id = attr(tag, "w:val").map(str::to_string),
            "w:t" if !tag.ends_with('/') => {
                // The first text of a numbered paragraph: its number goes first.
                if let Some(id) = num_id.take() {
                    para.push_str(&numbering.next(&id, ilvl));
                }
                let end = after.find("</w:t>").unwrap_or(after.len());
                para.push_str(&unescape_xml(&after[..end]));
                rest = &after[end..];
                continue;
            }
            // A tab separates columns (a header's two sides); a line break, lines.
            "w:tab" => para.push('\t'),
            "w:br" => para.push('\n'),
            "w:tr" if !tag.ends_with('/') => row = Some(Vec::new()),
            "w:tc" if !tag.ends_with('/') => {
                if let Some(r) = row.as_mut() {
                    r.push(Vec::new());
                }
            }
            _ if tag == "/w:p" => match row.as_mut().and_then(|r| r.last_mut()) {
                Some(cell) => cell.push(std::mem::take(&mut para)),
                None => {
                    out.push_str(&para);
                    out.push('\n');
                    para.clear();
                }
            },
            _ if tag == "/w:tr" => {
                if let Some(cells) = row.take() {
                    table_row_text(&cells, &mut out);
                }
            }
            _ => {}
        }
        rest = after;
    }
    out.push_str(&para);
    Ok(out)
}

/// A Word table row as text. Three cells or more are a row of a table of tasks: one line, cells
/// apart by a tab, each cell's paragraphs joined. One or two cells are a layout (a header's or a
/// signature's two columns): each cell's paragraphs as lines, one column after the other.
fn table_row_text(cells: &[Vec<String>], out: &mut String) {
    let clean = |p: &String| p.split_whitespace().collect::<Vec<_>>().join(" ");
    if cells.len() >= 3 {
        let line: Vec<String> = cells
            .iter()
            .map(|c| {
                let text = c
                    .iter()
                    .map(clean)
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                // An empty cell still holds its column.
                if text.is_empty() {
                    "-".to_string()
                } else {
                    text
                }
            })
            .collect();
        out.push_str(&line.join("\t"));
        out.push('\n');
    } else {
        for p in cells.iter().flatten() {
            out.push_str(p);
            out.push('\n');
        }
    }
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Lines → paragraphs: blank lines separate; a line starting in lower case continues the previous
/// paragraph (a sentence broken by a page break or a hard wrap).
/// Lines → paragraphs, whitespace collapsed. Where one line holds several columns (a tab or a wide
/// gap: a two-column header or signature flattened by copy-paste, a table row) the cells are kept
/// apart by a tab. A line starting in lower case continues the paragraph before it.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut cells: Vec<String> = Vec::new();
        let raw: Vec<&str> = COLUMN_GAP.split(line).collect();
        // A row of three cells or more keeps an empty cell's place ("-"): its columns count.
        let row = raw.iter().filter(|c| !c.trim().is_empty()).count() >= 3;
        let first = raw.iter().position(|c| !c.trim().is_empty()).unwrap_or(0);
        for (i, cell) in raw.iter().enumerate() {
            let cell = cell.split_whitespace().collect::<Vec<_>>().join(" ");
            let cell = if row && cell.is_empty() && i > first {
                "-".to_string()
            } else {
                cell
            };
            match cells.last_mut() {
                // "Số:      /KH-UBND": a number left blank to be filled in by hand.
                // "Lục Nam, ngày      tháng 11 năm 2015": a date left blank, not two columns.
                Some(last)
                    if (NUMBER_LINE.is_match(last) && cell.starts_with(['/', '-']))
                        || (last.contains("ngày")
                            && (cell.starts_with("tháng") || cell.starts_with("năm"))) =>
                {
                    last.push(' ');
                    last.push_str(&cell);
                }
                _ if cell.is_empty() => {}
                _ => cells.push(cell),
            }
        }
        if cells.is_empty() {
            continue;
        }
        let line = cells.join("\t");
        let item = |l: &str| {
            LETTERED.is_match(l)
                || BULLET.is_match(l)
                || NUMBERED.is_match(l)
                || SUBNUMBERED.is_match(l)
                || ROMAN.captures(l).is_some_and(|c| !c[1].is_empty())
        };
        // A line broken mid-sentence: the next starts in lower case, or this one stops on a
        // comma or a word that cannot end a sentence ("… của" / "Ban Thường vụ Huyện ủy").
        let open_end = out.last().is_some_and(|p| {
            p.ends_with(',')
                || [
                    " của", " và", " với", " các", " cho", " về", " theo", " trong", " số",
                    " ngày", " -", " –",
                ]
                .iter()
                .any(|w| p.ends_with(w))
        });
        let continues = cells.len() == 1
            && (line.chars().next().is_some_and(|c| c.is_lowercase()) || open_end)
            && !item(&line)
            && line.to_uppercase() != line
            // Not after a heading in capitals ("KẾ HOẠCH" / "triển khai ...": the title starts
            // there), nor after a row of cells.
            && out
                .last()
                .is_some_and(|p| !p.ends_with(':') && p.to_uppercase() != *p && !p.contains('\t'));
        match out.last_mut() {
            Some(prev) if continues => {
                prev.push(' ');
                prev.push_str(&line);
            }
            _ => out.push(line),
        }
    }
    out
}

/// `22/02/2022` or "ngày 22 tháng 02 năm 2022" (first found) → `2022-02-22`.
pub fn find_date(s: &str) -> Option<String> {
    let (d, m, y) = DATE_NUMERIC
        .captures(s)
        .or_else(|| DATE_WORDS.captures(s))
        .map(|c| {
            (
                c[1].parse::<u32>().ok(),
                c[2].parse::<u32>().ok(),
                c[3].parse::<i32>().ok(),
            )
        })?;
    let iso = format!("{:04}-{:02}-{:02}", y?, m?, d?);
    shared::ids::parse_iso_date(&iso).map(|_| iso)
}

/// A task's deadline: "trước ngày 15/12/2026", "chậm nhất ngày 15 tháng 12 năm 2026", or the last day
/// of a period it must be done in ("trong tháng 12/2026", "hoàn thành trong quý IV năm 2026"). A
/// date or period written without its year ("trước ngày 10/6", "trong quý IV") is in `year`, the
/// plan's.
pub fn deadline_of(text: &str, year: Option<i32>) -> Option<String> {
    if let Some(c) = DEADLINE.captures(text) {
        let nums: Vec<&str> = c[1]
            .split(|ch: char| !ch.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .collect();
        let dmy = match (nums.as_slice(), year) {
            ([d, m, y], _) => format!("{d}/{m}/{y}"),
            ([d, m], Some(y)) => format!("{d}/{m}/{y}"),
            _ => String::new(),
        };
        if let Some(d) = find_date(&dmy) {
            return Some(d);
        }
    }
    let c = DEADLINE_PERIOD.captures(text)?;
    let year: i32 = match c.get(3) {
        Some(y) => y.as_str().parse().ok()?,
        None => year?,
    };
    let n: u32 = match &c[2] {
        "I" => 1,
        "II" => 2,
        "III" => 3,
        "IV" => 4,
        d => d.parse().ok()?,
    };
    let month = match c[1].to_lowercase().as_str() {
        "quý" if (1..=4).contains(&n) => n * 3,
        "tháng" if (1..=12).contains(&n) => n,
        _ => return None,
    };
    (28..=31)
        .rev()
        .map(|d| format!("{year:04}-{month:02}-{d:02}"))
        .find(|iso| shared::ids::parse_iso_date(iso).is_some())
}

fn recurrence(s: &str) -> Option<Recurrence> {
    let l = s.to_lowercase();
    let has = |w: &str| {
        [
            "định kỳ hàng ",
            "định kỳ hằng ",
            "định kỳ ",
            "hàng ",
            "hằng ",
            "mỗi ",
        ]
        .iter()
        .any(|p| l.contains(&format!("{p}{w}")))
    };
    let every = |w: &str| l.contains(&format!("{w} một lần")) || l.contains(&format!("{w}/lần"));
    if has("quý") || every("quý") || every("3 tháng") {
        Some(Recurrence::Quarterly)
    } else if has("6 tháng") || has("sáu tháng") || every("6 tháng") || every("sáu tháng") {
        Some(Recurrence::Semiannual)
    } else if has("tháng") || every("tháng") {
        Some(Recurrence::Monthly)
    } else if has("năm") || every("năm") || every("mỗi năm") {
        Some(Recurrence::Yearly)
    } else {
        None
    }
}

/// Words a unit's name starts with: " và " separates two units only before one of these, so that
/// "Hội Nông dân và Hội Phụ nữ" is two units and "Ban Tuyên giáo và Dân vận" (one body since the
/// 2025 reform) stays one.
const UNIT_HEADS: &[&str] = &[
    "Ban ",
    "Hội ",
    "Ủy ban",
    "Uỷ ban",
    "UBND",
    "UBMTTQ",
    "Mặt trận",
    "MTTQ",
    "Đoàn ",
    "Huyện đoàn",
    "Tỉnh đoàn",
    "Thành đoàn",
    "Công đoàn",
    "Liên đoàn",
    "Phòng ",
    "Văn phòng",
    "Sở ",
    "Trung tâm",
    "Đảng ủy",
    "Đảng uỷ",
    "Đảng bộ",
    "Chi bộ",
    "Cấp ủy",
    "Thường trực",
    "Công an",
    "Ban Chỉ huy",
    "Quân sự",
    "Viện ",
    "Trường ",
    "các ",
    "Các ",
    "Huyện ủy",
    "Huyện uỷ",
    "Tỉnh ủy",
    "Tỉnh uỷ",
    "Thị ủy",
    "Thành ủy",
    "Ban Thường vụ",
    "Ủy ban kiểm tra",
    "UBKT",
    "Cơ quan",
    "Cấp uỷ",
    "Bí thư",
    "Chủ tịch",
    "Người đứng đầu",
    "Thủ trưởng",
    "Bộ ",
    "Cục ",
    "Chi cục",
    "Tổng cục",
    "Báo ",
    "Đài ",
    "Tòa án",
    "Kho bạc",
    "Ngân hàng",
    "Thanh tra",
    "Hội đồng",
    "Tổ ",
    "Công chức",
    "công chức",
    "Trưởng ",
    "Quận ủy",
    "Đảng đoàn",
    "Ban cán sự",
    "Đồn ",
    "Bệnh viện",
    "Hợp tác xã",
    "Rà soát viên",
    "Quỹ ",
    "Chi đoàn",
    "Chi hội",
    "Liên chi",
    "Liên minh",
];

/// Split an enumeration of units ("A, B và C"; "A; B") and clean each part. A comma separates units
/// only before a capitalised name or "các" ("UBND các xã, thị trấn" is one unit); " và " only before
/// a unit's head word (see [`UNIT_HEADS`]).
fn split_units(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, piece) in s.split([',', ';']).enumerate() {
        let piece = piece.trim();
        // "Sở Văn hóa, Thể thao và Du lịch" is one unit: a comma parts units before a unit's
        // head word ("Ban …", "UBND …", "các …"), not before any capital.
        let starts_unit = starts_unit(piece);
        match out.last_mut() {
            Some(last) if i > 0 && !starts_unit => {
                last.push_str(", ");
                last.push_str(piece);
            }
            _ => out.push(piece.to_string()),
        }
    }
    out.into_iter()
        .flat_map(|p| {
            let mut parts: Vec<String> = Vec::new();
            for (i, piece) in p.split(" và ").enumerate() {
                // "Văn phòng HĐND và UBND xã" is one office, in every district and commune.
                let one_office = |last: &str| {
                    (last.ends_with("HĐND") || last.ends_with("Hội đồng nhân dân"))
                        && ["UBND", "Ủy ban nhân dân", "Uỷ ban nhân dân"]
                            .iter()
                            .any(|u| piece.starts_with(u))
                };
                match parts.last_mut() {
                    Some(last)
                        if i > 0
                            && (!UNIT_HEADS.iter().any(|h| piece.starts_with(h))
                                || one_office(last)) =>
                    {
                        last.push_str(" và ");
                        last.push_str(piece);
                    }
                    _ => parts.push(piece.to_string()),
                }
            }
            parts
        })
        .map(|p| p.trim().trim_end_matches(['.', ':']).trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Cut a phrase where the predicate starts ("... thường xuyên theo dõi" → "...").
fn cut_at_predicate(s: &str) -> &str {
    // Not within a unit's first two words: "Ban vận động Quỹ …", "Ban chỉ đạo huyện"; a steering
    // committee's name goes on to what it steers: "Ban Chỉ đạo thực hiện Quy chế dân chủ …".
    let lead = s.trim_start();
    let words = if ["Ban Chỉ đạo ", "Ban chỉ đạo "]
        .iter()
        .any(|b| lead.starts_with(b))
    {
        4
    } else {
        1
    };
    let skip = s.len() - lead.len()
        + lead
            .match_indices(' ')
            .nth(words)
            .map_or(lead.len(), |(i, _)| i);
    let cut = PREDICATE_STARTS
        .iter()
        .filter_map(|w| {
            s.match_indices(w)
                .map(|(i, _)| i)
                // "Trung tâm Dịch vụ việc làm tỉnh": "làm" of "việc làm" is no verb.
                .filter(|&i| !(*w == " làm " && s[..i].ends_with("việc")))
                .find(|&i| i >= skip || !starts_unit(lead))
        })
        .chain(organises_at(s).filter(|&i| i >= skip || !starts_unit(lead)))
        .min()
        .unwrap_or(s.len());
    &s[..cut]
}

/// Whether a phrase names another kind of document ("Hộ tịch và Quyết định").
fn names_a_kind(s: &str) -> bool {
    BASIS_KINDS.split('|').any(|k| s.contains(&format!(" {k}")))
}

/// What follows a basis document's number: its date, its issuer ("của …") and its title (in
/// quotes, or as written after the issuer: "về …", "quy định …"). A `joint` document (liên
/// tịch, phối hợp) has several issuers, listed with commas.
fn basis_details(clause: &str, joint: bool) -> (Option<String>, Option<String>, Option<String>) {
    let date = find_date(clause);
    let after_date = DATE_NUMERIC
        .find(clause)
        .or_else(|| DATE_WORDS.find(clause))
        .map_or(0, |m| m.end());
    let rest = clause[after_date..].trim_start_matches([',', ' ', ')']);
    let (issuer, rest) = match rest.strip_prefix("của ") {
        Some(r) => {
            let another_issuer = |m: &regex::Match| {
                joint
                    && m.as_str().starts_with(',')
                    && r[m.end()..].starts_with(|c: char| c.is_uppercase())
            };
            let cut = ISSUER_END
                .find_iter(r)
                .find(|m| !another_issuer(m))
                .map_or(r.len(), |m| m.start());
            let who = r[..cut].trim().trim_end_matches([',', '.']).to_string();
            (Some(who).filter(|w| !w.is_empty()), &r[cut..])
        }
        None => (None, rest),
    };
    // The plan's own issuer may follow the last reference: "…, Ban Thường vụ Tỉnh ủy ban hành".
    let rest = match ISSUER_BUILDS.find(rest) {
        Some(m) => &rest[..m.start()],
        None => rest,
    };
    let rest = rest
        .trim_start_matches([',', ' ', ':'])
        .trim_end_matches([',', '.', ' ']);
    let rest = [" và", " và các", " của"]
        .iter()
        .find_map(|w| rest.strip_suffix(w))
        .unwrap_or(rest);
    // Quoted, possibly after "về": the words inside the quotes.
    let quoted = rest
        .strip_prefix("về việc ")
        .or_else(|| rest.strip_prefix("về "))
        .unwrap_or(rest);
    let title = match QUOTED.captures(quoted) {
        Some(q)
            if q.get(0)
                .is_some_and(|m| m.start() == 0 && m.end() == quoted.len()) =>
        {
            Some(q[1].trim().to_string())
        }
        _ => Some(rest.to_string()),
    };
    (
        date,
        issuer,
        title.filter(|t| t.chars().any(char::is_alphanumeric)),
    )
}

/// Whether a phrase begins with a unit's name ("Ban Tuyên giáo …", "UBND các xã …", "các chi bộ").
fn starts_unit(s: &str) -> bool {
    // Words that begin like a unit but are an action or a thing: "Ban hành …", "Hội nghị …".
    const NOT_UNITS: &[&str] = &[
        "Ban hành",
        "Hội nghị",
        "Hội thi",
        "Hội diễn",
        "Hội thảo",
        "Đoàn kết",
        "Các hình thức",
        "Các hội nghị",
        "Các cuộc",
        "Các lớp",
        "Các nội dung",
        "Các hoạt động",
        "Các văn bản",
        "Các chỉ tiêu",
        "Các giải pháp",
        "các hình thức",
        "các nội dung",
        "các hoạt động",
        "Tổ chức",
        "Bộ tiêu chí",
        "Báo cáo",
    ];
    UNIT_HEADS.iter().any(|h| s.starts_with(h)) && !NOT_UNITS.iter().any(|n| s.starts_with(n))
}

/// Lead and coordinating units of a task's text. In the implementation section the grammatical
/// subject is the lead when no "chủ trì" is written ("Ban Tổ chức Huyện ủy tham mưu ...").
fn units_of(text: &str, implementation: bool) -> (Vec<String>, Vec<String>) {
    // Written out: "Cơ quan chủ trì: X", "Trách nhiệm: X (chủ trì); Y (phối hợp)", "(X chủ trì)".
    let named = |re: &Regex| -> Vec<String> {
        re.captures_iter(text)
            .filter_map(|c| {
                c.iter()
                    .skip(1)
                    .flatten()
                    .next()
                    // "(X chủ trì, Y phối hợp)": the partners are after the lead's clause.
                    .map(|m| {
                        m.as_str()
                            .rsplit("chủ trì,")
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_string()
                    })
            })
            .flat_map(|who| split_units(&who))
            .filter(|u| starts_unit(u))
            .collect()
    };
    let (lead, partners) = (named(&NAMED_LEAD), named(&NAMED_PARTNERS));
    if !lead.is_empty() {
        return (lead, partners);
    }
    let first_line = text.lines().next().unwrap_or(text);
    let first_sentence = first_line.split(". ").next().unwrap_or(first_line);
    let first_sentence = ["Đề nghị ", "đề nghị "]
        .iter()
        .find_map(|p| first_sentence.strip_prefix(p))
        .unwrap_or(first_sentence);
    // "Công tác khen thưởng: Ban Tổ chức … chủ trì": a topic before the colon, the work after it.
    let first_sentence = match first_sentence.split_once(": ") {
        Some((topic, rest))
            if topic.chars().count() <= 60 && !starts_unit(topic) && starts_unit(rest) =>
        {
            rest
        }
        _ => first_sentence,
    };
    // "… do Ban Tuyên giáo Huyện ủy chủ trì, Văn phòng Huyện ủy phối hợp", "… do X tổ chức".
    if let Some(c) = DONE_BY.captures(first_sentence)
        && starts_unit(c[1].trim())
    {
        let partners = DONE_BY_PARTNERS
            .captures(first_sentence)
            .map(|p| split_units(p[1].trim()))
            .unwrap_or(partners);
        return (split_units(c[1].trim()), partners);
    }
    // "Hội Nông dân và Đoàn Thanh niên phối hợp …": units that only coordinate. ("X phối hợp
    // với Y …" is X's work, done with Y: below.)
    if let Some(c) = PARTNER_SUBJECT.captures(first_sentence)
        && !first_sentence[c.get(0).map_or(0, |m| m.end())..].starts_with(" với")
        && starts_unit(c[1].trim())
        && !c[1].contains("chủ trì")
        && cut_at_predicate(&format!(" {}", c[1].trim())).trim() == c[1].trim()
    {
        return (Vec::new(), split_units(c[1].trim()));
    }
    let mut lead = Vec::new();
    if let Some(c) = LEAD.captures(first_sentence) {
        let who = c[1].trim();
        let who = who.rsplit(['.', ';']).next().unwrap_or(who).trim();
        let who = who
            .strip_prefix("Giao ")
            .or_else(|| who.strip_prefix("giao "))
            .unwrap_or(who);
        // "X được giao chủ trì", "X là đơn vị chủ trì": the unit is before the verb.
        let who = [" được giao", " được phân công", " là đơn vị", " là cơ quan"]
            .iter()
            .find_map(|v| who.strip_suffix(v))
            .unwrap_or(who);
        // "Là cơ quan thường trực, chủ trì …": no unit named here (the heading above names it).
        if starts_unit(who) {
            lead = split_units(who.trim_end_matches(','));
        }
    } else if implementation || directs(first_sentence) {
        let subject = cut_at_predicate(first_sentence)
            .trim()
            .trim_end_matches(',');
        // Split on ", " only before a capitalised unit name: "UBND huyện, UBND các xã, thị trấn".
        let mut parts: Vec<String> = Vec::new();
        for piece in subject.split(", ") {
            match parts.last_mut() {
                Some(last) if !piece.chars().next().is_some_and(char::is_uppercase) => {
                    last.push_str(", ");
                    last.push_str(piece);
                }
                _ => parts.push(piece.to_string()),
            }
        }
        if subject.chars().count() <= 160 && starts_unit(subject) {
            lead = parts.into_iter().filter(|p| !p.is_empty()).collect();
        }
    }
    let partners = match PARTNERS.captures(first_sentence) {
        Some(c) => {
            let who = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            split_units(cut_at_predicate(&format!(" {who}")))
        }
        // "…; X làm thường trực, Y phối hợp": the units after the lead's clause.
        None => match DONE_BY_PARTNERS.captures(first_sentence) {
            Some(p) if starts_unit(p[1].trim()) => split_units(p[1].trim()),
            // "Hội Nông dân và Đoàn Thanh niên phối hợp …": the subject coordinates.
            _ => PARTNER_SUBJECT
                .captures(first_sentence)
                .map(|c| c[1].trim().to_string())
                .filter(|who| starts_unit(who) && lead.is_empty())
                .map(|who| split_units(&who))
                .unwrap_or_default(),
        },
    };
    (lead, partners)
}

/// Outside the implementation section a sentence's subject leads only when the verb gives it the
/// work at once ("Ban Thường vụ Huyện ủy chỉ đạo …", "Đảng ủy các xã ban hành kế hoạch …"), not
/// when it states a goal ("Các cấp ủy … tiếp tục nhận thức …", "… tập trung chỉ đạo …").
fn directs(sentence: &str) -> bool {
    const DIRECTIVE: &[&str] = &[
        "chỉ đạo",
        "xây dựng",
        "ban hành",
        "tổ chức",
        "rà soát",
        "ra thư",
        "triển khai",
        "tham mưu",
        "hướng dẫn",
        "chủ động",
        "thành lập",
        "lập danh sách",
        "tổng hợp",
        "báo cáo",
        "có trách nhiệm",
        "chịu trách nhiệm",
        "giám sát",
        "phối hợp với",
        "phụ trách",
        "làm đầu mối",
        "làm thường trực",
        "được giao",
        "được phân công",
        "là đơn vị",
        "là cơ quan",
    ];
    let subject = cut_at_predicate(sentence);
    let predicate = sentence[subject.len()..].trim_start();
    starts_unit(subject.trim()) && DIRECTIVE.iter().any(|v| predicate.starts_with(v))
}

/// An item that names its unit first: "Ban Tuyên giáo Huyện ủy: chủ trì …", "3. Đề nghị Ủy ban
/// MTTQ và các đoàn thể huyện:", or a heading that is only a unit's name ("1. Ban Dân vận Huyện
/// ủy"). The units, and the text after the colon.
fn unit_heading(text: &str) -> Option<(Vec<String>, String)> {
    let first = text.lines().next().unwrap_or(text);
    let strip = |s: &str| -> String {
        let s = s.trim();
        ["Giao ", "giao ", "Đề nghị ", "đề nghị ", "Đối với "]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .unwrap_or(s)
            .to_string()
    };
    let (who, rest) = match first.split_once(':') {
        // "Các tổ chức thành viên … có trách nhiệm:": the duty is what follows.
        Some((who, rest)) => {
            let who = strip(who);
            let who = [" có trách nhiệm", " chịu trách nhiệm", " có nhiệm vụ"]
                .iter()
                .find_map(|d| who.strip_suffix(d))
                .map_or(who.clone(), str::to_string);
            (who, rest.trim().to_string())
        }
        None if first.chars().count() <= 100 && !first.contains(['.', ';']) => {
            (strip(first), String::new())
        }
        None => return None,
    };
    let plain = cut_at_predicate(&format!(" {who}")).trim() == who;
    (starts_unit(&who) && plain && who.split(' ').count() <= 16).then(|| (split_units(&who), rest))
}

/// A short heading line (no final period) versus a paragraph that is itself the task.
fn is_heading(s: &str) -> bool {
    s.chars().count() <= 100 && !s.ends_with('.') && !s.ends_with(';')
}

/// The first sentence, shortened at a word boundary: a title for a task that is one long paragraph.
fn title_of(s: &str) -> String {
    let s = s.trim_end_matches(':');
    let first = s.split(". ").next().unwrap_or(s).trim_end_matches('.');
    if first.chars().count() <= 140 {
        return first.to_string();
    }
    let mut out = String::new();
    for w in first.split(' ') {
        if out.chars().count() + w.chars().count() > 130 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

fn task(number: String, line: &str) -> TaskDraft {
    TaskDraft {
        number,
        title: title_of(line),
        text: line.to_string(),
        lead_units: Vec::new(),
        partner_units: Vec::new(),
        recurrence: None,
        deadline: None,
        children: Vec::new(),
    }
}

/// Type lines, longest first where one begins another.
const DOC_TYPES: &[&str] = &[
    "KẾ HOẠCH LIÊN TỊCH",
    "KẾ HOẠCH PHỐI HỢP",
    "KẾ HOẠCH",
    "CHƯƠNG TRÌNH PHỐI HỢP",
    "CHƯƠNG TRÌNH HÀNH ĐỘNG",
    "CHƯƠNG TRÌNH",
    "HƯỚNG DẪN",
];

/// The header's fixed lines: the Party's name and the national motto.
const MOTTO: &[&str] = &[
    "ĐẢNG CỘNG SẢN VIỆT NAM",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Độc lập – Tự do – Hạnh phúc",
    "Độc lập-Tự do-Hạnh phúc",
    "ĐOÀN TNCS HỒ CHÍ MINH",
    "ĐOÀN THANH NIÊN CỘNG SẢN HỒ CHÍ MINH",
    // The motto broken over two lines, as a web page's table copies.
    "CỘNG HÒA XÃ HỘI",
    "CỘNG HOÀ XÃ HỘI",
    "CHỦ NGHĨA VIỆT NAM",
    "*",
];

/// The first line of a signature block: "T/M BAN THƯỜNG VỤ", "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH".
fn is_signature_start(p: &str) -> bool {
    [
        "T/M ", "TM.", "TM ", "K/T ", "KT.", "KT ", "Q.", "TL.", "T/L ", "TUQ.", "TUQ ",
    ]
    .iter()
    .any(|x| p.starts_with(x))
        && p.to_uppercase() == p
}

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum Zone {
    #[default]
    Header,
    Title,
    Preamble,
    Body,
    Recipients,
    Signature,
}

#[derive(Default)]
struct Parser {
    draft: PlanDraft,
    zone: Zone,
    /// Whether the current numbered item started as a heading line (its text follows).
    heading_item: bool,
    /// The items of the current section still open for children, outermost first.
    open: Vec<Open>,
    /// The columns of the table being read, from its header row.
    table: Option<Columns>,
    /// Tasks whose units were read from a table's columns (not to be guessed from their text).
    preset: std::collections::HashSet<String>,
}

/// How an item was marked: what decides where the next item goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `1.`, `1.2.`, `1.2` (the dotted number is the position).
    Number,
    /// `a)`.
    Letter,
    /// `-`, `+`, `•`: a repeated mark is a sibling, a new mark a level deeper.
    Bullet(char),
    /// A row of a table.
    Row,
}

/// An item still open for children.
struct Open {
    marker: Marker,
    /// As printed: `1.2` for a numbered item.
    label: String,
    /// Its place among its siblings.
    index: usize,
}

/// Which cell of a table row holds what (from the header row, or by the row's width).
#[derive(Clone, Copy)]
struct Columns {
    content: usize,
    lead: Option<usize>,
    partners: Option<usize>,
    time: Option<usize>,
}

impl Columns {
    fn by_width(n: usize) -> Columns {
        Columns {
            content: 1,
            lead: Some(2).filter(|&i| i < n),
            partners: Some(3).filter(|_| n >= 5),
            time: Some(n - 1).filter(|_| n >= 4),
        }
    }
}

/// A section's kind from its title.
fn section_kind(title: &str) -> SectionKind {
    let t = title.to_uppercase();
    if t.contains("MỤC ĐÍCH") || t.contains("YÊU CẦU") && !t.contains("NHIỆM VỤ") {
        SectionKind::Purposes
    } else if t.contains("TỔ CHỨC THỰC HIỆN") {
        SectionKind::Implementation
    } else {
        SectionKind::Contents
    }
}

impl Parser {
    fn run(mut self, paragraphs: Vec<String>) -> PlanDraft {
        for p in paragraphs {
            self.paragraph(p);
        }
        self.finish()
    }

    fn paragraph(&mut self, p: String) {
        if ORNAMENT.is_match(&p) {
            // Rules and stars under a header line: ornament, not content.
            return;
        }
        let cells: Vec<&str> = p.split('\t').collect();
        if p.starts_with("Nơi nhận") {
            // "Nơi nhận:" and, in the state layout, the signature's first line beside it.
            self.zone = Zone::Recipients;
            let rest = cells[0]["Nơi nhận".len()..].trim_start_matches([':', ' ']);
            // A stray mark typed onto the label ("Nơi nhận/nh") is part of it; words are kept.
            if rest.contains(' ') || rest.chars().count() > 4 {
                self.draft.unclassified.push(rest.to_string());
            }
            for cell in &cells[1..] {
                self.signature(cell);
            }
            return;
        }
        match self.zone {
            Zone::Recipients => {
                // Left column: the recipients; right column (if on the same line): the signature.
                let (left, right) = cells.split_first().expect("a paragraph has a cell");
                if let Some(c) = BULLET.captures(left) {
                    self.draft
                        .recipients
                        .push(c[1].trim().trim_end_matches([',', ';', '.']).to_string());
                } else {
                    self.zone = Zone::Signature;
                    self.signature(left);
                }
                for cell in right {
                    self.signature(cell);
                }
            }
            Zone::Signature => {
                for cell in cells {
                    self.signature(cell);
                }
            }
            Zone::Header | Zone::Title | Zone::Preamble
                if ROMAN.captures(&p).is_some_and(|c| !c[1].is_empty()) =>
            {
                self.zone = Zone::Body;
                self.body(p);
            }
            Zone::Header => {
                for cell in cells {
                    if self.zone == Zone::Header {
                        self.header(cell.to_string());
                    } else {
                        // The type line sent the rest of the row on to the title.
                        self.paragraph(cell.to_string());
                    }
                }
            }
            // No type line yet, and the "title" was header: the number, place and date, the
            // motto or the type line after it. What was taken for a title is listed instead.
            Zone::Title
                if self.draft.doc_type.is_none()
                    && cells.iter().any(|c| {
                        NUMBER_LINE.is_match(c)
                            || PLACE_DATE.is_match(c)
                            || PLACE_BLANK_DATE.is_match(c)
                            || MOTTO_LINE.is_match(c)
                            || DOC_TYPES.iter().any(|t| c.starts_with(t))
                    }) =>
            {
                let title = std::mem::take(&mut self.draft.title);
                self.keep(&title);
                self.zone = Zone::Header;
                self.paragraph(p);
            }
            Zone::Title => {
                let p = p.replace('\t', " ");
                let looks_like_basis =
                    BASIS.is_match(&p) || BASIS_START.is_match(&p) || BASIS_NAMED.is_match(&p);
                if self.draft.title.is_empty()
                    || (!looks_like_basis && is_heading(&p) && !p.contains(';'))
                {
                    if !self.draft.title.is_empty() {
                        self.draft.title.push(' ');
                    }
                    self.draft.title.push_str(&p);
                } else {
                    self.zone = Zone::Preamble;
                    self.preamble(p);
                }
            }
            Zone::Preamble => self.preamble(p.replace('\t', " ")),
            Zone::Body if is_signature_start(cells[0]) => {
                // The signature block before "Nơi nhận" (the right column pasted first).
                self.zone = Zone::Signature;
                for cell in cells {
                    self.signature(cell);
                }
            }
            Zone::Body => self.body(p),
        }
    }

    /// One cell of the header: the issuing body, the national motto, the number, place and date,
    /// or the type line ("KẾ HOẠCH", possibly with the title after it).
    fn header(&mut self, p: String) {
        let upper = p.to_uppercase() == p && p.chars().any(char::is_alphabetic);
        if let Some(c) = NUMBER_LINE.captures(&p) {
            let code = c
                .get(1)
                .map(|m| m.as_str().replace('–', "-"))
                .filter(|c| c.chars().any(char::is_alphabetic));
            if code.is_some() && self.draft.number.is_some() {
                // A second number line: the first stands, this one is listed.
                self.keep(&p);
                return;
            }
            let blank = code.is_none();
            self.draft.number = code.or(self.draft.number.take());
            // "Số: 12/KH-UBND Đạ Tẻh, ngày 02 tháng 4 năm 2024": place and date on the same line.
            let rest = &p[c.get(0).map_or(0, |m| m.end())..];
            // A blank number leaves its symbol ("Số:   /KH-UBND"): not the place.
            let rest = match rest.trim_start().strip_prefix(['/', '-']) {
                // The symbol's pieces: capitals of two letters or more and dashes ("KH – UBND").
                Some(r) if blank => {
                    let mut r = r.trim_start();
                    while let Some(token) = r.split(' ').next().filter(|t| {
                        !t.is_empty()
                            && t.chars().all(|c| c.is_uppercase() || "-–/".contains(c))
                            && (t.chars().count() >= 2 || "-–/".contains(*t))
                    }) {
                        r = r[token.len()..].trim_start();
                    }
                    r
                }
                _ => rest,
            };
            self.place_date(rest.trim());
            return;
        }
        if PLACE_DATE.is_match(&p) || PLACE_BLANK_DATE.is_match(&p) {
            self.place_date(&p);
            return;
        }
        if ORNAMENT.is_match(&p) {
            return;
        }
        if let Some(kind) = DOC_TYPES.iter().find(|t| {
            p == **t
                || p.strip_prefix(**t)
                    .is_some_and(|rest| rest.starts_with(' '))
        }) {
            self.draft.doc_type = Some(kind.to_string());
            self.zone = Zone::Title;
            let rest = p[kind.len()..].trim();
            if !rest.is_empty() {
                self.draft.title = rest.to_string();
            }
            return;
        }
        if let Some(rest) = MOTTO
            .iter()
            .find_map(|m| p.strip_prefix(m))
            .or_else(|| MOTTO_LINE.find(&p).map(|m| &p[m.end()..]))
        {
            // National motto and party header: fixed furniture, nothing to import (anything
            // pasted after it is kept).
            self.keep(rest);
        } else if upper {
            // The issuing body, written at the top left ("HUYỆN ỦY ĐƠN DƯƠNG").
            let name = self
                .draft
                .issuer
                .take()
                .map(|i| format!("{i} {p}"))
                .unwrap_or(p);
            self.draft.issuer = Some(name);
        } else if self.draft.title.is_empty() && p.chars().count() < 300 && !p.ends_with('.') {
            // No type line: the first ordinary paragraph is the title.
            self.draft.title = p;
            self.zone = Zone::Title;
        } else {
            self.draft.unclassified.push(p.clone());
            self.draft.preamble.push(p);
            self.zone = Zone::Preamble;
        }
    }

    /// "Đạ Tẻh, ngày 02 tháng 4 năm 2024" (and whatever follows it, kept).
    fn place_date(&mut self, p: &str) {
        match PLACE_DATE.captures(p) {
            Some(c) if self.draft.date.is_none() => {
                self.draft.place = Some(c[1].trim().to_string());
                self.draft.date = find_date(&c[0]);
                self.keep(&p[c[0].len()..]);
            }
            _ => match PLACE_BLANK_DATE.captures(p) {
                // Blank means a day or a month is missing (a full date that did not read is kept).
                Some(c)
                    if self.draft.place.is_none() && (c.get(2).is_none() || c.get(3).is_none()) =>
                {
                    self.draft.place = Some(c[1].trim().to_string());
                    self.keep(&p[c[0].len()..]);
                }
                _ => self.keep(p),
            },
        }
    }

    /// Text the header could not place: listed, never dropped.
    fn keep(&mut self, rest: &str) {
        let rest = rest.trim();
        if rest.chars().any(char::is_alphanumeric) {
            self.draft.unclassified.push(rest.to_string());
        }
    }

    /// A paragraph of the preamble. One that does not end a sentence (";", ".", ":") was broken
    /// by the copy: the next line continues it, unless it opens a reference of its own.
    fn preamble(&mut self, p: String) {
        if let Some(last) = self.draft.preamble.last_mut()
            && !last.ends_with([';', '.', ':', '!', '?'])
            && !BASIS_START.is_match(&p)
            && !BASIS_NAMED.is_match(&p)
        {
            last.push(' ');
            last.push_str(&p);
            return;
        }
        self.draft.preamble.push(p);
    }

    /// The documents a preamble paragraph cites, and the issuer it names ("Ban Thường vụ Huyện
    /// ủy xây dựng kế hoạch …") when the header did not.
    fn read_basis(&mut self, p: &str) {
        // A law or charter cited by its name only, in any clause: kept as a basis without a code.
        for clause in p.split(';') {
            let clause = clause.trim();
            if let Some(c) = BASIS_LAW.captures(clause).filter(|c| !names_a_kind(&c[2])) {
                let (date, issuer, _) =
                    basis_details(&clause[c.get(0).map_or(0, |m| m.end())..], false);
                self.draft.basis.push(DraftBasis {
                    kind: c[1].to_string(),
                    code: c[3].replace('–', "-"),
                    date,
                    issuer,
                    title: Some(c[2].trim().to_string()),
                });
            } else {
                for c in BASIS_NAMED.captures_iter(clause) {
                    // "Luật X số …" is read above; "Luật X và Quyết định số …" is not a name.
                    if c[2].starts_with("số ") || c[2].contains(" số ") || names_a_kind(&c[2]) {
                        continue;
                    }
                    self.draft.basis.push(DraftBasis {
                        kind: c[1].to_string(),
                        code: String::new(),
                        date: None,
                        issuer: None,
                        title: Some(c[2].trim().to_string()),
                    });
                }
            }
        }
        let laws: Vec<String> = p
            .split(';')
            .filter_map(|c| BASIS_LAW.captures(c).filter(|c| !names_a_kind(&c[2])))
            .map(|c| c[3].to_string())
            .collect();
        for c in BASIS
            .captures_iter(p)
            .filter(|c| c[2].chars().any(char::is_alphabetic) && !laws.contains(&c[2].to_string()))
        {
            let after = &p[c.get(0).map_or(0, |m| m.end())..];
            // The clause of this basis document ends where the next one starts.
            let clause_end = after.find(';').unwrap_or(after.len());
            let clause = &after[..clause_end];
            let next_basis = BASIS.find(clause).map_or(clause.len(), |m| m.start());
            let joint = c[1].contains("liên tịch") || c[1].contains("phối hợp");
            let (date, issuer, title) = basis_details(&clause[..next_basis], joint);
            self.draft.basis.push(DraftBasis {
                kind: c[1].to_string(),
                code: c[2].replace('–', "-"),
                date,
                issuer,
                title,
            });
        }
        if let Some(c) = ISSUER_BUILDS.captures(p) {
            let who = c[1].trim();
            let who = who.rsplit("; ").next().unwrap_or(who);
            self.draft.issuer.get_or_insert_with(|| who.to_string());
        }
    }

    fn body(&mut self, p: String) {
        let cells: Vec<&str> = p.split('\t').collect();
        if cells.len() >= 3 {
            return self.table_row(&cells);
        }
        let p = p.replace('\t', " ");
        if let Some(c) = ROMAN.captures(&p).filter(|c| !c[1].is_empty()) {
            let title = c.get(2).map_or("", |m| m.as_str()).trim().to_string();
            self.draft.sections.push(DraftSection {
                number: c[1].to_string(),
                kind: section_kind(&title),
                title,
                intro: String::new(),
                tasks: Vec::new(),
            });
            self.open.clear();
            return;
        }
        let Some(section) = self.draft.sections.last_mut() else {
            return;
        };
        if section.title.is_empty() && section.tasks.is_empty() && section.intro.is_empty() {
            // "II." alone on its line: the title follows.
            section.kind = section_kind(&p);
            section.title = p;
            return;
        }
        let sec_no = section.number.clone();
        if let Some(c) = SUBNUMBERED.captures(&p) {
            let (label, body) = (c[1].to_string(), c[2].to_string());
            let parent = label.rsplit_once('.').map_or("", |(a, _)| a).to_string();
            // Under the item printed as the prefix ("1.2" under "1."), wherever it is open.
            let depth = self
                .open
                .iter()
                .rposition(|o| o.label == parent)
                .map_or(0, |i| i + 1);
            self.open.truncate(depth);
            self.heading_item = is_heading(&body);
            let number = format!("{sec_no}.{label}");
            self.add(Marker::Number, label, |_, _| number, &body);
            return;
        }
        if let Some(c) = NUMBERED.captures(&p) {
            let (label, body) = (c[1].to_string(), c[2].to_string());
            self.open.clear();
            self.heading_item = is_heading(&body);
            let number = format!("{sec_no}.{label}");
            self.add(Marker::Number, label, |_, _| number, &body);
            return;
        }
        if let Some(c) = LETTERED.captures(&p) {
            let (letter, body) = (c[1].to_string(), c[2].to_string());
            let depth = self
                .open
                .iter()
                .rposition(|o| o.marker == Marker::Number)
                .map_or(0, |i| i + 1);
            self.open.truncate(depth);
            let suffix = letter.clone();
            self.add(
                Marker::Letter,
                letter,
                |parent, _| format!("{parent}.{suffix}"),
                &body,
            );
            return;
        }
        if let Some(c) = BULLET.captures(&p) {
            let mark = p.chars().next().unwrap_or('-');
            let body = c[1].to_string();
            self.bullet(Marker::Bullet(mark), &body);
            return;
        }
        // A label line ("Đơn vị chủ trì: …", "Thời gian thực hiện: …") belongs to the item opened
        // last, however deep: under "b)" it is b)'s, not the heading's above it.
        if LABEL_LINES.iter().any(|l| p.starts_with(l))
            && let Some(t) = self.top_mut()
        {
            t.text.push('\n');
            t.text.push_str(&p);
            return;
        }
        let section = self.draft.sections.last_mut().expect("checked above");
        // Plain paragraph: the text of the current item, or the section's introduction.
        match section.tasks.last_mut() {
            Some(t) => {
                let t = match t.children.last_mut() {
                    Some(child) if !self.heading_item => child,
                    _ => t,
                };
                // A heading's own line gives way to the text under it ("1. Sở Tư pháp" then "Là
                // cơ quan thường trực, …"), not once items stand under it.
                if self.heading_item && t.text == t.title && t.children.is_empty() {
                    t.text.clear();
                }
                if !t.text.is_empty() {
                    t.text.push('\n');
                }
                t.text.push_str(&p);
            }
            None => {
                if !section.intro.is_empty() {
                    section.intro.push('\n');
                }
                section.intro.push_str(&p);
            }
        }
    }

    /// The open item new children go under (`None`: the section itself).
    fn top_mut(&mut self) -> Option<&mut TaskDraft> {
        let section = self.draft.sections.last_mut()?;
        let mut path = self.open.iter();
        let mut t = section.tasks.get_mut(path.next()?.index)?;
        for o in path {
            t = t.children.get_mut(o.index)?;
        }
        Some(t)
    }

    /// Add an item under the open one (or the section), numbered by `number(parent's number,
    /// its position)`, and open it.
    fn add(
        &mut self,
        marker: Marker,
        label: String,
        number: impl FnOnce(&str, usize) -> String,
        body: &str,
    ) {
        let index = match self.top_mut() {
            Some(parent) => {
                let n = number(&parent.number, parent.children.len() + 1);
                parent.children.push(task(n, body));
                parent.children.len() - 1
            }
            None => {
                let Some(section) = self.draft.sections.last_mut() else {
                    return;
                };
                let n = number(&section.number, section.tasks.len() + 1);
                section.tasks.push(task(n, body));
                section.tasks.len() - 1
            }
        };
        self.open.push(Open {
            marker,
            label,
            index,
        });
    }

    /// A bullet (or table row): the same mark again is a sibling (closing what opened since), a
    /// new mark a level deeper.
    fn bullet(&mut self, marker: Marker, body: &str) {
        if let Some(i) = self.open.iter().rposition(|o| o.marker == marker) {
            self.open.truncate(i);
        }
        self.add(
            marker,
            String::new(),
            |parent, k| format!("{parent}.{k}"),
            body,
        );
    }

    /// A row of a table of tasks (TT | Nội dung | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian):
    /// its header names the columns; each numbered row is a task with its units and time.
    fn table_row(&mut self, cells: &[&str]) {
        let lower: Vec<String> = cells.iter().map(|c| c.to_lowercase()).collect();
        // The header row: short cells, one of them "Nội dung" ("TT | Nội dung | Chủ trì | …").
        let tt = ["tt", "stt", "số tt", "thứ tự"].contains(&lower[0].trim_end_matches('.'));
        if lower.iter().all(|c| c.chars().count() <= 40)
            && lower.iter().any(|c| c.starts_with("nội dung"))
            && (tt || lower[0].starts_with("nội dung"))
        {
            let find = |words: &[&str], not: &str| {
                lower.iter().position(|c| {
                    words.iter().any(|w| c.contains(w)) && (not.is_empty() || !c.contains(not))
                })
            };
            self.table = Some(Columns {
                content: find(&["nội dung"], "").unwrap_or(1),
                lead: find(&["chủ trì", "thực hiện", "trách nhiệm"], "phối hợp"),
                partners: find(&["phối hợp"], ""),
                time: find(&["thời gian", "thời hạn", "tiến độ", "thời điểm"], ""),
            });
            return;
        }
        if !TABLE_NUMBER.is_match(cells[0]) || self.draft.sections.is_empty() {
            // Not a task row: kept as the text it is.
            self.body(cells.join(" "));
            return;
        }
        let cols = self.table.unwrap_or_else(|| Columns::by_width(cells.len()));
        let cell = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(|c| c.trim())
                .filter(|c| !ORNAMENT.is_match(c))
                .unwrap_or("")
        };
        let (content, lead, partners, time) = (
            cell(Some(cols.content)),
            cell(cols.lead),
            cell(cols.partners),
            cell(cols.time),
        );
        // The task's text: the content, then its time and any other cell (nothing is dropped).
        let mut text = content.to_string();
        for (i, c) in cells.iter().enumerate() {
            let used = [Some(0), Some(cols.content), cols.lead, cols.partners].contains(&Some(i));
            if !used && !ORNAMENT.is_match(c) {
                text.push('\n');
                text.push_str(c);
            }
        }
        self.heading_item = false;
        self.bullet(Marker::Row, content);
        let year = self.plan_year();
        let Some(t) = self.top_mut() else {
            return;
        };
        t.text = text;
        if !time.is_empty() {
            // A time cell is the deadline: "Trước ngày …", "Quý I/2024", or a date alone ("Ngày
            // 16/3/2024", the day the activity is held).
            t.deadline = deadline_of(time, year)
                .or_else(|| deadline_of(&format!("trong {time}"), year))
                .or_else(|| find_date(time).filter(|_| !time.to_lowercase().contains("từ")));
        }
        t.lead_units = split_units(lead);
        t.partner_units = split_units(partners);
        let number = t.number.clone();
        self.preset.insert(number);
    }

    /// The year of the plan's date: a deadline written without one ("trước ngày 10/6") is in it.
    fn plan_year(&self) -> Option<i32> {
        self.draft.date.as_deref()?.get(..4)?.parse().ok()
    }

    /// One line (or cell) of the signature block: on whose behalf ("T/M BAN THƯỜNG VỤ", "TM. ỦY
    /// BAN NHÂN DÂN" then "KT. CHỦ TỊCH", joined), the title ("BÍ THƯ", "PHÓ CHỦ TỊCH") and the name.
    fn signature(&mut self, p: &str) {
        let upper = p.to_uppercase() == p && p.chars().any(char::is_alphabetic);
        let s = self.draft.signer.get_or_insert(Signer {
            on_behalf: None,
            title: None,
            name: None,
        });
        if ORNAMENT.is_match(p) {
        } else if p.starts_with('(') && p.ends_with(')') {
            // "(Đã ký)", "(Ký tên, đóng dấu)": not part of the block, but kept in the list.
            self.draft.unclassified.push(p.to_string());
        } else if is_signature_start(p) {
            s.on_behalf = Some(match s.on_behalf.take() {
                Some(first) => format!("{first} {p}"),
                None => p.to_string(),
            });
        } else if upper && s.title.is_none() {
            s.title = Some(p.to_string());
        } else if !upper && p.split(' ').count() <= 6 && s.name.is_none() {
            s.name = Some(p.to_string());
        } else {
            self.draft.unclassified.push(p.to_string());
        }
    }

    fn finish(mut self) -> PlanDraft {
        for p in self.draft.preamble.clone() {
            self.read_basis(&p);
        }
        struct Ctx<'a> {
            implementation: bool,
            year: Option<i32>,
            preset: &'a std::collections::HashSet<String>,
        }
        /// `inherited`: the unit a heading above named ("3. Đề nghị Ủy ban MTTQ huyện:"), the lead
        /// of items under it that name none.
        fn annotate(t: &mut TaskDraft, cx: &Ctx, inherited: &[String]) {
            // A heading that names a unit ("1. Sở Tư pháp") keeps it as its title when the
            // paragraph under it ("Là cơ quan thường trực, chủ trì …") became its text.
            let replaced = !t.text.starts_with(t.title.trim_end_matches('…'));
            let heading = unit_heading(&t.text).or_else(|| {
                replaced
                    .then(|| unit_heading(&t.title))
                    .flatten()
                    .filter(|(_, rest)| rest.is_empty())
                    .map(|(units, _)| (units, t.text.clone()))
            });
            if !cx.preset.contains(&t.number) {
                let (lead, partners) = match &heading {
                    Some((units, rest)) => (units.clone(), units_of(rest, false).1),
                    None => units_of(&t.text, cx.implementation),
                };
                t.lead_units = if lead.is_empty() {
                    inherited.to_vec()
                } else {
                    lead
                };
                t.partner_units = partners;
            }
            t.recurrence = recurrence(&t.text);
            t.deadline = t.deadline.take().or_else(|| deadline_of(&t.text, cx.year));
            let pass = heading.map_or_else(|| inherited.to_vec(), |(units, _)| units);
            for c in &mut t.children {
                annotate(c, cx, &pass);
            }
        }
        let year = self.plan_year();
        for s in &mut self.draft.sections {
            let cx = Ctx {
                implementation: s.kind == SectionKind::Implementation,
                year,
                preset: &self.preset,
            };
            for t in &mut s.tasks {
                annotate(t, &cx, &[]);
            }
        }
        self.draft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(
            find_date("Chỉ thị số 18-CT/TU, ngày 22/02/2022 của").as_deref(),
            Some("2022-02-22")
        );
        assert_eq!(
            find_date("ngày 5 tháng 3 năm 2023").as_deref(),
            Some("2023-03-05")
        );
        assert_eq!(find_date("31/02/2022"), None);
    }

    #[test]
    fn recurrences() {
        assert_eq!(
            recurrence("Định kỳ hàng quý, Thường trực cấp ủy nghe báo cáo"),
            Some(Recurrence::Quarterly)
        );
        assert_eq!(
            recurrence("báo cáo định kỳ 6 tháng"),
            Some(Recurrence::Semiannual)
        );
        assert_eq!(recurrence("hằng tháng giao ban"), Some(Recurrence::Monthly));
        assert_eq!(
            recurrence("Định kỳ hằng năm sơ kết"),
            Some(Recurrence::Yearly)
        );
        assert_eq!(recurrence("trong năm 2022"), None);
    }

    #[test]
    fn deadline_forms() {
        assert_eq!(
            deadline_of("báo cáo trước ngày 15/12/2026.", None).as_deref(),
            Some("2026-12-15")
        );
        assert_eq!(
            deadline_of("chậm nhất ngày 05 tháng 01 năm 2027", None).as_deref(),
            Some("2027-01-05")
        );
        assert_eq!(
            deadline_of("hoàn thành trong tháng 02/2028", None).as_deref(),
            Some("2028-02-29")
        );
        assert_eq!(
            deadline_of("xong trong quý IV năm 2026", None).as_deref(),
            Some("2026-12-31")
        );
        assert_eq!(
            deadline_of("trong quý 2/2027 tổ chức sơ kết", None).as_deref(),
            Some("2027-06-30")
        );
        assert_eq!(deadline_of("trong tháng 13/2026", None), None);
        assert_eq!(deadline_of("trong năm 2022", None), None);
    }

    #[test]
    fn assignment_units() {
        let (lead, partners) = units_of(
            "Giao Ban Dân vận Huyện ủy chủ trì, phối hợp với các tổ chức Đảng, Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội thường xuyên theo dõi, kiểm tra.",
            true,
        );
        assert_eq!(lead, vec!["Ban Dân vận Huyện ủy"]);
        assert_eq!(
            partners,
            vec![
                "các tổ chức Đảng",
                "Mặt trận Tổ quốc",
                "các đoàn thể chính trị - xã hội"
            ]
        );
        let (lead, _) = units_of(
            "UBND huyện, UBND các xã, thị trấn tiếp tục xây dựng và thực hiện quy chế.",
            true,
        );
        assert_eq!(lead, vec!["UBND huyện", "UBND các xã, thị trấn"]);
        let (lead, partners) = units_of(
            "Giao Ban Tổ chức và Ban Tuyên giáo và Dân vận Huyện ủy chủ trì, phối hợp với Hội Nông dân và Hội Liên hiệp Phụ nữ huyện, UBND các xã, thị trấn triển khai.",
            false,
        );
        assert_eq!(
            lead,
            vec!["Ban Tổ chức", "Ban Tuyên giáo và Dân vận Huyện ủy"]
        );
        assert_eq!(
            partners,
            vec![
                "Hội Nông dân",
                "Hội Liên hiệp Phụ nữ huyện",
                "UBND các xã, thị trấn"
            ]
        );
    }

    /// The draft of a small plan: a section "II. NHIỆM VỤ" holding `body`.
    fn body_of(body: &str) -> PlanDraft {
        import_text(&format!("KẾ HOẠCH\nThử\nII. NHIỆM VỤ\n{body}")).unwrap()
    }

    fn numbers(d: &PlanDraft) -> Vec<String> {
        fn walk(t: &TaskDraft, out: &mut Vec<String>) {
            out.push(t.number.clone());
            t.children.iter().for_each(|c| walk(c, out));
        }
        let mut out = Vec::new();
        d.sections
            .iter()
            .flat_map(|s| &s.tasks)
            .for_each(|t| walk(t, &mut out));
        out
    }

    fn find<'a>(d: &'a PlanDraft, number: &str) -> &'a TaskDraft {
        fn walk<'a>(t: &'a TaskDraft, n: &str) -> Option<&'a TaskDraft> {
            (t.number == n)
                .then_some(t)
                .or_else(|| t.children.iter().find_map(|c| walk(c, n)))
        }
        d.sections
            .iter()
            .flat_map(|s| &s.tasks)
            .find_map(|t| walk(t, number))
            .unwrap_or_else(|| panic!("no task {number}: {:?}", numbers(d)))
    }

    #[test]
    fn header_flattened_on_one_line_in_both_forms() {
        for (text, number, place, date, issuer) in [
            (
                "HUYỆN ỦY ĐƠN DƯƠNG          ĐẢNG CỘNG SẢN VIỆT NAM\n*\nSố 07-KH/HU          Đơn Dương, ngày  02 tháng 4 năm 2024\nKẾ HOẠCH\nTuyên truyền",
                Some("07-KH/HU"),
                Some("Đơn Dương"),
                Some("2024-04-02"),
                Some("HUYỆN ỦY ĐƠN DƯƠNG"),
            ),
            (
                "ỦY BAN NHÂN DÂN\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nXÃ DÂN LỰC\tĐộc lập - Tự do - Hạnh phúc\n_______\t_______________\nSố: 125/KH-UBND\tDân Lực, ngày 18 tháng 02 năm 2021\nKẾ HOẠCH\nThông tin, tuyên truyền",
                Some("125/KH-UBND"),
                Some("Dân Lực"),
                Some("2021-02-18"),
                Some("ỦY BAN NHÂN DÂN XÃ DÂN LỰC"),
            ),
            (
                "ỦY BAN MTTQ VIỆT NAM\nXÃ QUẢNG LẬP\nBAN THƯỜNG TRỰC\nSố: 45/KH-MTTQ-BTT\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nQuảng Lập, ngày 5 tháng 3 năm 2025\nKẾ HOẠCH\nGiám sát",
                Some("45/KH-MTTQ-BTT"),
                Some("Quảng Lập"),
                Some("2025-03-05"),
                Some("ỦY BAN MTTQ VIỆT NAM XÃ QUẢNG LẬP BAN THƯỜNG TRỰC"),
            ),
            (
                "UBND XÃ KA ĐÔ\nSố:      /KH-UBND     Ka Đô, ngày 10 tháng 01 năm 2026\nKẾ HOẠCH\nThử",
                None,
                Some("Ka Đô"),
                Some("2026-01-10"),
                Some("UBND XÃ KA ĐÔ"),
            ),
        ] {
            let d = import_text(text).unwrap();
            assert_eq!(d.number.as_deref(), number, "{text}");
            assert_eq!(d.place.as_deref(), place, "{text}");
            assert_eq!(d.date.as_deref(), date, "{text}");
            assert_eq!(d.issuer.as_deref(), issuer, "{text}");
            assert_eq!(d.doc_type.as_deref(), Some("KẾ HOẠCH"));
            assert!(d.unclassified.is_empty(), "{:?}", d.unclassified);
        }
        let d = import_text("KẾ HOẠCH Thông tin, tuyên truyền bầu cử\n-----\nI. MỤC ĐÍCH").unwrap();
        assert_eq!(d.title, "Thông tin, tuyên truyền bầu cử");
    }

    #[test]
    fn basis_codes_of_every_shape_and_laws_by_name() {
        let d = import_text(
            "KẾ HOẠCH\nThử\nCăn cứ Luật Mặt trận Tổ quốc Việt Nam năm 2015;\nCăn cứ Luật số 10/2022/QH15 ngày 10/11/2022 của Quốc hội;\nThực hiện Kế hoạch số 58/KH-UBND ngày 22 tháng 3 năm 2024 của UBND huyện; Chương trình phối hợp số 01/CTPH-MTTQ-TCTV ngày 5/1/2023; Nghị định số 30/2020/NĐ-CP; Kết luận 12-KL/TU ngày 01/02/2024 của Ban Thường vụ Tỉnh ủy; Kế hoạch số 112/KH-MTTW-BTT.\nI. MỤC ĐÍCH",
        )
        .unwrap();
        let codes: Vec<(&str, &str)> = d
            .basis
            .iter()
            .map(|b| (b.kind.as_str(), b.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("Luật", ""),
                ("Luật", "10/2022/QH15"),
                ("Kế hoạch", "58/KH-UBND"),
                ("Chương trình phối hợp", "01/CTPH-MTTQ-TCTV"),
                ("Nghị định", "30/2020/NĐ-CP"),
                ("Kết luận", "12-KL/TU"),
                ("Kế hoạch", "112/KH-MTTW-BTT"),
            ]
        );
        assert_eq!(
            d.basis[0].title.as_deref(),
            Some("Mặt trận Tổ quốc Việt Nam năm 2015")
        );
        assert_eq!(d.basis[2].date.as_deref(), Some("2024-03-22"));
        assert_eq!(d.basis[2].issuer.as_deref(), Some("UBND huyện"));
        // A joint document's issuers are listed with commas; another document's comma ends it.
        let d = import_text(
            "KẾ HOẠCH\nThử\nCăn cứ Nghị quyết liên tịch số 403/2017/NQLT-UBTVQH14-CP-ĐCTUBTWMTTQVN ngày 15/6/2017 của Ủy ban Thường vụ Quốc hội, Chính phủ, Đoàn Chủ tịch Ủy ban Trung ương MTTQ Việt Nam quy định chi tiết các hình thức giám sát;\nCăn cứ Kế hoạch số 58/KH-UBND ngày 22/3/2024 của UBND huyện, Kế hoạch năm 2024;\nI. MỤC ĐÍCH",
        )
        .unwrap();
        assert_eq!(
            d.basis[0].issuer.as_deref(),
            Some(
                "Ủy ban Thường vụ Quốc hội, Chính phủ, Đoàn Chủ tịch Ủy ban Trung ương MTTQ Việt Nam"
            )
        );
        assert_eq!(
            d.basis[0].title.as_deref(),
            Some("quy định chi tiết các hình thức giám sát")
        );
        assert_eq!(d.basis[1].issuer.as_deref(), Some("UBND huyện"));
    }

    #[test]
    fn items_at_any_depth() {
        let d = body_of(
            "1. Tuyên truyền\n1.1 Quán triệt\n1.2. Phổ biến:\n- ở thôn\n+ thôn 1\n+ thôn 2\n- ở bon\na) Hội nghị\n- báo cáo viên\n2. Kiểm tra\n2.1.1. sâu hơn",
        );
        assert_eq!(
            numbers(&d),
            [
                "II.1",
                "II.1.1",
                "II.1.2",
                "II.1.2.1",
                "II.1.2.1.1",
                "II.1.2.1.2",
                "II.1.2.2",
                "II.1.2.a",
                "II.1.2.a.1",
                "II.2",
                "II.2.1.1"
            ]
        );
        // "II." alone: the title is on the next line.
        let d = import_text("KẾ HOẠCH\nThử\nII.\nNHIỆM VỤ, GIẢI PHÁP\n1. Một").unwrap();
        assert_eq!(d.sections[0].title, "NHIỆM VỤ, GIẢI PHÁP");
        assert_eq!(numbers(&d), ["II.1"]);
    }

    #[test]
    fn a_unit_named_first_leads_the_items_under_it() {
        let d = body_of(
            "3. Đề nghị Ủy ban MTTQ và các đoàn thể huyện:\n- Tuyên truyền đến đoàn viên, hội viên.\n- Hội Nông dân huyện chủ trì tổ chức hội thi.\n4. Ban Dân vận Huyện ủy\n- Là cơ quan thường trực, chủ trì tham mưu sơ kết.\n- Ban Tuyên giáo Huyện ủy: phối hợp với Trung tâm Chính trị biên soạn tài liệu.",
        );
        assert_eq!(
            find(&d, "II.3").lead_units,
            ["Ủy ban MTTQ", "các đoàn thể huyện"]
        );
        assert_eq!(
            find(&d, "II.3.1").lead_units,
            ["Ủy ban MTTQ", "các đoàn thể huyện"]
        );
        assert_eq!(find(&d, "II.3.2").lead_units, ["Hội Nông dân huyện"]);
        assert_eq!(find(&d, "II.4.1").lead_units, ["Ban Dân vận Huyện ủy"]);
        let t = find(&d, "II.4.2");
        assert_eq!(t.lead_units, ["Ban Tuyên giáo Huyện ủy"]);
        assert_eq!(t.partner_units, ["Trung tâm Chính trị"]);
    }

    #[test]
    fn units_in_every_phrasing() {
        let d = body_of(
            "1. Giao Ban Tổ chức Huyện ủy chủ trì, phối hợp với Ủy ban Kiểm tra Huyện ủy, Văn phòng Huyện ủy theo dõi.\n2. Ban Tuyên giáo Huyện ủy chủ trì tổ chức hội nghị.\n3. Hội Cựu chiến binh và Đoàn Thanh niên phối hợp thực hiện.\n4. Các xã, thị trấn chủ trì triển khai.",
        );
        assert_eq!(find(&d, "II.1").lead_units, ["Ban Tổ chức Huyện ủy"]);
        assert_eq!(
            find(&d, "II.1").partner_units,
            ["Ủy ban Kiểm tra Huyện ủy", "Văn phòng Huyện ủy"]
        );
        assert_eq!(find(&d, "II.2").lead_units, ["Ban Tuyên giáo Huyện ủy"]);
        assert_eq!(
            find(&d, "II.3").partner_units,
            ["Hội Cựu chiến binh", "Đoàn Thanh niên"]
        );
        assert!(find(&d, "II.3").lead_units.is_empty());
        assert_eq!(find(&d, "II.4").lead_units, ["Các xã, thị trấn"]);
    }

    #[test]
    fn a_subject_leads_outside_the_implementation_section_only_when_given_the_work() {
        let d = body_of(
            "1. Ban Thường vụ Huyện ủy chỉ đạo xây dựng dự thảo báo cáo chính trị.\n2. Các cấp ủy Đảng, chính quyền tiếp tục nhận thức đầy đủ vai trò của Mặt trận.\n3. Huyện đoàn tập trung chỉ đạo đại hội.",
        );
        assert_eq!(find(&d, "II.1").lead_units, ["Ban Thường vụ Huyện ủy"]);
        assert!(find(&d, "II.2").lead_units.is_empty());
        assert!(find(&d, "II.3").lead_units.is_empty());
    }

    #[test]
    fn units_written_out_in_parentheses_lines_and_after_do() {
        let d = body_of(
            "1. Phát tin, bài hằng tuần (Phòng Văn hóa - Xã hội xã chủ trì).\n2. Tuyên truyền miệng, do Ban Xây dựng Đảng Đảng ủy xã chủ trì, Văn phòng Đảng ủy xã phối hợp.\n3. Tuyên truyền trên mạng xã hội.\nTrách nhiệm: Ban Xây dựng Đảng Đảng ủy xã (chủ trì); Công an xã (phối hợp).\n4. Tổ chức văn nghệ.\nCơ quan chủ trì: Phòng Văn hóa - Xã hội xã.\nCơ quan phối hợp: Đoàn Thanh niên xã, Hội Liên hiệp Phụ nữ xã.\n5. Công tác khen thưởng: Ban Tổ chức Huyện ủy chủ trì, phối hợp với Văn phòng Huyện ủy thẩm định hồ sơ.",
        );
        assert_eq!(find(&d, "II.1").lead_units, ["Phòng Văn hóa - Xã hội xã"]);
        let t = find(&d, "II.2");
        assert_eq!(t.lead_units, ["Ban Xây dựng Đảng Đảng ủy xã"]);
        assert_eq!(t.partner_units, ["Văn phòng Đảng ủy xã"]);
        let t = find(&d, "II.3");
        assert_eq!(t.lead_units, ["Ban Xây dựng Đảng Đảng ủy xã"]);
        assert_eq!(t.partner_units, ["Công an xã"]);
        let t = find(&d, "II.4");
        assert_eq!(t.lead_units, ["Phòng Văn hóa - Xã hội xã"]);
        assert_eq!(
            t.partner_units,
            ["Đoàn Thanh niên xã", "Hội Liên hiệp Phụ nữ xã"]
        );
        let t = find(&d, "II.5");
        assert_eq!(t.lead_units, ["Ban Tổ chức Huyện ủy"]);
        assert_eq!(t.partner_units, ["Văn phòng Huyện ủy"]);
    }

    /// The shapes the three corpus plans of 2026-12-03 brought (each one scored unseen first).
    #[test]
    fn units_after_labels_parentheses_and_verbs_that_give_the_work() {
        let d = body_of(
            "1. Xây dựng mô hình\na) Biên soạn tài liệu (chủ trì: Ban Xây dựng Đảng Đảng ủy xã; phối hợp: Ủy ban MTTQ Việt Nam xã).\nb) Cải cách thủ tục hành chính.\nĐơn vị chủ trì: Trung tâm Phục vụ hành chính công xã. Đơn vị phối hợp: Văn phòng HĐND và UBND xã, Công an xã.\nThời gian thực hiện: Quý II/2026.\nc) Tuyên truyền song ngữ (Ban Tuyên giáo chủ trì; Văn phòng, Ban Tổ chức - Kiểm tra phối hợp).\nd) Mô hình sinh kế.\nChủ trì: Ban Gia đình - Xã hội. Phối hợp: Hội LHPN các huyện Bác Ái, Thuận Bắc; Sở Giáo dục và Đào tạo.\n2. Ban Tuyên giáo Hội LHPN tỉnh được giao chủ trì biên soạn tài liệu.\n3. Phòng Văn hóa và Thông tin có trách nhiệm hướng dẫn nội dung tuyên truyền.\n4. Ban Dân tộc - Tôn giáo tổ chức đối thoại, với sự phối hợp của Ban Dân tộc tỉnh và Sở Lao động - Thương binh và Xã hội.\n5. Hội LHPN tỉnh tổ chức liên hoan; các tổ chức chính trị - xã hội tham gia.\n6. Ban Chỉ đạo thực hiện Quy chế dân chủ ở cơ sở xã tổng hợp kết quả thực hiện dân chủ.\n7. Tổ chức cuộc thi; Ban Tuyên giáo làm thường trực, Ban Chính sách - Luật pháp phối hợp.",
        );
        let t = find(&d, "II.1.a");
        assert_eq!(t.lead_units, ["Ban Xây dựng Đảng Đảng ủy xã"]);
        assert_eq!(t.partner_units, ["Ủy ban MTTQ Việt Nam xã"]);
        // A label line under "b)" belongs to "b)", not to the heading "1." above it.
        let t = find(&d, "II.1.b");
        assert_eq!(t.lead_units, ["Trung tâm Phục vụ hành chính công xã"]);
        assert_eq!(t.partner_units, ["Văn phòng HĐND và UBND xã", "Công an xã"]);
        assert_eq!(t.deadline.as_deref(), Some("2026-06-30"));
        assert!(find(&d, "II.1").lead_units.is_empty());
        let t = find(&d, "II.1.c");
        assert_eq!(t.lead_units, ["Ban Tuyên giáo"]);
        assert_eq!(t.partner_units, ["Văn phòng", "Ban Tổ chức - Kiểm tra"]);
        let t = find(&d, "II.1.d");
        assert_eq!(t.lead_units, ["Ban Gia đình - Xã hội"]);
        assert_eq!(
            t.partner_units,
            [
                "Hội LHPN các huyện Bác Ái, Thuận Bắc",
                "Sở Giáo dục và Đào tạo"
            ]
        );
        assert_eq!(
            find(&d, "II.2").lead_units,
            ["Ban Tuyên giáo Hội LHPN tỉnh"]
        );
        assert_eq!(find(&d, "II.3").lead_units, ["Phòng Văn hóa và Thông tin"]);
        let t = find(&d, "II.4");
        assert_eq!(t.lead_units, ["Ban Dân tộc - Tôn giáo"]);
        assert_eq!(
            t.partner_units,
            ["Ban Dân tộc tỉnh", "Sở Lao động - Thương binh và Xã hội"]
        );
        // "tổ chức" the verb ends the subject; "các tổ chức" the noun does not.
        assert_eq!(find(&d, "II.5").lead_units, ["Hội LHPN tỉnh"]);
        assert_eq!(
            find(&d, "II.6").lead_units,
            ["Ban Chỉ đạo thực hiện Quy chế dân chủ ở cơ sở xã"]
        );
        let t = find(&d, "II.7");
        assert_eq!(t.partner_units, ["Ban Chính sách - Luật pháp"]);
    }

    /// The shapes the second three plans of 2026-12-03 brought (each one scored unseen first).
    #[test]
    fn unit_headings_with_their_duty_and_a_closing_paragraph() {
        let d = import_text(
            "KẾ HOẠCH\nThử\nIV. TỔ CHỨC THỰC HIỆN\n1. Các tổ chức thành viên của Ủy ban MTTQ Việt Nam tỉnh có trách nhiệm:\n- Phổ biến Kế hoạch đến đoàn viên, hội viên.\n- Phối hợp với Ban Dân chủ - Pháp luật Ủy ban MTTQ Việt Nam tỉnh theo dõi việc giải quyết kiến nghị.\n2. Công an xã phối hợp với Trung tâm Phục vụ hành chính công xã kết nối dữ liệu hộ tịch.\n3. Hội Nông dân tỉnh, Liên minh Hợp tác xã tỉnh và Đoàn Thanh niên tỉnh phối hợp tổ chức hội chợ.\n4. Ban Thường trực Ủy ban MTTQ Việt Nam các huyện, thị xã, thành phố\n- Xây dựng kế hoạch giám sát của địa phương.\nTrong quá trình thực hiện, nếu có vướng mắc, các đơn vị phản ánh về Ban Thường trực.",
        )
        .unwrap();
        let member = ["Các tổ chức thành viên của Ủy ban MTTQ Việt Nam tỉnh"];
        assert_eq!(find(&d, "IV.1").lead_units, member);
        assert_eq!(find(&d, "IV.1.1").lead_units, member);
        let t = find(&d, "IV.1.2");
        assert_eq!(t.lead_units, member);
        assert_eq!(
            t.partner_units,
            ["Ban Dân chủ - Pháp luật Ủy ban MTTQ Việt Nam tỉnh"]
        );
        // "X phối hợp với Y …": X does it, with Y; "X, Y và Z phối hợp …": partners only.
        let t = find(&d, "IV.2");
        assert_eq!(t.lead_units, ["Công an xã"]);
        assert_eq!(t.partner_units, ["Trung tâm Phục vụ hành chính công xã"]);
        let t = find(&d, "IV.3");
        assert!(t.lead_units.is_empty());
        assert_eq!(
            t.partner_units,
            [
                "Hội Nông dân tỉnh",
                "Liên minh Hợp tác xã tỉnh",
                "Đoàn Thanh niên tỉnh"
            ]
        );
        // A paragraph after a heading's items does not replace the heading's line.
        let t = find(&d, "IV.4");
        let units = ["Ban Thường trực Ủy ban MTTQ Việt Nam các huyện, thị xã, thành phố"];
        assert_eq!(t.lead_units, units);
        assert_eq!(find(&d, "IV.4.1").lead_units, units);
    }

    /// The shapes the third three plans of 2026-12-03 brought (scored unseen first).
    #[test]
    fn a_unit_heading_with_its_paragraph_and_more_subjects() {
        let d = import_text(
            "KẾ HOẠCH\nThử\nII. NHIỆM VỤ\n1. Giải ngân các dự án (Ban Điều hành Quỹ Hỗ trợ nông dân tỉnh chủ trì, Ban Kinh tế - Xã hội phối hợp).\n2. Trung tâm Dịch vụ việc làm tỉnh tổ chức phiên giao dịch việc làm hằng tháng.\n3. Ban Tổ chức Huyện ủy phối hợp với Ban Dân vận Huyện ủy tham mưu quy hoạch cán bộ.\nIV. TỔ CHỨC THỰC HIỆN\n1. Sở Lao động - Thương binh và Xã hội\nLà cơ quan thường trực, chủ trì, phối hợp với các sở, ngành hướng dẫn thực hiện Kế hoạch.\n2. Văn phòng Hội Nông dân tỉnh là đầu mối theo dõi, tổng hợp kết quả.\n3. Ủy ban nhân dân huyện cụ thể hóa Kế hoạch bằng chương trình của chính quyền.",
        )
        .unwrap();
        let t = find(&d, "II.1");
        assert_eq!(t.lead_units, ["Ban Điều hành Quỹ Hỗ trợ nông dân tỉnh"]);
        assert_eq!(t.partner_units, ["Ban Kinh tế - Xã hội"]);
        assert_eq!(
            find(&d, "II.2").lead_units,
            ["Trung tâm Dịch vụ việc làm tỉnh"]
        );
        let t = find(&d, "II.3");
        assert_eq!(t.lead_units, ["Ban Tổ chức Huyện ủy"]);
        assert_eq!(t.partner_units, ["Ban Dân vận Huyện ủy"]);
        // The heading names the unit; the paragraph under it became its text.
        let t = find(&d, "IV.1");
        assert_eq!(t.lead_units, ["Sở Lao động - Thương binh và Xã hội"]);
        assert_eq!(t.partner_units, ["các sở, ngành"]);
        assert_eq!(find(&d, "IV.2").lead_units, ["Văn phòng Hội Nông dân tỉnh"]);
        assert_eq!(find(&d, "IV.3").lead_units, ["Ủy ban nhân dân huyện"]);
    }

    #[test]
    fn times_and_deadlines() {
        let d = import_text(
            "HUYỆN ỦY X\nSố 01-KH/HU\tX, ngày 02 tháng 01 năm 2026\nKẾ HOẠCH\nThử\nIII. TỔ CHỨC THỰC HIỆN\n1. Định kỳ 6 tháng (trước ngày 10/6) báo cáo.\n2. Mỗi năm một lần sơ kết.\n3. Hàng quý giao ban.\n4. Hoàn thành trong quý IV.\n5. Xong trong tháng 12/2026.\n6. Hoàn thành trước ngày 15/4/2026.",
        )
        .unwrap();
        let t = |n: &str| find(&d, n);
        assert_eq!(t("III.1").recurrence, Some(Recurrence::Semiannual));
        assert_eq!(t("III.1").deadline.as_deref(), Some("2026-06-10"));
        assert_eq!(t("III.2").recurrence, Some(Recurrence::Yearly));
        assert_eq!(t("III.3").recurrence, Some(Recurrence::Quarterly));
        assert_eq!(t("III.4").deadline.as_deref(), Some("2026-12-31"));
        assert_eq!(t("III.5").deadline.as_deref(), Some("2026-12-31"));
        assert_eq!(t("III.6").deadline.as_deref(), Some("2026-04-15"));
    }

    #[test]
    fn a_table_of_tasks_is_read_as_rows() {
        let d = body_of(
            "TT\tNội dung\tĐơn vị chủ trì\tĐơn vị phối hợp\tThời gian\n1\tHội nghị quán triệt\tBan Tuyên giáo Huyện ủy\tTrung tâm Chính trị, các xã\tQuý II/2026\n2\tKiểm tra, giám sát\tỦy ban Kiểm tra Huyện ủy\t-\tHằng quý\n3\tRa quân\tHuyện đoàn\t-\tNgày 16/3/2026\n4\tTập huấn\tHuyện đoàn\t-\tTừ ngày 01/4/2026 đến ngày 10/4/2026",
        );
        let t = find(&d, "II.1");
        assert_eq!(t.lead_units, ["Ban Tuyên giáo Huyện ủy"]);
        assert_eq!(t.partner_units, ["Trung tâm Chính trị", "các xã"]);
        assert_eq!(t.deadline.as_deref(), Some("2026-06-30"));
        let t = find(&d, "II.2");
        assert!(t.partner_units.is_empty());
        assert_eq!(t.recurrence, Some(Recurrence::Quarterly));
        // A date alone is the day it is held; a span ends on its last day.
        assert_eq!(find(&d, "II.3").deadline.as_deref(), Some("2026-03-16"));
        assert_eq!(find(&d, "II.4").deadline.as_deref(), Some("2026-04-10"));
    }

    #[test]
    fn signer_and_recipients_in_both_forms() {
        let d = body_of(
            "1. Một.\nNơi nhận:\t\tTM. ỦY BAN NHÂN DÂN\n- UBND huyện (b/c);\tKT. CHỦ TỊCH\n- Các ban, ngành;\tPHÓ CHỦ TỊCH\n- Lưu: VT.\n(Đã ký)\nNguyễn Văn An",
        );
        assert_eq!(
            d.recipients,
            ["UBND huyện (b/c)", "Các ban, ngành", "Lưu: VT"]
        );
        let s = d.signer.unwrap();
        assert_eq!(
            s.on_behalf.as_deref(),
            Some("TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH")
        );
        assert_eq!(s.title.as_deref(), Some("PHÓ CHỦ TỊCH"));
        assert_eq!(s.name.as_deref(), Some("Nguyễn Văn An"));
        // The Party's block pasted before "Nơi nhận".
        let d = body_of(
            "1. Một.\nT/M BAN THƯỜNG VỤ\nBÍ THƯ\nTrần Thị Bình\nNơi nhận:\n- Ban Thường vụ Tỉnh ủy (b/c),\n- Lưu Văn phòng Huyện ủy.",
        );
        let s = d.signer.unwrap();
        assert_eq!(s.on_behalf.as_deref(), Some("T/M BAN THƯỜNG VỤ"));
        assert_eq!(s.title.as_deref(), Some("BÍ THƯ"));
        assert_eq!(s.name.as_deref(), Some("Trần Thị Bình"));
        assert_eq!(d.recipients.len(), 2);
    }

    #[test]
    fn a_line_broken_mid_sentence_is_joined() {
        let d = body_of(
            "1. Tổ chức quán triệt đến cán bộ, đảng viên của\nChi bộ thôn 2 và toàn thể Nhân dân.",
        );
        assert_eq!(numbers(&d), ["II.1"]);
        assert!(find(&d, "II.1").text.contains("của Chi bộ thôn 2"));
    }
}
