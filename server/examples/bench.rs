//! Sync benchmark: N simulated devices each push M notes to a real server process and wait, note by
//! note, until the server's durable heads cover it. Prints one JSON object with the figures.
//!
//! `cargo xtask bench -- --devices 50 --notes 100` (release build of server and bench).
//! `--soak-docs 10000` instead: touch that many documents once each, go quiet, and report the
//! server's memory before, at its peak and once it has unloaded them (issue 13).

// The tests' helpers; the benchmark uses only some of them.
#[allow(dead_code)]
#[path = "../tests/it/common/mod.rs"]
mod common;

use clap::Parser;
use common::{Device, Login, device_login_in, durable_check, spread};
use shared::driver::Nudge;
use shared::schema::{self, Note};
use shared::{DocKey, Quarter};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    server_bin: std::path::PathBuf,
    /// One more argument for our server (repeat for several), e.g.
    /// `--server-arg=--documents --server-arg=postgres://…`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// Server nodes sharing one PostgreSQL (issue 15): with `--database`, all of them on it; with
    /// `--documents` only, the others on backups of node 0's data folder (the same accounts).
    /// Device `i` syncs with node `i % nodes` (a document's devices spread over the nodes), or
    /// with `--route-by-commune` a document's devices all with one node, as nginx routes a
    /// commune's phones (docs/nginx). CPU and RSS are the nodes' sums.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    #[arg(long)]
    route_by_commune: bool,
    #[arg(long, default_value_t = 50)]
    devices: usize,
    #[arg(long, default_value_t = 100)]
    notes: usize,
    /// How many devices write into the same notes document (the demo communes in turn, then
    /// quarters going back). 1: communes syncing independently; 10: a busy commune's phones on its
    /// quarter (every change fans out to the document's other peers).
    #[arg(long, default_value_t = 1)]
    devices_per_doc: usize,
    /// Run the server under `taskset -c CPUS`, so it does not share cores with this client (which
    /// should be pinned apart too: `cargo xtask bench` does both on a machine with 2+ cores).
    #[arg(long)]
    server_cpus: Option<String>,
    /// Measure the official automerge-repo sync server instead (`node JS_SERVER DIR`, e.g.
    /// tests/js-sync-server.mjs): no logins (it has none), each device its own peer ID, the same
    /// documents, notes and devices; latency to the server's acknowledgement (it has no durable
    /// answer), as `--confirm ack` measures ours.
    #[arg(long)]
    js_server: Option<std::path::PathBuf>,
    /// What ends a note's latency: `durable` (our durable-heads answer: committed to SQLite) or
    /// `ack` (the server's sync message names heads covering the note; comparable across servers).
    #[arg(long, value_enum, default_value_t = Confirm::Durable)]
    confirm: Confirm,
    /// Sustained load instead of as-fast-as-possible: every device connects first, then the
    /// devices together write this many notes per second (each in turn, evenly spread) for
    /// `--seconds`; `--notes` is ignored.
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Soak instead: write one note into each of this many documents (communes added to the org
    /// table, 25 quarters each, one device per commune), disconnect, and report the server's RSS
    /// idle, at its peak and after `--unload-after-secs` of quiet.
    #[arg(long)]
    soak_docs: Option<usize>,
    /// The server's idle time before a document leaves memory (soak only).
    #[arg(long, default_value_t = 10)]
    unload_after_secs: u64,
    /// Start from a copy of this data folder (a big database made with the `seed_notes` example)
    /// instead of the demo's.
    #[arg(long)]
    data_from: Option<std::path::PathBuf>,
    /// This many seconds into the run, take an online backup (`danvan-server backup`) while the
    /// devices write, then restore it into a new folder; report both times and the size.
    #[arg(long)]
    backup_after: Option<f64>,
    /// The app as it was before durable heads were pushed: every device asks for them over HTTP
    /// at every 1.5 s round, idle or not, and ignores pushes (to measure what polling cost).
    #[arg(long)]
    poll_every_round: bool,
    /// Write every note's timing to this CSV file (device, note, written at ms since the start,
    /// latency ms), to see where in the run a tail comes from.
    #[arg(long)]
    trace: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Confirm {
    Durable,
    Ack,
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

/// The server's CPU time so far (user + system), from `/proc/PID/stat` (clock ticks of 10 ms).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// Start the server under test (ours, or the JS one with `--js-server`) on a free port with its
/// data in `dir`, pinned to `--server-cpus`; ours gets `extra` arguments too.
async fn spawn_server(
    args: &Args,
    dir: &std::path::Path,
    extra: &[&str],
) -> anyhow::Result<(tokio::process::Child, std::net::SocketAddr)> {
    let (program, server_args): (std::path::PathBuf, Vec<std::ffi::OsString>) =
        match &args.js_server {
            Some(script) => ("node".into(), vec![script.into(), dir.join("data").into()]),
            None => (
                args.server_bin.clone(),
                [
                    "--listen",
                    "127.0.0.1:0",
                    "--demo",
                    "--dist",
                    "/nonexistent",
                    "--data-dir",
                ]
                .into_iter()
                .map(Into::into)
                .chain([dir.join("data").into()])
                .chain(extra.iter().map(Into::into))
                .collect(),
            ),
        };
    let mut server = match &args.server_cpus {
        Some(cpus) => {
            let mut c = tokio::process::Command::new("taskset");
            c.args(["-c", cpus]).arg(&program);
            c
        }
        None => tokio::process::Command::new(&program),
    };
    let mut child = server
        .args(&server_args)
        // The bench drops its sockets without a close frame at the end: not worth a line each.
        .env("RUST_LOG", "error,samod=off")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("server exited"))?;
        if let Some(a) = line
            .strip_prefix("danvan-server listening on http://")
            .or_else(|| line.strip_prefix("js-sync-server listening on http://"))
        {
            break a.parse::<std::net::SocketAddr>()?;
        }
    };
    // Keep reading, so the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, addr))
}

/// The server's resident memory now, in KiB: `VmRSS`, or one of its parts (`RssAnon`: the heap
/// and stacks; `RssFile`: pages of the executable and libraries, which the kernel can drop).
fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

/// Documents in the server's memory, samod's and the durable mirror's (`/healthz`).
async fn documents_loaded(base: &str) -> Option<u64> {
    let text = reqwest::get(format!("{base}/healthz"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let count = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.trim().parse().ok())
    };
    Some(count("documents_loaded")? + count("durable_states_loaded")?)
}

/// Issue 13's soak: memory follows activity, not history.
async fn soak(args: &Args, docs: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.js_server.is_none(),
        "the soak measures our server only"
    );
    const QUARTERS: usize = 25;
    let dir = tempfile::tempdir()?;
    // A first start seeds the demo; communes are then added to the org table (the registry is
    // built from it at start) with one member device each, and the server started again.
    let (mut child, _) = spawn_server(args, dir.path(), &[]).await?;
    child.kill().await?;
    let db = server::db::Db::open(&dir.path().join("data").join("danvan.sqlite3"))?;
    let parent = db
        .nodes()?
        .into_iter()
        .find(|n| n.id == "xa-ka-don")
        .and_then(|n| n.parent);
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let communes = docs.div_ceil(QUARTERS);
    let mut logins = Vec::new();
    for c in 0..communes {
        let id = format!("soak-{c:05}");
        db.upsert_node(&server::db::NodeRow {
            id: id.clone(),
            name: format!("Xã thử {c}"),
            level: shared::vocab::OrgLevel::Commune,
            parent: parent.clone(),
            removed: false,
        })?;
        logins.push((device_login_in(&db, &id, c, &hash), id));
    }
    drop(db);
    let unload = args.unload_after_secs.to_string();
    let (mut child, addr) =
        spawn_server(args, dir.path(), &["--unload-after-secs", &unload]).await?;
    let pid = child.id().unwrap_or_default();
    let base = format!("http://{addr}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(pid);
    let idle_anon = status_kib(pid, "RssAnon");

    // Each device writes one note into each of its commune's quarters and waits until the server
    // acknowledges it; at most 200 devices at once.
    let started = Instant::now();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = Vec::new();
    for (i, (login, commune)) in logins.into_iter().enumerate() {
        let gate = gate.clone();
        let n = QUARTERS.min(docs - i * QUARTERS);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut dev = Device::connect(addr, &login).await;
            let mut q = server::clock::current_quarter();
            for _ in 0..n {
                let id = dev.track(&DocKey::notes(&commune, q), true).await;
                let note = Note {
                    id: format!("soak-{i:05}-{q}"),
                    activity_date: q.first_day(),
                    title: "Họp dân".into(),
                    content: "Tuyên truyền Chỉ thị 18-CT/TU; 30 người tham dự.".into(),
                    author: login.peer_id.clone(),
                    created_at: 1_795_700_000_000,
                    ..Note::default()
                };
                dev.change(&id, |d| schema::put_note(d, &note).unwrap())
                    .await;
                let t0 = Instant::now();
                while !dev.client.server_heads(&id).is_some_and(|h| {
                    shared::unsynced::unsynced_changes(dev.client.doc(&id).unwrap(), h) == 0
                }) {
                    anyhow::ensure!(
                        t0.elapsed() < Duration::from_secs(60),
                        "not acknowledged in 60 s"
                    );
                    dev.pump(Duration::from_millis(5)).await;
                }
                q = q.prev();
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let touched_in = started.elapsed();
    let loaded_after_touch = documents_loaded(&base).await;
    let rss_after_touch = rss_kib(pid);

    // Quiet: wait until samod and the durable mirror have let every document go; then a while
    // longer, as a quiet server would be: tokio's idle blocking threads exit after 10 s (with
    // their SQLite read connections' page caches), and the next unload scan hands freed memory
    // back to the system.
    let quiet = Instant::now();
    while documents_loaded(&base).await != Some(0) {
        anyhow::ensure!(
            quiet.elapsed() < Duration::from_secs(600),
            "documents never unloaded"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let unloaded_in = quiet.elapsed();
    let rss_unloaded = rss_kib(pid);
    tokio::time::sleep(Duration::from_secs(12) + Duration::from_secs(args.unload_after_secs) / 4)
        .await;
    let rss_quiet = rss_kib(pid);
    let anon_quiet = status_kib(pid, "RssAnon");
    let peak = peak_rss_kib(pid);
    let _ = child.kill().await;
    let mib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
    println!(
        "{}",
        serde_json::json!({
            "soak_documents": docs,
            "communes": communes,
            "unload_after_secs": args.unload_after_secs,
            "touch_seconds": touched_in.as_secs_f64(),
            "documents_loaded_after_touch": loaded_after_touch,
            "seconds_until_all_unloaded": unloaded_in.as_secs_f64(),
            "quiet_seconds": quiet.elapsed().as_secs_f64(),
            "rss_idle_mib": mib(idle),
            "rss_after_touch_mib": mib(rss_after_touch),
            "rss_peak_mib": mib(peak),
            "rss_when_unloaded_mib": mib(rss_unloaded),
            "rss_quiet_mib": mib(rss_quiet),
            "quiet_over_idle": rss_quiet.zip(idle).map(|(q, i)| q as f64 / i as f64),
            "rss_anon_idle_mib": mib(idle_anon),
            "rss_anon_quiet_mib": mib(anon_quiet),
            "anon_quiet_over_idle": anon_quiet.zip(idle_anon).map(|(q, i)| q as f64 / i as f64),
        })
    );
    Ok(())
}

/// `--backup-after`: `danvan-server backup` of the running server's folder after `after`
/// seconds, then `restore` of that file into a new folder; times, size and chunks restored.
async fn backup_and_restore(
    bin: &std::path::Path,
    dir: &std::path::Path,
    after: f64,
) -> anyhow::Result<serde_json::Value> {
    tokio::time::sleep(Duration::from_secs_f64(after)).await;
    let file = dir.join("backup.sqlite3");
    let run = |args: Vec<std::ffi::OsString>| async move {
        let t0 = Instant::now();
        let out = tokio::process::Command::new(bin)
            .args(args)
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        anyhow::Ok(t0.elapsed().as_secs_f64())
    };
    let backup_seconds = run(vec![
        "--data-dir".into(),
        dir.join("data").into(),
        "backup".into(),
        "--to".into(),
        file.clone().into(),
    ])
    .await?;
    let bytes = std::fs::metadata(&file)?.len();
    let restored = dir.join("restored");
    let restore_seconds = run(vec![
        "--data-dir".into(),
        restored.clone().into(),
        "restore".into(),
        "--from".into(),
        file.into(),
    ])
    .await?;
    let db = rusqlite::Connection::open(server::db::path_in(&restored))?;
    let count = |table: &str| {
        db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
    };
    Ok(serde_json::json!({
        "after_seconds": after,
        "backup_seconds": backup_seconds,
        "backup_mib": bytes as f64 / 1_048_576.0,
        "restore_seconds": restore_seconds,
        "chunks_restored": count("chunks")?,
        "indexed_notes_restored": count("rm_note_rows")?,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(docs) = args.soak_docs {
        return soak(&args, docs).await;
    }
    let dir = tempfile::tempdir()?;
    let js = args.js_server.is_some();
    anyhow::ensure!(
        !js || args.confirm == Confirm::Ack,
        "the JS server has no durable answer: use --confirm ack"
    );
    if let Some(from) = &args.data_from {
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::copy(entry.path(), data.join(entry.file_name()))?;
            }
        }
    }
    let extra: Vec<&str> = args.server_args.iter().map(String::as_str).collect();
    // `--database URL`: everything in PostgreSQL, every node on it (no copies of node 0's folder).
    let database = args
        .server_args
        .iter()
        .position(|a| a == "--database")
        .and_then(|i| args.server_args.get(i + 1))
        .cloned();
    anyhow::ensure!(
        args.nodes <= 1
            || database.is_some()
            || args.server_args.iter().any(|a| a == "--documents"),
        "several nodes share documents only in PostgreSQL: add --server-arg=--database --server-arg=postgres://…"
    );
    let (child, addr) = spawn_server(&args, dir.path(), &extra).await?;
    let mut children = vec![child];
    let mut addrs = vec![addr];

    // One member account per device, as in a commune (the server allows 16 sockets per account),
    // written into the served database directly: argon2 logins would measure the password hash.
    // (The JS server has no accounts: a peer ID of its own per device.)
    let per_doc = args.devices_per_doc.max(1);
    let logins: Vec<(Login, &str, Quarter)> = if js {
        (0..args.devices)
            .map(|i| {
                let (commune, q) = spread(i, per_doc);
                let login = Login {
                    token: String::new(),
                    peer_id: format!("bench-{i:04}"),
                };
                (login, commune, q)
            })
            .collect()
    } else {
        let db = match &database {
            Some(url) => {
                let url = url.clone();
                tokio::task::spawn_blocking(move || server::db::Db::open_postgres(&url)).await??
            }
            None => server::db::Db::open(&dir.path().join("data").join("danvan.sqlite3"))?,
        };
        let hash = server::auth::hash_password("not used: the devices are logged in already");
        (0..args.devices)
            .map(|i| {
                let (commune, q) = spread(i, per_doc);
                (device_login_in(&db, commune, i, &hash), commune, q)
            })
            .collect()
    };
    // The other nodes: on the shared database, or on backups of node 0's folder, logins included.
    for k in 1..args.nodes.max(1) {
        let node_dir = dir.path().join(format!("node{k}"));
        std::fs::create_dir_all(node_dir.join("data"))?;
        if database.is_none() {
            server::backup::backup(
                &dir.path().join("data"),
                &server::db::path_in(&node_dir.join("data")),
            )?;
        }
        let (child, addr) = spawn_server(&args, &node_dir, &extra).await?;
        children.push(child);
        addrs.push(addr);
    }
    let pids: Vec<u32> = children
        .iter()
        .map(|c| c.id().unwrap_or_default())
        .collect();
    let cpu_total = |pids: &[u32]| -> Option<f64> { pids.iter().map(|p| cpu_seconds(*p)).sum() };

    let started = Instant::now();
    // Logins (argon2) are before this point: the figure is the sync's cost.
    let cpu_at_start = cpu_total(&pids);
    let mut tasks = Vec::new();
    // With `--rate`: everyone connected before the clock starts; device `i` writes its `k`th note
    // at (k × devices + i) / rate seconds.
    let all_connected = std::sync::Arc::new(tokio::sync::Barrier::new(args.devices));
    let clock: std::sync::Arc<std::sync::OnceLock<Instant>> = Default::default();
    let (rate, seconds, devices) = (args.rate, args.seconds, args.devices);
    for (i, (l, commune, q)) in logins.into_iter().enumerate() {
        let notes = match rate {
            Some(r) => (0..)
                .take_while(|k| (k * devices + i) as f64 / r < seconds)
                .count(),
            None => args.notes,
        };
        let (all_connected, clock) = (all_connected.clone(), clock.clone());
        let node = if args.route_by_commune {
            i / per_doc
        } else {
            i
        };
        let addr = addrs[node % addrs.len()];
        let base = format!("http://{addr}");
        let confirm = args.confirm;
        let poll_every_round = args.poll_every_round;
        tasks.push(tokio::spawn(async move {
            let mut dev = Device::connect(addr, &l).await;
            let id = dev.track(&DocKey::notes(commune, q), true).await;
            // The opening sync: until this copy holds the server's heads. (Not "until the socket
            // is quiet for 100 ms": on a document its nine others are busy writing, that kept
            // devices from their first note for up to 12 s of a 13 s run.)
            dev.pump_until(
                |d| {
                    d.client.server_heads(&id).is_some_and(|h| {
                        h.iter().all(|h| shared::unsynced::has_change(d.client.doc(&id).unwrap(), h))
                    })
                },
                Duration::from_secs(5),
            )
            .await;
            let mut latencies = Vec::with_capacity(notes);
            let mut written_at = Vec::with_capacity(notes);
            // The app's 1.5 s rounds: at a round's tick while a note waits and no push came for
            // 3 s, it asks over HTTP as well (a lost push, a silent socket).
            const ROUND: Duration = Duration::from_millis(1500);
            let mut next_round = Instant::now() + ROUND;
            let (mut pushes_seen, mut last_push) = (0, Instant::now());
            let mut resyncs = 0usize;
            // Notes confirmed by the HTTP fallback, not by a push (a push missed or late).
            let mut by_http = 0usize;
            let mut dropped = false;
            if rate.is_some() {
                all_connected.wait().await;
                clock.get_or_init(Instant::now);
            }
            for n in 0..notes {
                if let (Some(r), Some(start)) = (rate, clock.get()) {
                    // Until this note's turn, receive what the others write.
                    let at = *start + Duration::from_secs_f64((n * devices + i) as f64 / r);
                    // `pump_until`'s timeout restarts with every frame: waiting the whole gap
                    // at once, a device that receives a frame just before its turn would write
                    // up to a gap late (measured: half the devices of a 2,000 × 20/s run wrote
                    // seconds late). Short slices keep every device on its schedule.
                    while Instant::now() < at && !dropped {
                        let slice = (at - Instant::now()).min(Duration::from_millis(10));
                        dropped = !dev.pump_until(|_| Instant::now() >= at, slice).await;
                        if poll_every_round && Instant::now() >= next_round {
                            next_round += ROUND;
                            durable_check(&base, &l.token, &id, dev.client.doc(&id).unwrap()).await;
                        }
                    }
                    if dropped {
                        break;
                    }
                }
                let note = Note {
                    id: format!("bench-{i:04}-{n:05}"),
                    activity_date: q.first_day(),
                    title: format!("Ghi chép {n} của thiết bị {i}"),
                    content: "Họp dân, tuyên truyền Chỉ thị 18-CT/TU; 45 người tham dự, 12 nữ, 30 đồng bào dân tộc thiểu số.".into(),
                    task_ids: vec!["t-ii-4".into()],
                    author: l.peer_id.clone(),
                    created_at: 1_795_700_000_000,
                    ..Note::default()
                };
                let t0 = Instant::now();
                dev.change(&id, |d| schema::put_note(d, &note).unwrap()).await;
                // A local change depends on every head: the document's one head is the note.
                let note_hash = dev.client.doc(&id).unwrap().get_heads()[0];
                let mut warned = false;
                let mut last_nudge = Instant::now();
                // As the app does (`shared::driver::Nudge`): the first nudge after 10 s, then
                // less and less often.
                let mut nudge_after = Duration::from_millis(Nudge::FIRST_MS as u64);
                let mut pushed_heads: Option<Vec<automerge::ChangeHash>> = None;
                let mut doc_heads = Vec::new();
                let mut acked_heads: Option<Vec<automerge::ChangeHash>> = None;
                // When the server's sync message first named heads covering the note.
                let mut ack_at = None;
                loop {
                    // Check after every frame, as the app does. (Waiting for 2 ms of quiet
                    // first cost a trip round the run queue per check on a saturated client.)
                    if dev.pump_one(Duration::from_millis(50)).await == Some(false) {
                        dropped = true;
                        break;
                    }
                    // Why only when the server's heads moved: the check walks the change graph,
                    // and 2,000 replicas on the client's one core cannot afford it per frame.
                    if ack_at.is_none()
                        && let Some(h) = dev.client.server_heads(&id)
                        && acked_heads.as_deref() != Some(h)
                    {
                        acked_heads = Some(h.to_vec());
                        if descends(dev.client.doc(&id).unwrap(), h, note_hash) {
                            ack_at = Some(t0.elapsed());
                            if confirm == Confirm::Ack {
                                break;
                            }
                        }
                    }
                    // What the app does too: unconfirmed for a while → renegotiate this document.
                    if last_nudge.elapsed() > nudge_after {
                        last_nudge = Instant::now();
                        nudge_after =
                            (nudge_after * 2).min(Duration::from_millis(Nudge::MAX_MS as u64));
                        resyncs += 1;
                        let ev = dev.client.resync(&id);
                        dev.handle(ev).await;
                    }
                    if !warned && t0.elapsed() > Duration::from_secs(20) {
                        warned = true;
                        let doc = dev.client.doc(&id).unwrap();
                        let durable = dev.pushed.get(&id).cloned().unwrap_or_default();
                        eprintln!(
                            "device {i} note {n}: not durable after 20 s (connected: {}); device heads {:?}; pushed durable {:?}; unsynced {}",
                            dev.client.is_connected(),
                            doc.get_heads(),
                            durable,
                            shared::unsynced::unsynced_changes(doc, &durable)
                        );
                    }
                    // Re-check when the pushed durable heads move *or* when we received changes
                    // (pushed heads unknown to us cannot prove coverage until they arrive).
                    if confirm == Confirm::Durable && !poll_every_round {
                        let doc = dev.client.doc(&id).unwrap();
                        let pushed = dev.pushed.get(&id);
                        if (pushed != pushed_heads.as_ref() || doc.get_heads() != doc_heads)
                            && let Some(p) = pushed
                        {
                            pushed_heads = Some(p.clone());
                            doc_heads = doc.get_heads();
                            if descends(doc, p, note_hash) {
                                break;
                            }
                        }
                    }
                    if dev.pushes_received != pushes_seen {
                        pushes_seen = dev.pushes_received;
                        last_push = Instant::now();
                    }
                    if confirm == Confirm::Durable && Instant::now() >= next_round {
                        while next_round <= Instant::now() {
                            next_round += ROUND;
                        }
                        if (poll_every_round || last_push.elapsed() > Duration::from_secs(3)) && durable_check(&base, &l.token, &id, dev.client.doc(&id).unwrap()).await == Some(true) {
                            by_http += 1;
                            break;
                        }
                    }
                }
                if dropped {
                    break;
                }
                latencies.push(t0.elapsed());
                written_at.push((t0 - started, ack_at.unwrap_or_default()));
            }
            let trace: Vec<(usize, usize, (Duration, Duration), Duration)> = written_at
                .iter()
                .zip(&latencies)
                .enumerate()
                .map(|(n, (at, l))| (i, n, *at, *l))
                .collect();
            (latencies, (dev.bytes_sent + dev.bytes_received, dev.frames_received, dev.pushes_received), resyncs, dropped, by_http, trace)
        }));
    }
    // How late this client's own tasks run (a timer asking for 10 ms, minus 10 ms): a saturated
    // load generator adds its queue to every latency it reports.
    let lag_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lag = tokio::spawn({
        let stop = lag_stop.clone();
        async move {
            let mut lags = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                tokio::time::sleep(Duration::from_millis(10)).await;
                lags.push(t.elapsed().saturating_sub(Duration::from_millis(10)));
            }
            lags
        }
    });
    let backup = args.backup_after.map(|after| {
        let (bin, dir) = (args.server_bin.clone(), dir.path().to_path_buf());
        tokio::spawn(async move { backup_and_restore(&bin, &dir, after).await })
    });
    let mut latencies = Vec::new();
    let mut bytes = 0usize;
    // Frames the devices received, and how many of them were durable-heads pushes.
    let (mut frames, mut pushes) = (0usize, 0usize);
    let mut resyncs = 0usize;
    let mut drops = 0usize;
    let mut confirmed_by_http = 0usize;
    let mut trace = String::from("device,note,written_ms,latency_ms,ack_ms\n");
    for t in tasks {
        let (l, (b, f, p), r, d, h, notes) = t.await?;
        frames += f;
        pushes += p;
        for (i, n, (at, ack), l) in notes {
            trace += &format!(
                "{i},{n},{:.1},{:.1},{:.1}\n",
                at.as_secs_f64() * 1e3,
                l.as_secs_f64() * 1e3,
                ack.as_secs_f64() * 1e3
            );
        }
        confirmed_by_http += h;
        latencies.extend(l);
        bytes += b;
        resyncs += r;
        drops += usize::from(d);
    }
    if let Some(path) = &args.trace {
        std::fs::write(path, trace)?;
    }
    // With `--rate`, from the first note's turn (connecting is before it).
    let connect_seconds = clock.get().map(|c| (*c - started).as_secs_f64());
    let elapsed = clock.get().copied().unwrap_or(started).elapsed();
    lag_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lags = lag.await?;
    lags.sort();
    let lag_pct = |p: f64| {
        lags.get(((lags.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(0.0, |l| l.as_secs_f64() * 1000.0)
    };
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    let total = latencies.len();
    let rss: Option<u64> = pids.iter().map(|p| peak_rss_kib(*p)).sum();
    let cpu = cpu_total(&pids)
        .zip(cpu_at_start)
        .map(|(end, start)| end - start);
    for mut child in children {
        let _ = child.kill().await;
    }
    let backup = match backup {
        Some(b) => Some(b.await??),
        None => None,
    };
    println!(
        "{}",
        serde_json::json!({
            "backup": backup,
            "server": if js { "automerge-repo (Node)" } else { "danvan" },
            "confirm": if args.confirm == Confirm::Ack { "ack" } else { "durable" },
            "devices": args.devices,
            "nodes": args.nodes.max(1),
            "notes_per_device": if rate.is_some() { None } else { Some(args.notes) },
            "rate_notes_per_second": rate,
            "connect_seconds": connect_seconds,
            "drops": drops,
            "devices_per_doc": args.devices_per_doc,
            "notes_total": total,
            "seconds": elapsed.as_secs_f64(),
            "notes_per_second": total as f64 / elapsed.as_secs_f64(),
            "latency_ms_p50": pct(0.5),
            "latency_ms_p99": pct(0.99),
            "latency_ms_max": pct(1.0),
            "wire_bytes_per_note": bytes as f64 / total as f64,
            "frames_received_per_note": frames as f64 / total as f64,
            "pushes_received_per_note": pushes as f64 / total as f64,
            "server_peak_rss_mib": rss.map(|k| k as f64 / 1024.0),
            "server_cpu_ms_per_note": cpu.map(|c| c * 1000.0 / total as f64),
            "stall_resyncs": resyncs,
            "confirmed_by_http": confirmed_by_http,
            "client_lag_ms_p50": lag_pct(0.5),
            "client_lag_ms_p99": lag_pct(0.99),
        })
    );
    Ok(())
}

/// True if `note` is one of `heads` or an ancestor of one of those the device knows.
fn descends(
    doc: &automerge::Automerge,
    heads: &[automerge::ChangeHash],
    note: automerge::ChangeHash,
) -> bool {
    let known: Vec<automerge::ChangeHash> = heads
        .iter()
        .copied()
        .filter(|h| shared::unsynced::has_change(doc, h))
        .collect();
    !known.is_empty() && !doc.get_changes_meta(&known).iter().any(|c| c.hash == note)
}
