//! `cargo xtask import-score`: the plan importer scored on the corpus of real plans in
//! `server/fixtures/plans/` (issue 14): per field, precision and recall, and each plan's share of
//! the fields a person reads that the importer got right.

use clap::Parser;
use std::path::PathBuf;

#[path = "support/import_score.rs"]
mod import_score;

#[derive(Parser)]
struct Args {
    /// The corpus: `NAME.expected.json` with `NAME.txt` or `NAME.docx`.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans"))]
    dir: PathBuf,
    /// Also print each plan's fields that disagree.
    #[arg(long)]
    verbose: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut all = import_score::Score::default();
    println!(
        "{:<48} {:>8} {:>8} {:>8}",
        "plan", "recall", "prec.", "fields"
    );
    for f in import_score::corpus(&args.dir)? {
        let found = import_score::import(&f)?;
        let s = import_score::score(&f.expected, &found);
        let t = s.total();
        println!(
            "{:<48} {:>8.3} {:>8.3} {:>8}",
            f.name,
            t.recall(),
            t.precision(),
            t.expected
        );
        if args.verbose {
            let (e, g) = (&f.expected, &found);
            for (field, want, got) in [
                ("doc_type", e.doc_type.clone(), g.doc_type.clone()),
                ("number", e.number.clone(), g.number.clone()),
                ("title", Some(e.title.clone()), Some(g.title.clone())),
                ("issuer", e.issuer.clone(), g.issuer.clone()),
                ("place", e.place.clone(), g.place.clone()),
                ("date", e.date.clone(), g.date.clone()),
            ] {
                if want.as_deref().map(import_score::norm) != got.as_deref().map(import_score::norm)
                {
                    println!("    {field}: expected {want:?}, found {got:?}");
                }
            }
            for b in &e.basis {
                if !g.basis.contains(b) {
                    println!("    basis expected {b:?}");
                }
            }
            for b in &g.basis {
                if !e.basis.contains(b) {
                    println!("    basis found    {b:?}");
                }
            }
            for (n, want) in import_score::tasks(e) {
                let got = import_score::tasks(g).get(&n).copied();
                let norm =
                    |v: &[String]| v.iter().map(|u| import_score::norm(u)).collect::<Vec<_>>();
                let (gl, gp, gd) = got.map_or((vec![], vec![], None), |t| {
                    (
                        norm(&t.lead_units),
                        norm(&t.partner_units),
                        t.deadline.clone(),
                    )
                });
                if norm(&want.lead_units) != gl
                    || norm(&want.partner_units) != gp
                    || want.deadline != gd
                {
                    println!(
                        "    task {n}: lead {:?} / {:?}; partners {:?} / {:?}; deadline {:?} / {:?}{}",
                        want.lead_units,
                        got.map(|t| &t.lead_units),
                        want.partner_units,
                        got.map(|t| &t.partner_units),
                        want.deadline,
                        gd,
                        got.map_or(String::new(), |t| format!(
                            "\n        text: {}",
                            t.text.chars().take(220).collect::<String>()
                        ))
                    );
                }
            }
            for (field, t) in &s.0 {
                if t.right < t.expected || t.right < t.found {
                    println!(
                        "    {field:<20} expected {:>4}  found {:>4}  right {:>4}",
                        t.expected, t.found, t.right
                    );
                }
            }
        }
        all.add(&s);
    }
    println!();
    println!(
        "{:<20} {:>8} {:>8} {:>8}",
        "field", "recall", "prec.", "expected"
    );
    for (field, t) in &all.0 {
        println!(
            "{field:<20} {:>8.3} {:>8.3} {:>8}",
            t.recall(),
            t.precision(),
            t.expected
        );
    }
    let t = all.total();
    println!(
        "{:<20} {:>8.3} {:>8.3} {:>8}",
        "all fields",
        t.recall(),
        t.precision(),
        t.expected
    );
    Ok(())
}
