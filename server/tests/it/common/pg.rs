//! A throwaway PostgreSQL cluster for one test: `initdb` in a temporary directory, a server on a
//! free port of 127.0.0.1, stopped and removed on drop. Debian's PostgreSQL binaries
//! (`/usr/lib/postgresql/*/bin`, installed by `cargo xtask test`'s setup); as root, the cluster
//! runs as the `postgres` user, since PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub url: String,
}

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (Debian: apt-get install postgresql)")
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `bin/name args`, as the `postgres` user when we are root.
fn run(bin: &std::path::Path, name: &str, args: &[&str]) {
    let exe = bin.join(name);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd.args(args).output().expect("PostgreSQL tool runs");
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    pub fn start() -> PgCluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the cluster directory");
        }
        let data = dir.path().join("data");
        let data_s = data.to_str().unwrap();
        run(
            &bin,
            "initdb",
            &[
                "-D",
                data_s,
                "-A",
                "trust",
                "-U",
                "danvan",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=on",
            dir.path().display()
        );
        let log = dir.path().join("log");
        run(
            &bin,
            "pg_ctl",
            &[
                "-D",
                data_s,
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        PgCluster {
            url: format!("postgres://danvan@127.0.0.1:{port}/postgres"),
            dir,
            bin,
        }
    }

    /// A new empty database in the cluster, and its URL.
    pub fn database(&self, name: &str) -> String {
        let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url.replace("/postgres", &format!("/{name}"))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

/// The environment variable that runs the whole-server tests on PostgreSQL: each test server's
/// database (and documents) in a database of its own, in one cluster for the test process.
pub const ON_POSTGRES: &str = "DANVAN_TEST_POSTGRES";

struct Shared {
    cluster: PgCluster,
    by_dir: std::collections::HashMap<PathBuf, String>,
}

static SHARED: std::sync::Mutex<Option<Shared>> = std::sync::Mutex::new(None);

/// Stop the shared cluster when the test process exits (a static is never dropped).
extern "C" fn stop_shared() {
    if let Some(s) = SHARED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let dir = s.cluster.dir.path().to_path_buf();
        drop(s);
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// With [`ON_POSTGRES`] set, the PostgreSQL URL of the server whose data folder is `data_dir`:
/// a new database the first time, the same one when the server starts again on that folder.
pub fn database_for(data_dir: &std::path::Path) -> Option<String> {
    std::env::var_os(ON_POSTGRES)?;
    let dir = data_dir.to_path_buf();
    // The blocking client may not run on an async worker.
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
            let shared = shared.get_or_insert_with(|| {
                // SAFETY: registers a plain function with no preconditions.
                unsafe { libc::atexit(stop_shared) };
                Shared {
                    cluster: PgCluster::start(),
                    by_dir: Default::default(),
                }
            });
            let n = shared.by_dir.len();
            if let Some(url) = shared.by_dir.get(&dir) {
                return Some(url.clone());
            }
            let url = shared.cluster.database(&format!("t{n}"));
            shared.by_dir.insert(dir, url.clone());
            Some(url)
        })
        .join()
        .unwrap()
    })
}
