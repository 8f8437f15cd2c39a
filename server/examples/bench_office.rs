//! Office benchmark: generated read-model data (150 communes, 40 tasks, 8 quarters, 2,000 notes
//! per commune: 300,000 notes, ~2 petitions and 1 photo each) in a real SQLite file, then the
//! office's queries timed as the endpoints run them. Prints one JSON object with the figures.
//!
//! `cargo xtask bench-office [-- --communes 150 --notes 2000]` (release build).

use clap::Parser;
use rand::SeedableRng;
use server::access::Scope;
use server::db::{Db, Filter, NodeRow, NotesChange, NotesDoc};
use shared::Quarter;
use shared::api::OfficeQuery;
use shared::schema::{self, Note};
use shared::vocab::OrgLevel;
use shared::{DocKey, DocKind};
use std::time::{Duration, Instant};

#[path = "support/bench_data.rs"]
mod bench_data;
use bench_data::note;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 150)]
    communes: usize,
    /// Notes per commune, spread over 8 quarters.
    #[arg(long, default_value_t = 2000)]
    notes: usize,
    #[arg(long, default_value_t = 40)]
    tasks: usize,
    /// Runs of each query.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Write the rows directly only (no Automerge documents, no rebuild timing).
    #[arg(long)]
    rows_only: bool,
    /// Add the generated communes and rows to this existing database (e.g. a demo server's, for
    /// the office's first-screen benchmark) instead of a fresh one.
    #[arg(long)]
    into: Option<std::path::PathBuf>,
    /// The org node the generated communes sit under (created when the database is fresh).
    #[arg(long, default_value = "root")]
    parent: String,
}

fn percentiles(mut v: Vec<Duration>) -> serde_json::Value {
    v.sort();
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    serde_json::json!({ "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0) })
}

fn time(runs: usize, mut f: impl FnMut()) -> serde_json::Value {
    let v = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    percentiles(v)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let path = args
        .into
        .clone()
        .unwrap_or_else(|| dir.path().join("danvan.sqlite3"));
    let db = Db::open(&path)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(18);
    if args.into.is_none() {
        db.upsert_node(&NodeRow {
            id: args.parent.clone(),
            name: "Tỉnh".into(),
            level: OrgLevel::Root,
            parent: None,
            removed: false,
        })?;
    }
    let quarters: Vec<Quarter> = {
        let mut q = Quarter { year: 2026, q: 4 };
        let mut v = Vec::new();
        for _ in 0..8 {
            v.push(q);
            q = q.prev();
        }
        v
    };
    let started = Instant::now();
    let mut docs: Vec<(String, String, String, Vec<u8>)> = Vec::new();
    for c in 0..args.communes {
        let commune = format!("xa-{c:03}");
        db.upsert_node(&NodeRow {
            id: commune.clone(),
            name: format!("Xã {c:03}"),
            level: OrgLevel::Commune,
            parent: Some(args.parent.clone()),
            removed: false,
        })?;
        for (qi, q) in quarters.iter().enumerate() {
            let per = args.notes / quarters.len();
            let notes: Vec<Note> = (0..per)
                .map(|i| {
                    let day = 1 + (i % 28);
                    let month = (q.q as usize - 1) * 3 + 1 + (i % 3);
                    note(
                        &mut rng,
                        format!("01{c:03}{qi}{i:05}"),
                        format!("{:04}-{month:02}-{day:02}", q.year),
                        args.tasks,
                    )
                })
                .collect();
            let doc_id = format!("doc-{commune}-{q}");
            let period = q.to_string();
            if !args.rows_only {
                // The same notes as an Automerge document, one change per note as phones write them.
                let mut am = schema::genesis_doc(&DocKey::notes(&commune, *q))?;
                for n in &notes {
                    schema::put_note(&mut am, n)?;
                }
                docs.push((doc_id.clone(), commune.clone(), period.clone(), am.save()));
            }
            db.apply_notes(
                &NotesDoc {
                    doc_id: &doc_id,
                    commune: &commune,
                    period: &period,
                },
                &NotesChange::Full(notes),
                None,
                "",
            )?;
        }
    }
    let generated = started.elapsed();
    // The rebuild's work per document, as `readmodel rebuild` does it after reading the stored
    // bytes: load, check the schema, read the notes, write their rows.
    let (rebuilt, doc_bytes) = if args.rows_only {
        (None, 0)
    } else {
        let everything = OfficeQuery::default();
        let all_time = Filter::new(&everything, "0000-01-01", "9999-12-31", &Scope::All);
        let (before, _) = db.office_notes(&all_time, 0, 1)?;
        db.clear_read_model()?;
        let t = Instant::now();
        for (doc_id, commune, period, bytes) in &docs {
            let am = automerge::Automerge::load(bytes)?;
            let bad = schema::check(&am, DocKind::Notes);
            let notes: Vec<Note> = schema::read_notes(&am)
                .into_iter()
                .filter(|n| !bad.iter().any(|(k, _)| *k == n.id))
                .collect();
            db.apply_notes(
                &NotesDoc {
                    doc_id,
                    commune,
                    period,
                },
                &NotesChange::Full(notes),
                None,
                "",
            )?;
        }
        let took = t.elapsed();
        let (after, _) = db.office_notes(&all_time, 0, 1)?;
        assert_eq!(before, after, "the rebuild gives every note back");
        (
            Some(took.as_secs_f64()),
            docs.iter().map(|d| d.3.len()).sum::<usize>(),
        )
    };
    drop(docs);
    let size = std::fs::metadata(&path)?.len()
        + std::fs::metadata(path.with_extension("sqlite3-wal")).map_or(0, |m| m.len());

    let q4 = quarters[0];
    let (from, to) = (q4.first_day(), q4.last_day());
    let all = Scope::All;
    let query = |q: OfficeQuery| q;
    let base = query(OfficeQuery::default());
    let filter = |q| Filter {
        query: q,
        from: &from,
        to: &to,
        scope: &all,
    };
    let summary = time(args.runs, || {
        db.office_figures(&filter(&base)).unwrap();
        db.office_activities(&filter(&base)).unwrap();
        db.office_weeks(&filter(&base)).unwrap();
        db.last_note_dates().unwrap();
        db.overview().unwrap();
    });
    let notes_page = time(args.runs, || {
        db.office_notes(&filter(&base), 0, 50).unwrap();
    });
    let search_q = OfficeQuery {
        q: Some("dan van kheo ca phe".into()),
        ..OfficeQuery::default()
    };
    let search = time(args.runs, || {
        db.office_notes(&filter(&search_q), 0, 50).unwrap();
    });
    let drill_q = OfficeQuery {
        commune: Some("xa-042".into()),
        task: Some("t-7".into()),
        ..OfficeQuery::default()
    };
    let drill = time(args.runs, || {
        db.office_notes(&filter(&drill_q), 0, 50).unwrap();
    });
    let petitions = time(args.runs, || {
        db.office_petitions(&filter(&base), 0, 50, |c| c.to_string())
            .unwrap();
    });
    // One incoming note: the read model's share of a commit (the diff itself is not included).
    let mut one = Vec::new();
    for i in 0..args.runs {
        let n = note(&mut rng, format!("02NEW{i:05}"), from.clone(), args.tasks);
        let t = Instant::now();
        db.apply_notes(
            &NotesDoc {
                doc_id: &format!("doc-xa-000-{q4}"),
                commune: "xa-000",
                period: &q4.to_string(),
            },
            &NotesChange::Some {
                live: vec![n],
                gone: vec![],
            },
            Some(""),
            "",
        )?;
        one.push(t.elapsed());
    }
    let (total, _) = db.office_notes(&filter(&base), 0, 1)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "communes": args.communes,
            "notes": args.communes * (args.notes / quarters.len()) * quarters.len(),
            "notes_in_quarter": total,
            "generate_s": generated.as_secs_f64(),
            "rebuild_from_documents_s": rebuilt,
            "documents_mib": doc_bytes as f64 / 1_048_576.0,
            "db_mib": size as f64 / 1_048_576.0,
            "summary": summary,
            "notes_page": notes_page,
            "search": search,
            "drill_down": drill,
            "petitions": petitions,
            "one_note_update": percentiles(one),
        }))?
    );
    Ok(())
}
