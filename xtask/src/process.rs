//! Where the workspace lives, and how external commands are run: echoed, with inherited stdio,
//! and with failures turned into errors that name the command.

use anyhow::{Context, Result, anyhow, bail};
use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// Paths every task needs, resolved once.
pub struct Workspace {
    /// The workspace root; every command runs here unless it says otherwise.
    pub root: PathBuf,
    /// Cargo's target directory (absolute).
    pub target: PathBuf,
    /// The cargo that launched us, so nested builds use the same toolchain as `cargo xtask`.
    cargo: OsString,
}

impl Workspace {
    pub fn locate() -> Result<Self> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir
            .parent()
            .context("xtask's manifest directory has no parent")?
            .to_path_buf();
        // Honour CARGO_TARGET_DIR because the nested cargo invocations inherit it and will put
        // their artefacts there; a relative value is relative to the root, where they run.
        let target = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => root.join(dir),
            _ => root.join("target"),
        };
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Ok(Self {
            root,
            target,
            cargo,
        })
    }

    /// A `cargo` command in the workspace root.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        cmd.current_dir(&self.root);
        cmd
    }

    /// `cargo build --release -p server` of the given targets (`--bin X`, `--example Y`); the
    /// path of the release folder they land in.
    pub fn build_server_release(&self, targets: &[&str]) -> Result<PathBuf> {
        self.run(
            self.cargo()
                .args(["build", "--release", "-p", "server"])
                .args(targets),
        )?;
        Ok(self.target.join("release"))
    }

    /// Any other program, run in the workspace root.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        cmd
    }

    /// A path as the user would type it from the root (shorter output, same meaning there).
    pub fn rel<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    /// Runs the command to completion with inherited stdio; a non-zero exit is an error.
    pub fn run(&self, cmd: &mut Command) -> Result<()> {
        let shown = self.display(cmd);
        let status = self.status_of(cmd, &shown)?;
        if !status.success() {
            bail!("`{shown}` failed ({status})");
        }
        Ok(())
    }

    /// Runs the command with inherited stdio and hands back its exit status, for callers that
    /// forward it rather than fail on it.
    pub fn status(&self, cmd: &mut Command) -> Result<ExitStatus> {
        let shown = self.display(cmd);
        self.status_of(cmd, &shown)
    }

    /// Runs the command capturing stdout (stderr still goes to the terminal); non-zero is an error.
    pub fn output(&self, cmd: &mut Command) -> Result<String> {
        let shown = self.display(cmd);
        println!("$ {shown}");
        let out = cmd
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| spawn_error(&shown, e))?;
        if !out.status.success() {
            bail!("`{shown}` failed ({})", out.status);
        }
        String::from_utf8(out.stdout).with_context(|| format!("`{shown}` printed non-UTF-8"))
    }

    fn status_of(&self, cmd: &mut Command, shown: &str) -> Result<ExitStatus> {
        println!("$ {shown}");
        cmd.status().map_err(|e| spawn_error(shown, e))
    }

    /// Shell-like rendering, including the env vars and directory we set, so a failing step can
    /// be pasted into a terminal and rerun by hand.
    fn display(&self, cmd: &Command) -> String {
        let mut parts = Vec::new();
        if let Some(dir) = cmd.get_current_dir()
            && dir != self.root
        {
            parts.push(format!("cd {} &&", quote(self.rel(dir).as_os_str())));
        }
        for (key, value) in cmd.get_envs() {
            if let Some(value) = value {
                parts.push(format!("{}={}", key.to_string_lossy(), quote(value)));
            }
        }
        parts.push(quote(cmd.get_program()));
        parts.extend(cmd.get_args().map(quote));
        parts.join(" ")
    }
}

fn spawn_error(shown: &str, err: io::Error) -> anyhow::Error {
    if err.kind() == io::ErrorKind::NotFound {
        anyhow!("could not start `{shown}`: program not found (is it installed and on PATH?)")
    } else {
        anyhow!("could not start `{shown}`: {err}")
    }
}

fn quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Looks a program up on PATH without running anything, so probes stay silent and cheap.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(format!("{name}{}", env::consts::EXE_SUFFIX)))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Whether we run with effective uid 0, which decides if apt needs `sudo`.
pub fn is_root() -> bool {
    // /proc avoids depending on libc just for geteuid; the Uid line is "real effective saved fs".
    if let Ok(status) = fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Uid:"))
    {
        return line.split_whitespace().nth(2) == Some("0");
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
}

/// Name of a binary built by cargo on this platform.
pub fn exe(name: &str) -> String {
    format!("{name}{}", env::consts::EXE_SUFFIX)
}
