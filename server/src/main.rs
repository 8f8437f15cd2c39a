//! `danvan-server`: the binary edge — arguments, logging, signals, and the one-time console output.

use anyhow::Context;
use clap::Parser;
use server::{AppState, Config, app};
use shared::api::ReportTarget;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "danvan-server",
    version,
    about = "Sổ tay Dân vận — sync server"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder for the SQLite database.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// The built PWA (`cargo xtask dist`).
    #[arg(long, default_value = "target/dist")]
    dist: PathBuf,
    /// Seed an empty data dir with the demo org, plan and accounts.
    #[arg(long)]
    demo: bool,
    /// The URL users reach the server at, behind a reverse proxy (e.g. https://danvan.example.vn).
    /// With https, cookies are marked Secure and responses carry HSTS.
    #[arg(long)]
    public_url: Option<url::Url>,
    /// The header in which a trusted reverse proxy passes the client's address (X-Forwarded-For,
    /// X-Real-IP). Only set it when every request comes through that proxy.
    #[arg(long)]
    trusted_proxy_header: Option<axum::http::HeaderName>,
    /// Open sync sockets allowed from one client address. A carrier's NAT can put a province's
    /// phones behind one address; every socket needs a login anyway, and each user has 16 at most.
    #[arg(long, default_value_t = server::gate::Limits::default().per_addr)]
    max_sockets_per_address: usize,
    /// Where photo bytes go: a directory, or s3://bucket/prefix (endpoint, region and credentials
    /// from the AWS_* environment variables). Default: blobs/ in the data folder.
    #[arg(long)]
    blobs: Option<server::blob_store::BlobsAt>,
    /// Keep everything — accounts, the org tree, the office's tables, photo records and the
    /// documents — in PostgreSQL (postgres://user:password@host/db) instead of the data folder's
    /// SQLite file: several nodes can share it. Also read from DANVAN_DATABASE, which keeps a
    /// password out of the process list.
    #[arg(long, env = "DANVAN_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Keep only the documents in PostgreSQL (postgres://user:password@host/db), the rest in the
    /// data folder's SQLite file (one node). Default: where --database is. Also read from
    /// DANVAN_DOCUMENTS.
    #[arg(long, env = "DANVAN_DOCUMENTS", hide_env_values = true)]
    documents: Option<String>,
    /// Seconds after which a document nobody asked about is dropped from the server's memory.
    #[arg(long, default_value_t = 600)]
    unload_after_secs: u64,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Copy the database (documents, accounts, photos' records) to a new file, while the server
    /// runs. Photo bytes are in the photo store (--blobs): back it up with the store's own tools.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Make a backup the database of --data-dir, which must have none (move a damaged one aside).
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// The photo store.
    Blobs {
        #[command(subcommand)]
        command: BlobsCommand,
    },
    /// Plans (Kế hoạch).
    Plan {
        #[command(subcommand)]
        command: PlanCommand,
    },
    /// The read model (the office's tables, derived from the documents).
    Readmodel {
        #[command(subcommand)]
        command: ReadmodelCommand,
    },
    /// Write a quarterly report (the same code as the office's download; the server must not be
    /// running on this data folder).
    Report {
        #[arg(long)]
        plan: String,
        /// A quarter, like 2026-Q4.
        #[arg(long)]
        period: String,
        /// The org node the report is for.
        #[arg(long)]
        node: String,
        /// docx or xlsx.
        #[arg(long, default_value = "docx")]
        format: String,
        /// party (36-HD/VPTW) or front (91/HD-MTTW-BTT).
        #[arg(long, default_value = "party")]
        layout: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Subcommand, Debug)]
enum ReadmodelCommand {
    /// Write every derived row again from the stored documents (the server must not be running).
    Rebuild,
}

#[derive(clap::Subcommand, Debug)]
enum BlobsCommand {
    /// Move photos kept inside the database (servers before the photo store) to the photo store
    /// (--blobs). Safe while the server runs, and to run again after an interruption.
    Migrate,
    /// Copy the photo store (--blobs) to another one (a directory or s3://bucket/prefix), e.g. to
    /// move to a bucket; only what the target lacks, each photo checked. Safe while the server
    /// runs; run it again after switching the server to the new store.
    Copy {
        #[arg(long)]
        to: server::blob_store::BlobsAt,
    },
}

/// `danvan-server blobs copy --to …`.
async fn blobs_copy(cfg: &Config, to: &server::blob_store::BlobsAt) -> anyhow::Result<()> {
    let at = cfg.blobs_at();
    anyhow::ensure!(&at != to, "the photo store is {at} already");
    let open = |at: &server::blob_store::BlobsAt| {
        server::blob_store::BlobStore::open(at)
            .with_context(|| format!("opening the photo store {at}"))
    };
    let started = std::time::Instant::now();
    let c = server::blob_store::copy_all(&open(&at)?, &open(to)?).await?;
    println!(
        "{} photos ({:.1} MB) copied from {at} to {to} in {:.1} s; {} were there already",
        c.blobs,
        c.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        c.present
    );
    anyhow::ensure!(
        c.damaged == 0,
        "{} photos do not match their hash and were not copied (see the log)",
        c.damaged
    );
    Ok(())
}

/// `danvan-server blobs migrate`.
async fn blobs_migrate(cfg: &Config) -> anyhow::Result<()> {
    let path = server::db::path_in(&cfg.data_dir);
    anyhow::ensure!(cfg.has_database(), "no database at {}", path.display());
    let db = std::sync::Arc::new(cfg.open_db().await?);
    let at = cfg.blobs_at();
    let store = server::blob_store::BlobStore::open(&at)
        .with_context(|| format!("opening the photo store {at}"))?;
    let started = std::time::Instant::now();
    let m = server::blob_store::migrate(&db, &store).await?;
    println!(
        "{} photos ({:.1} MB) moved to {at} in {:.1} s",
        m.blobs,
        m.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    if m.damaged > 0 {
        println!(
            "{} photos do not match their hash and were left in the database (see the log)",
            m.damaged
        );
    }
    if m.blobs > 0 && cfg.database.is_none() {
        println!(
            "the database file keeps its size (new writes reuse the freed pages); to shrink it, \
             stop the server and run: sqlite3 {} VACUUM",
            path.display()
        );
    }
    anyhow::ensure!(m.damaged == 0, "some photos could not be moved");
    Ok(())
}

#[derive(clap::Subcommand, Debug)]
enum PlanCommand {
    /// Parse a plan (.txt or .docx) into a draft and print it; nothing is stored.
    Import {
        file: PathBuf,
        /// Print the whole draft as JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
}

async fn readmodel_rebuild(cfg: &Config) -> anyhow::Result<()> {
    let db = server::db::path_in(&cfg.data_dir);
    // Starting on an empty folder would seed a new deployment: refuse instead.
    anyhow::ensure!(cfg.has_database(), "no database at {}", db.display());
    let (state, _) = AppState::start(cfg).await.context("opening the data")?;
    let started = std::time::Instant::now();
    let docs = server::readmodel::rebuild(&state).await?;
    state.shutdown().await;
    println!(
        "read model rebuilt from {docs} documents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `danvan-server report …`: the report file from the data folder, as the office downloads it.
async fn report(
    cfg: &Config,
    t: ReportTarget,
    format: &str,
    layout: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let db = server::db::path_in(&cfg.data_dir);
    anyhow::ensure!(cfg.has_database(), "no database at {}", db.display());
    let layout = match layout {
        "party" => shared::api::ReportLayout::Party,
        "front" => shared::api::ReportLayout::Front,
        other => anyhow::bail!("unknown layout {other:?} (party or front)"),
    };
    let (state, _) = AppState::start(cfg).await.context("opening the data")?;
    let written = async {
        let r = server::report::resolve(&state, &t)?;
        let header = server::report::read_state(&state, &r, None).await.0;
        let settings = server::report::default_settings(&header, &r.node, layout);
        server::report::file(&state, &r, format, Some(settings)).await
    }
    .await;
    state.shutdown().await;
    let (_, _, bytes) = written.map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("{} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

fn plan_import(file: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let draft = if bytes.starts_with(b"PK\x03\x04") {
        server::plan_import::import_docx(&bytes)?
    } else {
        let text = String::from_utf8(bytes).context("the file is neither .docx nor UTF-8 text")?;
        server::plan_import::import_text(&text)?
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&draft)?);
        return Ok(());
    }
    println!(
        "{} {}",
        draft.doc_type.as_deref().unwrap_or("(văn bản)"),
        draft.number.as_deref().unwrap_or("(không số)")
    );
    println!("Tiêu đề: {}", draft.title);
    for b in &draft.basis {
        println!(
            "Căn cứ: {} số {} ({})",
            b.kind,
            b.code,
            b.date.as_deref().unwrap_or("không rõ ngày")
        );
    }
    for s in &draft.sections {
        let count: usize = s.tasks.iter().map(|t| 1 + t.children.len()).sum();
        println!("{}. {} — {} mục", s.number, s.title, count);
    }
    println!("Nơi nhận: {}", draft.recipients.len());
    if !draft.unclassified.is_empty() {
        println!(
            "Chưa phân loại được {} đoạn (giữ nguyên văn):",
            draft.unclassified.len()
        );
        for u in &draft.unclassified {
            println!("  {u}");
        }
    }
    Ok(())
}

/// Threads for blocking work (SQLite reads, photo files, password hashes), per core. Why not
/// tokio's default of 512: 300 devices opening their documents at once parked 112 threads, most
/// waiting for the durable mirror's lock, each with its stack and allocator caches; with 8 per
/// core (and a few shared SQLite read connections) the peak of that run fell from ~63 to ~50 MiB
/// and no latency measured got worse (docs/benchmarks.md).
const BLOCKING_THREADS_PER_CORE: usize = 8;

fn main() -> anyhow::Result<()> {
    // Before the runtime's threads exist: each would otherwise take an arena of its own.
    server::memory::bound_arenas();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(BLOCKING_THREADS_PER_CORE * cores)
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,samod=warn,samod_core=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    if let Some(Command::Plan {
        command: PlanCommand::Import { file, json },
    }) = &args.command
    {
        return plan_import(file, *json);
    }
    match &args.command {
        Some(Command::Backup { .. } | Command::Restore { .. }) if args.database.is_some() => {
            anyhow::bail!(
                "the database is in PostgreSQL: back it up and restore it with PostgreSQL's own \
                 tools (pg_dump, pg_restore, or the provider's backups)"
            );
        }
        Some(Command::Backup { to }) => {
            let b = server::backup::backup(&args.data_dir, to)?;
            println!(
                "backup written to {}: {:.1} MB in {:.1} s",
                to.display(),
                b.bytes as f64 / 1e6,
                b.took.as_secs_f64()
            );
            if args.documents.is_some() {
                println!(
                    "the documents are in PostgreSQL, not in this file: back them up there too (pg_dump)"
                );
            }
            return Ok(());
        }
        Some(Command::Restore { from }) => {
            server::backup::restore(from, &args.data_dir)?;
            println!(
                "{} restored into {}",
                from.display(),
                args.data_dir.display()
            );
            return Ok(());
        }
        _ => {}
    }
    let cfg = Config {
        demo: args.demo,
        public_url: args.public_url,
        trusted_proxy_header: args.trusted_proxy_header,
        limits: server::gate::Limits {
            per_addr: args.max_sockets_per_address,
            ..Default::default()
        },
        unload_after: std::time::Duration::from_secs(args.unload_after_secs),
        blobs: args.blobs,
        documents: args.documents,
        database: args.database,
        ..Config::new(args.listen, args.data_dir, args.dist)
    };
    match &args.command {
        Some(Command::Blobs {
            command: BlobsCommand::Migrate,
        }) => return blobs_migrate(&cfg).await,
        Some(Command::Blobs {
            command: BlobsCommand::Copy { to },
        }) => return blobs_copy(&cfg, to).await,
        _ => {}
    }
    if let Some(Command::Readmodel {
        command: ReadmodelCommand::Rebuild,
    }) = &args.command
    {
        return readmodel_rebuild(&cfg).await;
    }
    if let Some(Command::Report {
        plan,
        period,
        node,
        format,
        layout,
        out,
    }) = &args.command
    {
        let t = ReportTarget {
            plan: plan.clone(),
            period: period.clone(),
            node: node.clone(),
        };
        return report(&cfg, t, format, layout, out).await;
    }
    if !cfg.dist.join("index.html").exists() {
        tracing::warn!(dist = %cfg.dist.display(), "no built app here: run `cargo xtask dist` (the API still works)");
    }
    // Listen for signals before anything else, so a SIGTERM during start-up is not fatal mid-write.
    let shutdown = shutdown_signal();
    let (state, lines) = AppState::start(&cfg).await.context("starting the server")?;
    for l in lines {
        println!("{l}");
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    println!("danvan-server listening on http://{addr}");
    std::io::stdout().flush()?;

    let st = state.clone();
    server::serve::serve(
        listener,
        app(state.clone()),
        cfg.listen_limits,
        async move {
            shutdown.await;
            tracing::info!("shutting down: closing sync connections and flushing storage");
            // Whatever the server is doing, it is gone within the deadline: what was acknowledged
            // is committed already, and SQLite rolls back a transaction cut short.
            std::thread::spawn(|| {
                std::thread::sleep(SHUTDOWN_DEADLINE);
                eprintln!("shutdown took longer than {SHUTDOWN_DEADLINE:?}; exiting now");
                std::process::exit(1);
            });
            // Upgraded WebSockets are not tracked by the listener's drain: close them first.
            st.hub.stop().await;
        },
        std::time::Duration::from_secs(3),
    )
    .await;
    state.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM ends the process within this time (service managers send SIGKILL after 10 s or more).
const SHUTDOWN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);

/// Registers the handlers now (a signal arriving before the future is awaited is not lost) and
/// resolves on the first SIGINT or SIGTERM.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let t = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let i = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = t => {}, _ = i => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
