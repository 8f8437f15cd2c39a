//! Vietnamese text folding: accent-insensitive matching ("dan van" finds "Dân vận", "đ" matches "d")
//! and ASCII identifiers derived from names.

/// The base letter of a Vietnamese (or other Latin) letter, lower-cased, without its diacritics.
/// ASCII (most of any text) returns at once; other letters look up a small table, which keeps the
/// phone's bundle small (searches compare texts folded once, when a note is read).
fn base(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    const GROUPS: &[(&str, char)] = &[
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
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

/// A search's words, folded once for the many texts it is tried on.
pub struct Query(Vec<String>);

impl Query {
    pub fn new(query: &str) -> Query {
        Query(fold(query).split_whitespace().map(str::to_string).collect())
    }

    /// No words: everything matches.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every word occurs in `text`, ignoring case and accents.
    pub fn matches(&self, text: &str) -> bool {
        self.0.is_empty() || self.matches_folded(&fold(text))
    }

    /// [`Query::matches`] for a text folded beforehand (with [`fold`]).
    pub fn matches_folded(&self, folded: &str) -> bool {
        self.0.iter().all(|w| folded.contains(w.as_str()))
    }
}

/// Whether every word of `query` occurs in `text`, ignoring case and accents.
pub fn matches(text: &str, query: &str) -> bool {
    Query::new(query).matches(text)
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
        // Every precomposed Vietnamese vowel, both cases, to its base letter.
        let groups = [
            ("aàáảãạăằắẳẵặâầấẩẫậ", "a"),
            ("eèéẻẽẹêềếểễệ", "e"),
            ("iìíỉĩị", "i"),
            ("oòóỏõọôồốổỗộơờớởỡợ", "o"),
            ("uùúủũụưừứửữự", "u"),
            ("yỳýỷỹỵ", "y"),
            ("dđ", "d"),
        ];
        for (letters, b) in groups {
            assert_eq!(
                fold(letters),
                b.repeat(letters.chars().count()),
                "{letters}"
            );
            assert_eq!(fold(&letters.to_uppercase()), fold(letters), "{letters}");
        }
        let q = Query::new("  Dân  VẬN ");
        assert!(q.matches("công tác dân vận") && !q.matches("dân"));
        assert!(Query::new(" ").is_empty() && Query::new(" ").matches("x"));
        assert_eq!(slug("Xã Ka Đơn"), "xa-ka-don");
        assert_eq!(slug("  Thôn K'Long Bong "), "thon-k-long-bong");
        assert_eq!(unique("t-1", |x| x == "t-1" || x == "t-1-2"), "t-1-3");
        assert_eq!(unique("t-1", |_| false), "t-1");
    }
}
