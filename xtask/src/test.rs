//! `cargo xtask test`: the whole suite from a fresh machine — toolchain and packages, Rust
//! tests, the PWA build, and the Node-driven browser tests against a real server.

use crate::dist::dist;
use crate::process::{Workspace, exe};
use crate::setup::{CHROMIUM, ensure_npm_packages, ensure_system_packages, ensure_wasm_target};
use anyhow::{Context, Result, bail};
use std::fs;

pub struct Options {
    pub no_browser: bool,
    pub rust_only: bool,
}

pub fn test(ws: &Workspace, opts: &Options) -> Result<()> {
    let mut stages = Stages::default();

    if opts.rust_only {
        stages.run("cargo test", || cargo_test(ws))?;
        stages.run("cargo test on PostgreSQL", || cargo_test_postgres(ws))?;
        stages.print_summary();
        return Ok(());
    }

    stages.run("wasm32 target", || ensure_wasm_target(ws))?;
    // Chromium only matters to the browser stage (the report tools to cargo test); binaryen is
    // still attempted for dist.
    stages.run("system packages", || {
        ensure_system_packages(ws, !opts.no_browser)
    })?;
    if opts.no_browser {
        stages.skip("npm packages", "--no-browser");
    } else {
        stages.run("npm packages", || ensure_npm_packages(ws))?;
    }
    stages.run("cargo test", || cargo_test(ws))?;
    stages.run("cargo test on PostgreSQL", || cargo_test_postgres(ws))?;
    stages.run("dist", || dist(ws).map(drop))?;
    stages.run("server build", || {
        ws.run(ws.cargo().args([
            "build",
            "-p",
            "server",
            "--bin",
            "danvan-server",
            "--example",
            "seed_notes",
        ]))
    })?;
    if opts.no_browser {
        stages.skip("browser tests", "--no-browser");
    } else {
        stages.run("browser tests", || browser_tests(ws))?;
    }
    stages.print_summary();
    Ok(())
}

fn cargo_test(ws: &Workspace) -> Result<()> {
    // The app crate only builds for wasm32, so it is left out of the host-side test run.
    ws.run(ws.cargo().args(["test", "--workspace", "--exclude", "app"]))
}

/// The server tests that are about SQLite itself, its file or their own storage set-up, and so
/// are left out of the PostgreSQL pass.
const SQLITE_ONLY: &[&str] = &[
    // Its own backends, both of them, side by side.
    "doc_store::",
    // The database file: backup and restore, a damaged file, a full disk, injected read faults.
    "faults::",
    "disk_full::",
    "storage_faults::",
    // Rows written into the SQLite file by hand.
    "blobs::photos_inside_an_older_database_are_served_and_migrated_while_the_server_runs",
    "admin::tokens_renew_with_use_and_after_months_offline_but_not_when_revoked",
];

/// The whole-server tests again, each server's database and documents in PostgreSQL (a
/// throwaway cluster the tests start, `server/tests/it/common/pg.rs`).
fn cargo_test_postgres(ws: &Workspace) -> Result<()> {
    let mut cmd = ws.cargo();
    cmd.args(["test", "-p", "server", "--test", "it", "--"])
        .env("DANVAN_TEST_POSTGRES", "1");
    for t in SQLITE_ONLY {
        cmd.args(["--skip", t]);
    }
    ws.run(&mut cmd)
}

fn browser_tests(ws: &Workspace) -> Result<()> {
    let tests_dir = ws.root.join("tests");
    let mut files: Vec<String> = fs::read_dir(&tests_dir)
        .with_context(|| format!("listing {}", tests_dir.display()))?
        .filter_map(|item| item.ok())
        .filter(|item| item.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|item| item.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect();
    files.sort();
    // Finding nothing is an error rather than a pass, so a moved or renamed suite cannot
    // silently turn this stage green.
    if files.is_empty() {
        bail!("no tests/*.test.mjs files found");
    }

    let server_bin = ws.target.join("debug").join(exe("danvan-server"));
    // A busy quarter's notes for the volume test (tests/volume.test.mjs).
    let seed_bin = ws
        .target
        .join("debug")
        .join("examples")
        .join(exe("seed_notes"));
    let dist_dir = ws.target.join("dist");
    let node_test = || {
        let mut cmd = ws.command("node");
        cmd.current_dir(&tests_dir)
            .env("DANVAN_SERVER_BIN", &server_bin)
            .env("DANVAN_SEED_BIN", &seed_bin)
            .env("DANVAN_DIST", &dist_dir)
            .env("CHROMIUM", CHROMIUM)
            .arg("--test");
        cmd
    };

    if node_supports_test_concurrency(ws) {
        // One file at a time: each suite starts its own server and browser, which two cores
        // cannot run side by side without timeouts.
        ws.run(node_test().arg("--test-concurrency=1").args(&files))
    } else {
        // Older Node rejects --test-concurrency; one invocation per file is equally serial.
        eprintln!("warning: this Node lacks --test-concurrency; running the test files one by one");
        for file in &files {
            ws.run(node_test().arg(file))?;
        }
        Ok(())
    }
}

/// `--test-concurrency` arrived in Node 21 and was backported to 20.10.
fn node_supports_test_concurrency(ws: &Workspace) -> bool {
    let Ok(version) = ws.output(ws.command("node").arg("--version")) else {
        // Let the real invocation report the problem (e.g. node not installed).
        return true;
    };
    let mut numbers = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) => major > 20 || (major == 20 && minor >= 10),
        _ => true,
    }
}

enum Outcome {
    Passed,
    Failed,
    Skipped(&'static str),
}

/// Runs named stages in order, stopping at the first failure, and remembers the outcomes for
/// the summary (printed on success and on failure alike).
#[derive(Default)]
struct Stages {
    done: Vec<(&'static str, Outcome)>,
}

impl Stages {
    fn run(&mut self, name: &'static str, stage: impl FnOnce() -> Result<()>) -> Result<()> {
        println!("\n==> {name}");
        match stage() {
            Ok(()) => {
                self.done.push((name, Outcome::Passed));
                Ok(())
            }
            Err(err) => {
                self.done.push((name, Outcome::Failed));
                self.print_summary();
                Err(err.context(format!("stage `{name}` failed")))
            }
        }
    }

    fn skip(&mut self, name: &'static str, why: &'static str) {
        self.done.push((name, Outcome::Skipped(why)));
    }

    fn print_summary(&self) {
        println!("\nsummary:");
        for (name, outcome) in &self.done {
            match outcome {
                Outcome::Passed => println!("  ok    {name}"),
                Outcome::Failed => println!("  FAIL  {name}"),
                Outcome::Skipped(why) => println!("  skip  {name} ({why})"),
            }
        }
    }
}
