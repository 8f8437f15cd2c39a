//! Installs what the build and tests need on a fresh Debian machine: the wasm32 rustup target,
//! Chromium, LibreOffice, poppler, fonts, nginx, openssl, PostgreSQL and binaryen from apt, and
//! the npm packages of `tests/`.

use crate::process::{Workspace, is_root, which};
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Where Debian's `chromium` package puts the browser; the browser tests are pointed at it.
pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn ensure_wasm_target(ws: &Workspace) -> Result<()> {
    if which("rustup").is_none() {
        // A toolchain not managed by rustup may still ship the target; let cargo be the judge.
        eprintln!("warning: rustup not found; assuming the {WASM_TARGET} target is installed");
        return Ok(());
    }
    let installed = ws.output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    ws.run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// What the tests need from apt, as (a file the package installs, the package): the report tests
/// open the .docx with LibreOffice, read the PDF's text with poppler, and lay it out in Liberation
/// Serif (metric-compatible with Times New Roman, which the reports name); the proxy test runs the
/// documented nginx configuration (with the brotli static module) over TLS with a certificate
/// made by openssl; the document store's tests start their own PostgreSQL.
const TEST_TOOLS: &[(&str, &str)] = &[
    ("/usr/bin/soffice", "libreoffice-writer-nogui"),
    ("/usr/bin/pdftotext", "poppler-utils"),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
        "fonts-liberation",
    ),
    ("/usr/sbin/nginx", "nginx"),
    (
        "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so",
        "libnginx-mod-http-brotli-static",
    ),
    ("/usr/bin/openssl", "openssl"),
    // The document store's suite runs on a throwaway PostgreSQL cluster too.
    ("/usr/lib/postgresql", "postgresql"),
];

/// Ensures the report tools, Chromium (only if `need_chromium`) and, best effort, binaryen's
/// `wasm-opt`.
///
/// binaryen is optional because `dist` works without wasm-opt, just with a bigger wasm; so any
/// failure around it is a warning, while a missing required package is an error.
pub fn ensure_system_packages(ws: &Workspace, need_chromium: bool) -> Result<()> {
    let chromium = [(CHROMIUM, "chromium")];
    let wanted = TEST_TOOLS
        .iter()
        .chain(chromium.iter().filter(|_| need_chromium));
    let missing: Vec<(&str, &str)> = wanted
        .filter(|(path, _)| !Path::new(path).exists())
        .copied()
        .collect();
    let want_binaryen = which("wasm-opt").is_none();
    if missing.is_empty() && !want_binaryen {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|(_, p)| *p).collect();
    let apt = match Apt::detect() {
        Ok(apt) => apt,
        Err(err) if missing.is_empty() => {
            eprintln!(
                "warning: wasm-opt is missing and cannot be installed ({err:#}); continuing without it"
            );
            return Ok(());
        }
        Err(err) => return Err(err.context(format!("missing: {}", packages.join(", ")))),
    };
    if let Err(err) = ws.run(&mut apt.command(&["update"])) {
        if !missing.is_empty() {
            return Err(err);
        }
        eprintln!("warning: {err:#}; continuing without wasm-opt");
        return Ok(());
    }
    if missing.is_empty() {
        if let Err(err) = ws.run(&mut apt.install(&["binaryen"])) {
            eprintln!("warning: {err:#}");
        }
    } else {
        // One apt call for all, as a fresh machine needs all; if binaryen is the reason it failed
        // (e.g. not packaged for this release), retry without it.
        let mut all = packages.clone();
        if want_binaryen {
            all.push("binaryen");
        }
        ws.run(&mut apt.install(&all)).or_else(|err| {
            if !want_binaryen {
                return Err(err);
            }
            eprintln!("warning: {err:#}; retrying without binaryen");
            ws.run(&mut apt.install(&packages))
        })?;
        for (path, package) in &missing {
            if !Path::new(path).exists() {
                bail!("installed {package} but {path} still does not exist");
            }
        }
    }
    if want_binaryen && which("wasm-opt").is_none() {
        eprintln!("warning: wasm-opt is still not on PATH; dist will ship the un-optimised wasm");
    }
    Ok(())
}

/// How to invoke apt-get here: directly as root, through sudo otherwise.
struct Apt {
    sudo: bool,
}

impl Apt {
    fn detect() -> Result<Self> {
        if which("apt-get").is_none() {
            bail!("apt-get is not available; install the packages by hand");
        }
        if is_root() {
            Ok(Self { sudo: false })
        } else if which("sudo").is_some() {
            Ok(Self { sudo: true })
        } else {
            bail!("not running as root and sudo is not installed, so apt-get cannot be used");
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        // sudo resets the environment by default, so the variable goes through `env` instead of
        // Command::env; without it apt may stop at an interactive debconf prompt.
        let mut cmd = if self.sudo {
            let mut cmd = Command::new("sudo");
            cmd.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            cmd
        } else {
            let mut cmd = Command::new("apt-get");
            cmd.env("DEBIAN_FRONTEND", "noninteractive");
            cmd
        };
        cmd.args(args);
        cmd
    }

    fn install(&self, packages: &[&str]) -> Command {
        let mut cmd = self.command(&["install", "-y", "--no-install-recommends"]);
        cmd.args(packages);
        cmd
    }
}

/// Runs `npm install` in `tests/` when node_modules is absent or older than the lockfile.
pub fn ensure_npm_packages(ws: &Workspace) -> Result<()> {
    let tests = ws.root.join("tests");
    if !tests.join("package.json").exists() {
        println!("tests/package.json does not exist; no npm packages to install");
        return Ok(());
    }
    let lockfile = tests.join("package-lock.json");
    let node_modules = tests.join("node_modules");
    // npm writes this hidden lockfile after every successful install, so its mtime says when
    // node_modules was last brought in line with the real lockfile.
    let installed_marker = node_modules.join(".package-lock.json");
    let has_lockfile = lockfile.exists();

    let stale = if !node_modules.is_dir() {
        true
    } else if has_lockfile {
        match (mtime(&lockfile)?, mtime(&installed_marker)?) {
            (Some(lock), Some(installed)) => lock > installed,
            _ => true,
        }
    } else {
        false
    };
    if !stale {
        return Ok(());
    }

    let mut cmd = ws.command("npm");
    // `npm install`, not `npm ci`: npm 11 refuses `ci` for this lockfile because cbor-extract's
    // optional per-platform packages (left out when its install script is not approved) are
    // "missing". `install` still takes the locked versions and leaves the lockfile unchanged.
    cmd.current_dir(&tests)
        .arg("install")
        .args(["--no-audit", "--no-fund"])
        // The tests drive the apt Chromium; stop browser-automation packages from fetching
        // their own copy during postinstall.
        .env("PUPPETEER_SKIP_DOWNLOAD", "1")
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    ws.run(&mut cmd)
}

fn mtime(path: &Path) -> Result<Option<SystemTime>> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(meta.modified().with_context(|| {
            format!("reading the modification time of {}", path.display())
        })?)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}
