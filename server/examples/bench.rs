//! Sync benchmark: N simulated devices each push M notes to a real server process and wait, note by
//! note, until the server's durable heads cover it. Prints one JSON object with the figures.
//!
//! `cargo xtask bench -- --devices 50 --notes 100` (release build of server and bench).

#[path = "../tests/common/mod.rs"]
mod common;

use clap::Parser;
use common::{Device, Login, covered, durable_heads, login};
use shared::schema::{self, Note};
use shared::{DocKey, Quarter};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    server_bin: std::path::PathBuf,
    #[arg(long, default_value_t = 50)]
    devices: usize,
    #[arg(long, default_value_t = 100)]
    notes: usize,
}

fn quarter() -> Quarter {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (y, m, _) = shared::ids::vn_civil_date(now);
    Quarter::of_month(y, m)
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let mut child = tokio::process::Command::new(&args.server_bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--dist",
            "/nonexistent",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().unwrap_or_default();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("server exited"))?;
        if let Some(a) = line.strip_prefix("danvan-server listening on http://") {
            break a.parse::<std::net::SocketAddr>()?;
        }
    };
    let base = format!("http://{addr}");

    // Devices spread over the demo communes' members (several devices per account, as in real life).
    let users = ["kadon", "kadon2", "lacxuan"];
    let mut logins: Vec<(Login, &str)> = Vec::new();
    for i in 0..args.devices {
        let user = users[i % users.len()];
        logins.push((
            login(&base, user).await,
            if user == "lacxuan" {
                "xa-lac-xuan"
            } else {
                "xa-ka-don"
            },
        ));
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (l, commune)) in logins.into_iter().enumerate() {
        let base = base.clone();
        let notes = args.notes;
        tasks.push(tokio::spawn(async move {
            let mut dev = Device::connect(addr, &l).await;
            let id = dev.track(&DocKey::notes(commune, quarter()), true).await;
            dev.pump(Duration::from_millis(100)).await;
            let mut latencies = Vec::with_capacity(notes);
            for n in 0..notes {
                let note = Note {
                    id: format!("bench-{i:04}-{n:05}"),
                    activity_date: format!("{}-{:02}-01", quarter().year, quarter().q * 3),
                    title: format!("Ghi chép {n} của thiết bị {i}"),
                    content: "Họp dân, tuyên truyền Chỉ thị 18-CT/TU; 45 người tham dự, 12 nữ, 30 đồng bào dân tộc thiểu số.".into(),
                    task_id: Some("t-ii-4".into()),
                    author: l.peer_id.clone(),
                    created_at: 1_795_700_000_000,
                };
                let t0 = Instant::now();
                dev.change(&id, |d| schema::put_note(d, &note).unwrap()).await;
                loop {
                    dev.pump(Duration::from_millis(5)).await;
                    if covered(dev.client.doc(&id).unwrap(), &durable_heads(&base, &l.token).await, &id) {
                        break;
                    }
                }
                latencies.push(t0.elapsed());
            }
            (latencies, dev.bytes_sent + dev.bytes_received)
        }));
    }
    let mut latencies = Vec::new();
    let mut bytes = 0usize;
    for t in tasks {
        let (l, b) = t.await?;
        latencies.extend(l);
        bytes += b;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    let total = args.devices * args.notes;
    let rss = peak_rss_kib(pid);
    let _ = child.kill().await;
    println!(
        "{}",
        serde_json::json!({
            "devices": args.devices,
            "notes_per_device": args.notes,
            "notes_total": total,
            "seconds": elapsed.as_secs_f64(),
            "notes_per_second": total as f64 / elapsed.as_secs_f64(),
            "durable_latency_ms_p50": pct(0.5),
            "durable_latency_ms_p99": pct(0.99),
            "wire_bytes_per_note": bytes as f64 / total as f64,
            "server_peak_rss_mib": rss.map(|k| k as f64 / 1024.0),
        })
    );
    Ok(())
}
