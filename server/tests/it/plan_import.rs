//! Plan import: the sample plan as a snapshot checked by hand, and variants in the same
//! administrative conventions (other numbering, several basis documents, both date forms, a .docx).

use server::plan_import::{PlanDraft, TaskDraft, import_docx, import_text};
use shared::vocab::{Recurrence, SectionKind};

const SAMPLE: &str = include_str!("../../fixtures/ke-hoach-chi-thi-18-2022.txt");
const SNAPSHOT: &str = include_str!("../../fixtures/ke-hoach-chi-thi-18-2022.draft.json");

fn find<'a>(d: &'a PlanDraft, number: &str) -> &'a TaskDraft {
    fn walk<'a>(ts: &'a [TaskDraft], n: &str) -> Option<&'a TaskDraft> {
        ts.iter().find_map(|t| {
            if t.number == n {
                Some(t)
            } else {
                walk(&t.children, n)
            }
        })
    }
    d.sections
        .iter()
        .find_map(|s| walk(&s.tasks, number))
        .unwrap_or_else(|| panic!("no task {number}"))
}

#[test]
fn sample_plan_matches_the_reviewed_snapshot() {
    let draft = import_text(SAMPLE).unwrap();
    let json = serde_json::to_value(&draft).unwrap();
    let expected: serde_json::Value = serde_json::from_str(SNAPSHOT).unwrap();
    assert_eq!(
        json, expected,
        "re-check the sample import by hand before updating the snapshot"
    );
}

#[test]
fn sample_plan_structure() {
    let d = import_text(SAMPLE).unwrap();
    assert_eq!(d.doc_type.as_deref(), Some("KẾ HOẠCH"));
    assert!(
        d.title
            .starts_with("Thực hiện Chỉ thị của Ban Thường vụ Tỉnh ủy")
    );
    // The sample has no number line and no place/date line: those stay empty, never invented.
    assert_eq!(
        (d.number.as_deref(), d.date.as_deref(), d.place.as_deref()),
        (None, None, None)
    );
    assert_eq!(d.issuer.as_deref(), Some("Ban Thường vụ Huyện ủy"));
    assert_eq!(d.basis.len(), 1);
    assert_eq!(d.basis[0].code, "18-CT/TU");
    assert_eq!(d.basis[0].date.as_deref(), Some("2022-02-22"));
    assert_eq!(
        d.basis[0].issuer.as_deref(),
        Some("Ban Thường vụ Tỉnh ủy Lâm Đồng")
    );

    let numbers: Vec<&str> = d.sections.iter().map(|s| s.number.as_str()).collect();
    assert_eq!(numbers, ["I", "II", "III"]);
    let ii = &d.sections[1];
    assert_eq!(ii.tasks.len(), 5, "section II has five contents");
    assert!(ii.intro.starts_with("Cấp ủy đảng, chính quyền"));
    assert_eq!(
        find(&d, "II.4").children.len(),
        7,
        "content 4 has seven sub-tasks"
    );
    assert!(
        find(&d, "II.4.7")
            .text
            .starts_with("Huyện đoàn, Hội Cựu Chiến binh huyện")
    );
    assert_eq!(find(&d, "II.2").recurrence, Some(Recurrence::Quarterly));
    // A sentence broken across a page ("... các đoàn thể\n\nchính trị-xã hội phản biện") is one text.
    assert!(
        find(&d, "II.3")
            .text
            .contains("các đoàn thể chính trị-xã hội phản biện")
    );

    let iii = &d.sections[2];
    assert_eq!(iii.kind, SectionKind::Implementation);
    assert_eq!(iii.tasks.len(), 5);
    let last = find(&d, "III.5");
    assert_eq!(last.lead_units, ["Ban Dân vận Huyện ủy"]);
    assert_eq!(
        last.partner_units,
        [
            "các tổ chức Đảng",
            "Mặt trận Tổ quốc",
            "các đoàn thể chính trị - xã hội"
        ]
    );
    assert_eq!(find(&d, "III.3").lead_units, ["Ban Tổ chức Huyện ủy"]);
    assert_eq!(
        find(&d, "III.2").lead_units,
        ["UBND huyện", "UBND các xã, thị trấn"]
    );

    assert_eq!(d.recipients.len(), 7);
    assert_eq!(d.recipients[0], "Ban Dân vận Tỉnh uỷ");
    assert_eq!(d.recipients[6], "Lưu: VPHU");
    let signer = d.signer.as_ref().unwrap();
    assert_eq!(signer.on_behalf.as_deref(), Some("T/M BAN THƯỜNG VỤ"));
    assert_eq!(signer.title.as_deref(), Some("BÍ THƯ"));
    assert_eq!(signer.name.as_deref(), Some("Đinh Văn Tuấn"));
    assert!(d.unclassified.is_empty());
}

const VARIANT: &str = "ĐẢNG BỘ TỈNH LÂM ĐỒNG
ĐẢNG ỦY XÃ KA ĐƠN
*
Số 12-KH/ĐU
ĐẢNG CỘNG SẢN VIỆT NAM
Ka Đơn, ngày 5 tháng 3 năm 2023

KẾ HOẠCH
triển khai công tác dân vận năm 2023

Căn cứ Nghị quyết số 25-NQ/TW, ngày 03/6/2013 của Ban Chấp hành Trung ương “Về tăng cường và đổi mới sự lãnh đạo của Đảng đối với công tác dân vận”; Căn cứ Kết luận số 43-KL/TW, ngày 07 tháng 01 năm 2019 của Ban Bí thư; Đảng ủy xã ban hành kế hoạch như sau:

I. MỤC ĐÍCH, YÊU CẦU
Nâng cao chất lượng công tác dân vận.

II. NHIỆM VỤ TRỌNG TÂM
1. Công tác tuyên truyền
1.1. Tổ chức hội nghị quán triệt nghị quyết tại các thôn, bon; hoàn thành trước ngày 30/6/2023.
1.2. Định kỳ 6 tháng sơ kết, báo cáo kết quả
về Ban Thường vụ Đảng ủy.
2. Xây dựng mô hình dân vận khéo
a) Mỗi chi bộ đăng ký ít nhất một mô hình;
b) Giao Ủy ban MTTQ xã chủ trì, phối hợp với Hội Nông dân, Hội Liên hiệp Phụ nữ xã hướng dẫn đăng ký.
Ghi chú: danh sách mô hình gửi kèm.

III. TỔ CHỨC THỰC HIỆN
1. Giao Ban Dân vận Đảng ủy chủ trì, phối hợp với Công an xã theo dõi, đôn đốc; định kỳ hàng quý báo cáo Đảng ủy.

Nơi nhận:
- Ban Dân vận Huyện ủy,
- Lưu VP.
T/M ĐẢNG ỦY
PHÓ BÍ THƯ
Nguyễn Thị Hoa
";

#[test]
fn variant_with_header_subnumbering_letters_and_several_bases() {
    let d = import_text(VARIANT).unwrap();
    assert_eq!(d.number.as_deref(), Some("12-KH/ĐU"));
    assert_eq!(d.place.as_deref(), Some("Ka Đơn"));
    assert_eq!(d.date.as_deref(), Some("2023-03-05"));
    assert_eq!(d.title, "triển khai công tác dân vận năm 2023");
    assert_eq!(
        d.issuer.as_deref(),
        Some("ĐẢNG BỘ TỈNH LÂM ĐỒNG ĐẢNG ỦY XÃ KA ĐƠN")
    );
    let codes: Vec<(&str, Option<&str>)> = d
        .basis
        .iter()
        .map(|b| (b.code.as_str(), b.date.as_deref()))
        .collect();
    assert_eq!(
        codes,
        [
            ("25-NQ/TW", Some("2013-06-03")),
            ("43-KL/TW", Some("2019-01-07"))
        ]
    );
    assert_eq!(
        d.basis[0].title.as_deref(),
        Some("Về tăng cường và đổi mới sự lãnh đạo của Đảng đối với công tác dân vận")
    );
    assert_eq!(d.sections.len(), 3);
    assert_eq!(d.sections[0].intro, "Nâng cao chất lượng công tác dân vận.");
    let one = find(&d, "II.1");
    assert_eq!(one.title, "Công tác tuyên truyền");
    assert_eq!(one.children.len(), 2);
    assert_eq!(find(&d, "II.1.1").deadline.as_deref(), Some("2023-06-30"));
    let semi = find(&d, "II.1.2");
    assert_eq!(semi.recurrence, Some(Recurrence::Semiannual));
    assert!(
        semi.text.ends_with("về Ban Thường vụ Đảng ủy."),
        "lower-case line continues: {}",
        semi.text
    );
    let two = find(&d, "II.2");
    assert_eq!(two.children.len(), 2);
    let b = find(&d, "II.2.b");
    assert_eq!(b.lead_units, ["Ủy ban MTTQ xã"]);
    assert_eq!(b.partner_units, ["Hội Nông dân", "Hội Liên hiệp Phụ nữ xã"]);
    // An unnumbered paragraph after the items is kept, with the item it follows.
    assert!(
        find(&d, "II.2")
            .text
            .contains("Ghi chú: danh sách mô hình gửi kèm.")
    );
    let impl1 = find(&d, "III.1");
    assert_eq!(impl1.lead_units, ["Ban Dân vận Đảng ủy"]);
    assert_eq!(impl1.partner_units, ["Công an xã"]);
    assert_eq!(impl1.recurrence, Some(Recurrence::Quarterly));
    assert_eq!(d.recipients, ["Ban Dân vận Huyện ủy", "Lưu VP"]);
    assert_eq!(
        d.signer.as_ref().unwrap().name.as_deref(),
        Some("Nguyễn Thị Hoa")
    );
}

/// A minimal .docx: the same variant written as WordprocessingML paragraphs.
fn docx(text: &str) -> Vec<u8> {
    use std::io::Write;
    let body: String = text
        .lines()
        .map(|l| {
            let esc = l.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            // Split each paragraph into two runs, as Word does when formatting changes mid-line.
            let cut = esc.char_indices().nth(esc.chars().count() / 2).map_or(esc.len(), |(i, _)| i);
            format!(
                "<w:p><w:pPr><w:jc w:val=\"both\"/></w:pPr><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>{}</w:t></w:r></w:p>",
                &esc[..cut],
                &esc[cut..]
            )
        })
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>").unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    zip.write_all(xml.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn docx_imports_like_its_text() {
    let from_docx = import_docx(&docx(VARIANT)).unwrap();
    assert_eq!(from_docx, import_text(VARIANT).unwrap());
    let sample = import_docx(&docx(SAMPLE)).unwrap();
    assert_eq!(find(&sample, "II.4").children.len(), 7);
    assert!(import_docx(b"PK\x03\x04 not really a zip").is_err());
}

#[test]
fn empty_and_unstructured_input_is_kept_not_dropped() {
    assert!(import_text("  \n\n ").is_err());
    let d = import_text("Một đoạn văn không theo thể thức nào cả, dài hơn một tiêu đề thông thường rất nhiều để không bị coi là tiêu đề của văn bản. Nó vẫn phải được giữ lại nguyên văn để người biên tập xem xét, không được bỏ đi, vì đây là dữ liệu của người dùng.").unwrap();
    assert!(d.sections.is_empty());
    assert_eq!(d.unclassified.len(), 1);
    assert_eq!(d.preamble.len(), 1);
}

/// A plan numbered by Word itself (`<w:numPr>` + `word/numbering.xml`) reads like the same plan
/// with its numbers typed: sections `I.`, items `1.` restarting in each section, sub-items `a)`.
#[test]
fn docx_with_word_automatic_numbering() {
    use std::io::Write;
    // (list level or none, text without its number)
    let lines: [(Option<u8>, &str); 13] = [
        (None, "KẾ HOẠCH"),
        (None, "Triển khai công tác dân vận khéo năm 2026"),
        (Some(0), "MỤC ĐÍCH, YÊU CẦU"),
        (Some(1), "Mục đích"),
        (None, "Nâng cao chất lượng công tác dân vận ở cơ sở."),
        (Some(0), "NỘI DUNG THỰC HIỆN"),
        (
            Some(1),
            "Tuyên truyền sâu rộng trong Nhân dân về phong trào thi đua dân vận khéo.",
        ),
        (Some(2), "Tổ chức hội nghị ở các thôn, bon."),
        (Some(2), "Phát tài liệu đến từng hộ gia đình."),
        (
            Some(1),
            "Định kỳ hàng quý báo cáo kết quả thực hiện về Ban Dân vận Huyện ủy.",
        ),
        (Some(0), "TỔ CHỨC THỰC HIỆN"),
        (
            Some(1),
            "Giao Hội Nông dân huyện chủ trì, phối hợp với Hội Liên hiệp Phụ nữ huyện triển khai kế hoạch này.",
        ),
        (
            Some(1),
            "Các xã, thị trấn báo cáo kết quả trước ngày 15/12/2026.",
        ),
    ];
    let typed = "KẾ HOẠCH\nTriển khai công tác dân vận khéo năm 2026\nI. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\nNâng cao chất lượng công tác dân vận ở cơ sở.\nII. NỘI DUNG THỰC HIỆN\n1. Tuyên truyền sâu rộng trong Nhân dân về phong trào thi đua dân vận khéo.\na) Tổ chức hội nghị ở các thôn, bon.\nb) Phát tài liệu đến từng hộ gia đình.\n2. Định kỳ hàng quý báo cáo kết quả thực hiện về Ban Dân vận Huyện ủy.\nIII. TỔ CHỨC THỰC HIỆN\n1. Giao Hội Nông dân huyện chủ trì, phối hợp với Hội Liên hiệp Phụ nữ huyện triển khai kế hoạch này.\n2. Các xã, thị trấn báo cáo kết quả trước ngày 15/12/2026.\n";
    let body: String = lines
        .iter()
        .map(|(level, text)| {
            let num = level.map_or(String::new(), |l| {
                format!("<w:numPr><w:ilvl w:val=\"{l}\"/><w:numId w:val=\"7\"/></w:numPr>")
            });
            format!("<w:p><w:pPr>{num}</w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>")
        })
        .collect();
    let document = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"x\"><w:body>{body}</w:body></w:document>"
    );
    let numbering = r#"<?xml version="1.0"?><w:numbering xmlns:w="x">
        <w:abstractNum w:abstractNumId="3">
          <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/></w:lvl>
          <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>
          <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%3)"/></w:lvl>
        </w:abstractNum>
        <w:num w:numId="7"><w:abstractNumId w:val="3"/></w:num>
      </w:numbering>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("word/document.xml", opts).unwrap();
    zip.write_all(document.as_bytes()).unwrap();
    zip.start_file("word/numbering.xml", opts).unwrap();
    zip.write_all(numbering.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();

    assert_eq!(server::plan_import::docx_text(&bytes).unwrap(), typed);
    let draft = import_docx(&bytes).unwrap();
    assert_eq!(draft, import_text(typed).unwrap());
    assert_eq!(find(&draft, "II.1").children.len(), 2);
    assert_eq!(find(&draft, "II.2").recurrence, Some(Recurrence::Quarterly));
    assert_eq!(find(&draft, "III.1").lead_units, vec!["Hội Nông dân huyện"]);
    assert_eq!(
        find(&draft, "III.2").deadline.as_deref(),
        Some("2026-12-15")
    );
}

#[path = "../../examples/support/import_score.rs"]
mod import_score;

/// The corpus of real plans (issue 14): every plan keeps the share of fields a person reads that
/// the importer got right when it was tuned (docs/benchmarks.md), so a change that helps one
/// office's style cannot quietly break another's.
#[test]
fn the_corpus_of_real_plans_keeps_its_score() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plans");
    let corpus = import_score::corpus(&dir).unwrap();
    assert!(corpus.len() >= 12, "{} plans", corpus.len());
    let mut all = import_score::Score::default();
    for f in &corpus {
        let s = import_score::score(&f.expected, &import_score::import(f).unwrap());
        let t = s.total();
        assert!(
            t.recall() >= 0.85 && t.precision() >= 0.9,
            "{}: recall {:.3}, precision {:.3}",
            f.name,
            t.recall(),
            t.precision()
        );
        all.add(&s);
    }
    let t = all.total();
    assert!(
        t.recall() >= 0.95 && t.precision() >= 0.95,
        "corpus: recall {:.3}, precision {:.3}",
        t.recall(),
        t.precision()
    );
}
