//! Scoring the plan importer against hand-checked drafts (issue 14): per field, how many of the
//! things a person reads in a plan the importer found (recall) and how many of those it found
//! are right (precision). Shared by `cargo xtask import-score` and the corpus test.

use server::plan_import;
use shared::api::{DraftBasis, PlanDraft, TaskDraft};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Counts for one field: expected items, items the importer gave, and items that agree.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub expected: usize,
    pub found: usize,
    pub right: usize,
}

impl Tally {
    pub fn precision(&self) -> f64 {
        ratio(self.right, self.found)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.right, self.expected)
    }
    fn add(&mut self, other: Tally) {
        self.expected += other.expected;
        self.found += other.found;
        self.right += other.right;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Field name → tally, for one plan or the corpus.
#[derive(Debug, Default, Clone)]
pub struct Score(pub BTreeMap<&'static str, Tally>);

impl Score {
    /// All fields together.
    pub fn total(&self) -> Tally {
        let mut t = Tally::default();
        for v in self.0.values() {
            t.add(*v);
        }
        t
    }
    pub fn add(&mut self, other: &Score) {
        for (k, v) in &other.0 {
            self.0.entry(k).or_default().add(*v);
        }
    }
    fn one(&mut self, field: &'static str, expected: Option<&str>, found: Option<&str>) {
        let t = self.0.entry(field).or_default();
        let (e, f) = (expected.map(norm), found.map(norm));
        let (e, f) = (e.filter(|s| !s.is_empty()), f.filter(|s| !s.is_empty()));
        t.expected += usize::from(e.is_some());
        t.found += usize::from(f.is_some());
        t.right += usize::from(e.is_some() && e == f);
    }
    fn set(&mut self, field: &'static str, expected: &[String], found: &[String]) {
        let t = self.0.entry(field).or_default();
        let mut left: Vec<String> = found.iter().map(|s| norm(s)).collect();
        t.expected += expected.len();
        t.found += found.len();
        for e in expected {
            if let Some(i) = left.iter().position(|f| *f == norm(e)) {
                left.swap_remove(i);
                t.right += 1;
            }
        }
    }
}

/// Case, spacing, dashes and trailing punctuation do not count.
pub fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['–', '—'], "-")
        .trim_end_matches([',', ';', '.', ':'])
        .to_lowercase()
}

/// Compare an importer's draft with the expected one.
pub fn score(expected: &PlanDraft, found: &PlanDraft) -> Score {
    let mut s = Score::default();
    let (e, f) = (expected, found);
    s.one("doc_type", e.doc_type.as_deref(), f.doc_type.as_deref());
    s.one("number", e.number.as_deref(), f.number.as_deref());
    s.one("title", Some(&e.title), Some(&f.title));
    s.one("issuer", e.issuer.as_deref(), f.issuer.as_deref());
    s.one("place", e.place.as_deref(), f.place.as_deref());
    s.one("date", e.date.as_deref(), f.date.as_deref());
    // Basis documents are matched by code (by title when a law is cited by name only); each
    // matched pair's date, issuer and title then count as fields of their own.
    let key = |b: &DraftBasis| {
        if b.code.is_empty() {
            norm(b.title.as_deref().unwrap_or(""))
        } else {
            norm(&b.code)
        }
    };
    let codes = |v: &[DraftBasis]| v.iter().map(key).collect::<Vec<_>>();
    s.set("basis", &codes(&e.basis), &codes(&f.basis));
    for eb in &e.basis {
        let fb = f.basis.iter().find(|b| key(b) == key(eb));
        s.one("basis.kind", Some(&eb.kind), fb.map(|b| b.kind.as_str()));
        s.one(
            "basis.date",
            eb.date.as_deref(),
            fb.and_then(|b| b.date.as_deref()),
        );
        s.one(
            "basis.issuer",
            eb.issuer.as_deref(),
            fb.and_then(|b| b.issuer.as_deref()),
        );
        s.one(
            "basis.title",
            eb.title.as_deref(),
            fb.and_then(|b| b.title.as_deref()),
        );
    }
    let sections = |d: &PlanDraft| {
        d.sections
            .iter()
            .map(|x| format!("{} {}", x.number, x.title))
            .collect::<Vec<_>>()
    };
    s.set("sections", &sections(e), &sections(f));
    // Tasks are matched by their position in the tree; a matched task's units, recurrence and
    // deadline count separately (a missing task loses them all).
    let (et, ft) = (tasks(e), tasks(f));
    let numbers = |t: &BTreeMap<String, &TaskDraft>| t.keys().cloned().collect::<Vec<_>>();
    s.set("tasks", &numbers(&et), &numbers(&ft));
    for (n, t) in &et {
        let g = ft.get(n);
        let none: &[String] = &[];
        s.set(
            "tasks.lead",
            &t.lead_units,
            g.map_or(none, |g| &g.lead_units),
        );
        s.set(
            "tasks.partners",
            &t.partner_units,
            g.map_or(none, |g| &g.partner_units),
        );
        let rec = |t: &TaskDraft| t.recurrence.as_ref().map(|r| r.as_str().to_string());
        s.one(
            "tasks.recurrence",
            rec(t).as_deref(),
            g.and_then(|g| rec(g)).as_deref(),
        );
        s.one(
            "tasks.deadline",
            t.deadline.as_deref(),
            g.and_then(|g| g.deadline.as_deref()),
        );
    }
    // Units, recurrences and deadlines the importer gave to tasks that are not expected at all.
    for (n, g) in &ft {
        if !et.contains_key(n) {
            for (field, k) in [
                ("tasks.lead", g.lead_units.len()),
                ("tasks.partners", g.partner_units.len()),
                ("tasks.recurrence", usize::from(g.recurrence.is_some())),
                ("tasks.deadline", usize::from(g.deadline.is_some())),
            ] {
                s.0.entry(field).or_default().found += k;
            }
        }
    }
    s.set("recipients", &e.recipients, &f.recipients);
    let signer = |d: &PlanDraft, part: fn(&shared::api::Signer) -> &Option<String>| {
        d.signer.as_ref().and_then(|x| part(x).clone())
    };
    s.one(
        "signer.on_behalf",
        signer(e, |x| &x.on_behalf).as_deref(),
        signer(f, |x| &x.on_behalf).as_deref(),
    );
    s.one(
        "signer.title",
        signer(e, |x| &x.title).as_deref(),
        signer(f, |x| &x.title).as_deref(),
    );
    s.one(
        "signer.name",
        signer(e, |x| &x.name).as_deref(),
        signer(f, |x| &x.name).as_deref(),
    );
    s
}

/// Every task of a draft by number, children included.
pub fn tasks(d: &PlanDraft) -> BTreeMap<String, &TaskDraft> {
    fn walk<'a>(t: &'a TaskDraft, out: &mut BTreeMap<String, &'a TaskDraft>) {
        out.insert(t.number.clone(), t);
        for c in &t.children {
            walk(c, out);
        }
    }
    let mut out = BTreeMap::new();
    for s in &d.sections {
        for t in &s.tasks {
            walk(t, &mut out);
        }
    }
    out
}

/// A plan of the corpus: its name, the file to import and the expected draft.
pub struct Fixture {
    pub name: String,
    pub file: PathBuf,
    pub expected: PlanDraft,
}

/// The corpus in `dir`: every `NAME.expected.json` with its `NAME.docx` or `NAME.txt`.
pub fn corpus(dir: &Path) -> anyhow::Result<Vec<Fixture>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".expected.json"))
        else {
            continue;
        };
        let file = ["docx", "txt"]
            .iter()
            .map(|ext| dir.join(format!("{name}.{ext}")))
            .find(|p| p.exists())
            .ok_or_else(|| anyhow::anyhow!("{name}: no .docx or .txt"))?;
        let expected = serde_json::from_str(&std::fs::read_to_string(&path)?)
            .map_err(|e| anyhow::anyhow!("{name}.expected.json: {e}"))?;
        out.push(Fixture {
            name: name.to_string(),
            file,
            expected,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Import a fixture's file (a .txt without its "# " header lines).
pub fn import(f: &Fixture) -> anyhow::Result<PlanDraft> {
    Ok(if f.file.extension().is_some_and(|e| e == "docx") {
        plan_import::import_docx(&std::fs::read(&f.file)?)?
    } else {
        let text = std::fs::read_to_string(&f.file)?;
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with("# ")).collect();
        plan_import::import_text(&body.join("\n"))?
    })
}
