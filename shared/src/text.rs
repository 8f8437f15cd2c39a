//! Vietnamese text folding: accent-insensitive matching ("dan van" finds "Dân vận", "đ" matches "d")
//! and ASCII identifiers derived from names.

/// The base letter of a Vietnamese (or other Latin) letter, lower-cased, without its diacritics.
fn base(c: char) -> char {
    const GROUPS: &[(&str, char)] = &[
        ("aàáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("eèéẻẽẹêềếểễệ", 'e'),
        ("iìíỉĩị", 'i'),
        ("oòóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("uùúủũụưừứửữự", 'u'),
        ("yỳýỷỹỵ", 'y'),
        ("dđ", 'd'),
    ];
    let lower = c.to_lowercase().next().unwrap_or(c);
    GROUPS
        .iter()
        .find(|(g, _)| g.contains(lower))
        .map_or(lower, |(_, b)| *b)
}

/// Lower case, diacritics removed, `đ` → `d`: the form both sides of a search are compared in.
/// Combining marks (text typed as decomposed Unicode) are dropped as well.
pub fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(base)
        .collect()
}

/// Whether every word of `query` occurs in `text`, ignoring case and accents.
pub fn matches(text: &str, query: &str) -> bool {
    let text = fold(text);
    fold(query).split_whitespace().all(|w| text.contains(w))
}

/// An identifier from a name: `Xã Ka Đơn` → `xa-ka-don`.
pub fn slug(name: &str) -> String {
    let folded = fold(name);
    let mut out = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `base`, or `base-2`, `base-3`, … — the first that `taken` says is free.
pub fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                base.to_string()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|id| !taken(id))
        .expect("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Dân vận KHÉO"), "dan van kheo");
        assert_eq!(fold("Đoàn Thanh niên"), "doan thanh nien");
        assert!(matches("Công tác dân vận ở bon Đạ Tông", "dan van da tong"));
        assert!(matches("Họp dân", "HOP"));
        assert!(!matches("Họp dân", "hop thon"));
        // Decomposed input (e + combining circumflex + combining acute).
        assert_eq!(fold("ke\u{302}\u{301}"), "ke");
        assert_eq!(slug("Xã Ka Đơn"), "xa-ka-don");
        assert_eq!(slug("  Thôn K'Long Bong "), "thon-k-long-bong");
        assert_eq!(unique("t-1", |x| x == "t-1" || x == "t-1-2"), "t-1-3");
        assert_eq!(unique("t-1", |_| false), "t-1");
    }
}
