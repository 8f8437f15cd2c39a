//! `cargo xtask`: the project's build, run, test and benchmark tasks, in Rust so they work the
//! same on every machine without make or shell scripts.

mod dist;
mod process;
mod screenshots;
mod setup;
mod test;

use anyhow::Result;
use clap::{Parser, Subcommand};
use process::{Workspace, exe, which};
use std::path::PathBuf;
use std::process::{ExitCode, ExitStatus};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, run, test and benchmark danvan"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the PWA into target/dist (hashed entry points, service worker, .br/.gz siblings).
    Dist,
    /// Build the PWA and the release server, then run it in demo mode on 127.0.0.1:8080.
    Run {
        /// Extra arguments for danvan-server; any of --listen/--data-dir/--dist/--demo given
        /// here replaces the default.
        #[arg(last = true)]
        extra: Vec<String>,
    },
    /// Run everything: cargo tests, the PWA build and the browser tests (installs what is missing).
    Test {
        /// Skip Chromium, npm and the browser tests.
        #[arg(long)]
        no_browser: bool,
        /// Only run `cargo test` (implies --no-browser).
        #[arg(long)]
        rust_only: bool,
    },
    /// Build the release server and the bench example, then run the benchmark.
    Bench {
        /// Number of simulated devices.
        #[arg(long, default_value_t = 50)]
        devices: u32,
        /// Notes written per device.
        #[arg(long, default_value_t = 100)]
        notes: u32,
        /// Devices writing the same notes document.
        #[arg(long, default_value_t = 1)]
        devices_per_doc: u32,
        /// Run the same workload against the official automerge-repo sync server (Node) too,
        /// alternating runs, latency to each server's acknowledgement, and print the ratios.
        #[arg(long)]
        compare_js: bool,
        /// Rounds of the comparison (each: this server, then the JS one).
        #[arg(long, default_value_t = 2)]
        rounds: u32,
        /// The memory soak instead: touch this many documents once, go quiet, and report the
        /// server's RSS idle, at peak and after its documents are unloaded.
        #[arg(long)]
        soak_docs: Option<u32>,
    },
    /// Build the office benchmark (release) and run it: generated read-model data, the office's
    /// queries timed (docs/benchmarks.md). With `--browser`, the office's first screen in headless
    /// Chromium at 4× CPU throttling against a server holding that data instead.
    BenchOffice {
        #[arg(long)]
        browser: bool,
        /// Arguments for the benchmark (`--communes 150 --notes 2000 --tasks 40 --runs 30`; with
        /// `--browser`: `--runs 5 --rate 4 --communes 150 --notes 2000`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Score the plan importer on the corpus of real plans (server/fixtures/plans): precision and
    /// recall per field, and per plan.
    ImportScore {
        /// Arguments for the scorer (`--verbose`, `--dir DIR`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the PWA and the server, then take the app's screenshots (docs/screenshots/*.png) in
    /// headless Chromium against a fresh demo server.
    Screenshots {
        /// Write the PNGs here instead of docs/screenshots.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Build the PWA and the server, then benchmark the field app in headless Chromium with a
    /// throttled CPU: offline start, note saves, first-load size (docs/benchmarks.md).
    BenchField {
        /// Offline starts measured (cold and reload, each).
        #[arg(long, default_value_t = 10)]
        runs: u32,
        /// Notes saved offline and timed (with the throttle, then without).
        #[arg(long, default_value_t = 50)]
        notes: u32,
        /// Notes written first, online, so the phone has data.
        #[arg(long, default_value_t = 30)]
        seed_notes: u32,
        /// CPU slowdown (CDP Emulation.setCPUThrottlingRate).
        #[arg(long, default_value_t = 4.0)]
        rate: f64,
        /// Notes generated on the server for the member's commune this quarter before the phone
        /// first logs in (a busy commune: `--server-notes 2000`); its first sync is timed.
        #[arg(long, default_value_t = 0)]
        server_notes: u32,
        /// Also write every figure as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let ws = Workspace::locate()?;
    match cli.task {
        Task::Dist => dist::dist(&ws).map(|_| ExitCode::SUCCESS),
        Task::Run { extra } => run(&ws, &extra),
        Task::Test {
            no_browser,
            rust_only,
        } => test::test(
            &ws,
            &test::Options {
                no_browser,
                rust_only,
            },
        )
        .map(|()| ExitCode::SUCCESS),
        Task::Bench {
            devices,
            notes,
            devices_per_doc,
            compare_js,
            rounds,
            soak_docs,
        } => {
            let load = Load {
                devices,
                notes,
                devices_per_doc,
            };
            if let Some(docs) = soak_docs {
                ws.run(&mut bench_command(
                    &ws,
                    &load,
                    &["--soak-docs", &docs.to_string()],
                )?)
            } else if compare_js {
                bench_compare_js(&ws, &load, rounds)
            } else {
                bench(&ws, &load)
            }
            .map(|()| ExitCode::SUCCESS)
        }
        Task::BenchOffice { browser, args } => {
            bench_office(&ws, browser, &args).map(|()| ExitCode::SUCCESS)
        }
        Task::ImportScore { args } => ws
            .run(
                ws.cargo()
                    .args([
                        "run",
                        "-q",
                        "-p",
                        "server",
                        "--example",
                        "import_score",
                        "--",
                    ])
                    .args(&args),
            )
            .map(|()| ExitCode::SUCCESS),
        Task::Screenshots { out } => {
            screenshots::screenshots(&ws, &screenshots::ScreenshotOptions { out })
                .map(|()| ExitCode::SUCCESS)
        }
        Task::BenchField {
            runs,
            notes,
            seed_notes,
            rate,
            server_notes,
            json,
        } => screenshots::bench_field(
            &ws,
            &screenshots::BenchOptions {
                runs,
                notes,
                seed_notes,
                rate,
                server_notes,
                json,
            },
        )
        .map(|()| ExitCode::SUCCESS),
    }
}

fn run(ws: &Workspace, extra: &[String]) -> Result<ExitCode> {
    let dist = dist::dist(ws)?;
    ws.build_server_release(&["--bin", "danvan-server"])?;

    let dist = ws.rel(&dist).to_string_lossy().into_owned();
    // The server's clap rejects a flag given twice, so a default is only added when the user
    // did not pass that flag themselves.
    let given = |flag: &str| {
        extra
            .iter()
            .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")))
    };
    let mut args: Vec<String> = Vec::new();
    if !given("--demo") {
        args.push("--demo".into());
    }
    for (flag, value) in [
        ("--data-dir", "./data"),
        ("--listen", "127.0.0.1:8080"),
        ("--dist", dist.as_str()),
    ] {
        if !given(flag) {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
    }
    args.extend(extra.iter().cloned());

    let server = ws.target.join("release").join(exe("danvan-server"));
    let status = ws.status(ws.command(&server).args(&args))?;
    Ok(exit_code(status))
}

/// The sync benchmark's workload.
struct Load {
    devices: u32,
    notes: u32,
    devices_per_doc: u32,
}

/// The sync benchmark's command: release builds, the bench client and the server pinned to
/// different cores where there are two, `extra` arguments last (which server, what confirms).
fn bench_command(ws: &Workspace, load: &Load, extra: &[&str]) -> Result<std::process::Command> {
    let release = ws.build_server_release(&["--bin", "danvan-server", "--example", "bench"])?;
    let bench = release.join("examples").join(exe("bench"));
    // Client and server on different cores where we can, so neither measures the other's load.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = cores >= 2 && which("taskset").is_some();
    let mut cmd = if pin {
        let mut c = ws.command("taskset");
        c.args(["-c", "1"]).arg(&bench).args(["--server-cpus", "0"]);
        c
    } else {
        eprintln!("note: client and server share the cores (no taskset, or one core)");
        ws.command(&bench)
    };
    cmd.arg("--server-bin")
        .arg(release.join(exe("danvan-server")))
        .args(["--devices", &load.devices.to_string()])
        .args(["--notes", &load.notes.to_string()])
        .args(["--devices-per-doc", &load.devices_per_doc.to_string()])
        .args(extra);
    Ok(cmd)
}

fn bench(ws: &Workspace, load: &Load) -> Result<()> {
    ws.run(&mut bench_command(ws, load, &[])?)
}

/// `bench --compare-js`: the same workload against this server and the official automerge-repo
/// sync server (tests/js-sync-server.mjs, the npm versions the interop tests pin), alternating,
/// each run's figures, then the medians' ratios (ours / theirs: below 1 is better for us).
fn bench_compare_js(ws: &Workspace, load: &Load, rounds: u32) -> Result<()> {
    setup::ensure_npm_packages(ws)?;
    let script = ws.root.join("tests").join("js-sync-server.mjs");
    let script = script.to_string_lossy();
    let mut runs: [Vec<serde_json::Value>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds.max(1) {
        for (side, extra) in [
            (0, vec!["--confirm", "ack"]),
            (1, vec!["--confirm", "ack", "--js-server", script.as_ref()]),
        ] {
            println!(
                "\n==> round {}: {}",
                round + 1,
                ["danvan", "automerge-repo (Node)"][side]
            );
            let out = ws.output(&mut bench_command(ws, load, &extra)?)?;
            let line = out
                .lines()
                .rfind(|l| l.starts_with('{'))
                .unwrap_or_default();
            let figures: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| anyhow::anyhow!("the bench printed no figures ({e}): {out}"))?;
            println!("{figures}");
            runs[side].push(figures);
        }
    }
    println!(
        "\n==> medians over {} rounds; ratio = danvan / Node",
        rounds.max(1)
    );
    println!("{:<26} {:>12} {:>12} {:>8}", "", "danvan", "Node", "ratio");
    for key in [
        "server_cpu_ms_per_note",
        "server_peak_rss_mib",
        "notes_per_second",
        "latency_ms_p50",
        "latency_ms_p99",
        "wire_bytes_per_note",
    ] {
        let median = |side: usize| {
            let mut v: Vec<f64> = runs[side].iter().filter_map(|r| r[key].as_f64()).collect();
            v.sort_by(f64::total_cmp);
            let n = v.len();
            (n > 0).then(|| (v[(n - 1) / 2] + v[n / 2]) / 2.0)
        };
        if let (Some(a), Some(b)) = (median(0), median(1)) {
            println!("{key:<26} {a:>12.2} {b:>12.2} {:>8.2}", a / b);
        }
    }
    Ok(())
}

fn bench_office(ws: &Workspace, browser: bool, args: &[String]) -> Result<()> {
    let exe_path = ws
        .build_server_release(&["--example", "bench_office"])?
        .join("examples")
        .join(exe("bench_office"));
    if browser {
        screenshots::bench_office_browser(ws, &exe_path, args)
    } else {
        ws.run(ws.command(exe_path).args(args))
    }
}

/// The server's exit status as our own, so scripts wrapping `cargo xtask run` see it.
fn exit_code(status: ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1));
    }
    // Killed by a signal: report it the way shells do (128 + signal number).
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + (signal & 0x7f)).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}
