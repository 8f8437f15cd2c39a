//! `cargo xtask screenshots` and `cargo xtask bench-field`: the Node scripts that drive the real app
//! in headless Chromium outside the test suite — the PNGs of docs/screenshots/ and the field-app
//! benchmark (docs/benchmarks.md). Both build what `cargo xtask test` builds (the PWA into
//! target/dist, the debug server) and install what it installs (Chromium, npm packages); each script
//! starts its own server on a fresh temporary data dir with `--demo`.

use crate::dist::dist;
use crate::process::{Workspace, exe, is_root, which};
use crate::setup::{CHROMIUM, ensure_npm_packages, ensure_system_packages, ensure_wasm_target};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's `chromium-l10n` puts the Vietnamese resources. Without them Chromium's own
/// widgets (the date field) stay in US English (11/27/2026) even with the page in Vietnamese.
const VI_LOCALE_PAK: &str = "/usr/lib/chromium/locales/vi.pak";

pub struct ScreenshotOptions {
    /// Where the PNGs go; docs/screenshots when not given.
    pub out: Option<PathBuf>,
}

pub struct BenchOptions {
    pub runs: u32,
    pub notes: u32,
    pub seed_notes: u32,
    pub rate: f64,
    pub server_notes: u32,
    pub json: Option<PathBuf>,
}

pub fn screenshots(ws: &Workspace, opts: &ScreenshotOptions) -> Result<()> {
    let built = prepare(ws)?;
    ensure_vietnamese_chromium(ws);
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| ws.root.join("docs").join("screenshots"));
    // The script runs in tests/: make a relative --out relative to where the user typed it.
    let out = std::env::current_dir()?.join(out);
    let mut cmd = node_script(ws, &built, "screenshots.mjs");
    cmd.arg("--out").arg(&out);
    ws.run(&mut cmd)?;
    println!(
        "\nscreenshots in {}; public/manifest.webmanifest names public/screenshots/{{tasks,note-form}}.png",
        ws.rel(&out).display()
    );
    Ok(())
}

pub fn bench_field(ws: &Workspace, opts: &BenchOptions) -> Result<()> {
    let built = prepare(ws)?;
    let mut cmd = node_script(ws, &built, "bench-field.mjs");
    cmd.args(["--runs", &opts.runs.to_string()])
        .args(["--notes", &opts.notes.to_string()])
        .args(["--seed-notes", &opts.seed_notes.to_string()])
        .args(["--rate", &opts.rate.to_string()]);
    if opts.server_notes > 0 {
        let seed = ws
            .build_server_release(&["--example", "seed_notes"])?
            .join("examples")
            .join(exe("seed_notes"));
        cmd.args(["--server-notes", &opts.server_notes.to_string()])
            .arg("--seed-bin")
            .arg(seed);
    }
    if let Some(json) = &opts.json {
        cmd.arg("--json").arg(std::env::current_dir()?.join(json));
    }
    ws.run(&mut cmd)
}

/// `cargo xtask bench-office --browser`: the office's first screen against generated data
/// (tests/bench-office.mjs; `bench_office` is the release example that generates the rows).
pub fn bench_office_browser(ws: &Workspace, bench_bin: &Path, args: &[String]) -> Result<()> {
    let mut built = prepare(ws)?;
    // The server as it is deployed: a debug build's SQLite is several times slower.
    built.server_bin = ws
        .build_server_release(&["--bin", "danvan-server"])?
        .join(exe("danvan-server"));
    let mut cmd = node_script(ws, &built, "bench-office.mjs");
    cmd.arg("--bench-bin").arg(bench_bin).args(args);
    ws.run(&mut cmd)
}

struct Built {
    server_bin: PathBuf,
    dist_dir: PathBuf,
}

/// The same stages as `cargo xtask test` up to its browser tests (without `cargo test`).
fn prepare(ws: &Workspace) -> Result<Built> {
    println!("\n==> wasm32 target");
    ensure_wasm_target(ws)?;
    println!("\n==> system packages");
    ensure_system_packages(ws, true)?;
    println!("\n==> npm packages");
    ensure_npm_packages(ws)?;
    println!("\n==> dist");
    let dist_dir = dist(ws)?;
    println!("\n==> server build");
    ws.run(
        ws.cargo()
            .args(["build", "-p", "server", "--bin", "danvan-server"]),
    )?;
    Ok(Built {
        server_bin: ws.target.join("debug").join(exe("danvan-server")),
        dist_dir,
    })
}

fn node_script(ws: &Workspace, built: &Built, script: &str) -> Command {
    let mut cmd = ws.command("node");
    cmd.current_dir(ws.root.join("tests"))
        .env("DANVAN_SERVER_BIN", &built.server_bin)
        .env("DANVAN_DIST", &built.dist_dir)
        .env("CHROMIUM", CHROMIUM)
        .arg(script);
    cmd
}

/// Best effort: installs `chromium-l10n` (apt, as root or through sudo) so the screenshots' date
/// fields read 27/11/2026. Any failure is only a warning: the pictures are still taken.
fn ensure_vietnamese_chromium(ws: &Workspace) {
    if Path::new(VI_LOCALE_PAK).exists() {
        return;
    }
    let warn = |why: &str| {
        eprintln!(
            "warning: {VI_LOCALE_PAK} is missing ({why}); date fields in the screenshots will be in US format. \
             Install Debian's chromium-l10n to fix it."
        );
    };
    if which("apt-get").is_none() {
        return warn("no apt-get");
    }
    let mut cmd = if is_root() {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    } else if which("sudo").is_some() {
        let mut cmd = Command::new("sudo");
        cmd.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        cmd
    } else {
        return warn("not root and no sudo");
    };
    cmd.args(["install", "-y", "--no-install-recommends", "chromium-l10n"]);
    match ws.run(&mut cmd) {
        Ok(()) if Path::new(VI_LOCALE_PAK).exists() => {}
        Ok(()) => warn("chromium-l10n installed but the file is not there"),
        Err(err) => warn(&format!("{err:#}")),
    }
}
