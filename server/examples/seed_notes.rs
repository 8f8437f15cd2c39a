//! Bench data for the phone (`cargo xtask bench-field --server-notes N`): N generated notes in one
//! commune's notes document of the current quarter, written into a stopped server's data folder
//! the way phones write them — one change per note, then one in ten edited and one in fifty
//! deleted — so a member's phone syncs a busy commune's quarter at its first login. Deterministic
//! (seeded); prints one JSON object: the notes written, live, deleted, and the document's size.

use clap::Parser;
use rand::{Rng, SeedableRng};
use server::{AppState, Config};
use shared::DocKey;
use shared::schema::{self, Note};
use std::net::SocketAddr;
use std::path::PathBuf;

#[path = "support/bench_data.rs"]
mod bench_data;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value = "xa-ka-don")]
    commune: String,
    #[arg(long, default_value_t = 2000)]
    notes: usize,
    #[arg(long, default_value_t = 18)]
    seed: u64,
    /// Tasks the notes link to (`t-…` IDs of the demo plan are taken by index).
    #[arg(long, default_value_t = 17)]
    tasks: usize,
    /// The server's `--documents` (PostgreSQL), if it keeps its documents there.
    #[arg(long)]
    documents: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.data_dir.join("danvan.sqlite3").exists(),
        "no database in {} (start the demo server once)",
        args.data_dir.display()
    );
    let cfg = Config {
        documents: args.documents.clone(),
        ..Config::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            args.data_dir.clone(),
            args.data_dir.join("no-dist"),
        )
    };
    let (st, _) = AppState::start(&cfg).await?;
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes(&args.commune, quarter);
    // The demo plan's task IDs, so the notes link to tasks the phone shows.
    let plan = st
        .storage
        .load_doc(
            DocKey::plan(server::seed::DEMO_PLAN_ID)
                .doc_id()
                .to_string(),
        )
        .await?;
    let task_ids: Vec<String> = plan
        .map(|p| schema::read_tasks(&p).into_iter().map(|t| t.id).collect())
        .unwrap_or_default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    // Activity dates from the quarter's first day up to about today.
    let (year, month, day) = shared::ids::vn_civil_date(server::clock::now_ms());
    let month0 = (u32::from(quarter.q) - 1) * 3 + 1;
    let span = ((month - month0) * 28 + day.min(28)).max(1) as usize;
    let mut ids = Vec::new();
    for i in 0..args.notes {
        let offset = rng.random_range(0..span);
        let (m, d) = (month0 + (offset / 28) as u32, 1 + (offset % 28) as u32);
        let date = format!("{year:04}-{m:02}-{d:02}");
        let mut n: Note = bench_data::note(&mut rng, format!("01BENCH{i:06}"), date, args.tasks);
        if !task_ids.is_empty() {
            n.task_ids = vec![task_ids[i % task_ids.len()].clone()];
        }
        n.author = "kadon".into();
        n.created_at = server::clock::now_ms() - (args.notes - i) as i64 * 60_000;
        ids.push(n.id.clone());
        st.hub
            .change(&st.storage, &key, move |d| schema::put_note(d, &n))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))??;
    }
    let (mut edited, mut deleted) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        let id = id.clone();
        if i % 50 == 7 {
            deleted += 1;
            st.hub
                .change(&st.storage, &key, move |d| {
                    schema::update_entry::<Note>(d, &id, |n| n.deleted = true).map(|_| ())
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))??;
        } else if i % 10 == 3 {
            edited += 1;
            st.hub
                .change(&st.storage, &key, move |d| {
                    schema::update_entry::<Note>(d, &id, |n| {
                        n.results = format!("Đã cập nhật kết quả ({i})");
                    })
                    .map(|_| ())
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))??;
        }
    }
    st.shutdown().await;
    // Read back after the shutdown flushed every write: what a phone will find.
    let (st, _) = AppState::start(&cfg).await?;
    let live = st
        .storage
        .with_durable(key.doc_id().to_string(), |am| schema::read_notes(am).len())
        .await
        .unwrap_or(0);
    let bytes = st
        .storage
        .with_durable(key.doc_id().to_string(), |am| am.save().len())
        .await
        .unwrap_or(0);
    st.shutdown().await;
    anyhow::ensure!(
        live == args.notes - deleted,
        "{live} live notes stored, {} expected",
        args.notes - deleted
    );
    println!(
        "{}",
        serde_json::json!({
            "commune": args.commune,
            "quarter": quarter.to_string(),
            "written": args.notes,
            "edited": edited,
            "deleted": deleted,
            "live": live,
            "document_bytes": bytes,
        })
    );
    Ok(())
}
