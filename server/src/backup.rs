//! Online backup and restore of the data folder's database: `VACUUM INTO` reads one consistent
//! snapshot while the server keeps writing (WAL), and a restore checks the copy before it takes
//! the place of a database.

use crate::db;
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a backup wrote.
#[derive(Debug, Clone, Copy)]
pub struct Backup {
    pub bytes: u64,
    pub took: Duration,
}

/// Copy the data folder's database to `to` (a new file), while the server may be writing: the copy
/// is the database as of one moment, every commit before it included. Documents, accounts, the
/// read model and the photos' records are in it; the photos' bytes are in the photo store
/// ([`crate::blob_store`]), whose files never change once written: copy it with any tool that adds
/// new files (`rsync -a`, `aws s3 sync`), after this backup, so every record it holds has its bytes.
pub fn backup(data_dir: &Path, to: &Path) -> anyhow::Result<Backup> {
    let from = db::path_in(data_dir);
    anyhow::ensure!(from.exists(), "no database at {}", from.display());
    anyhow::ensure!(
        !to.exists(),
        "{} exists already: a backup never overwrites a file",
        to.display()
    );
    let started = Instant::now();
    let conn = db::connect(&from).with_context(|| format!("opening {}", from.display()))?;
    let target = to
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
    conn.execute("VACUUM INTO ?1", [target])
        .with_context(|| format!("writing the backup to {}", to.display()))?;
    let bytes = std::fs::metadata(to)?.len();
    Ok(Backup {
        bytes,
        took: started.elapsed(),
    })
}

/// Make the backup `from` the database of `data_dir`, which must not have one (move a damaged
/// database aside first: nothing is ever overwritten). The backup is checked before it is used.
pub fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let to = db::path_in(data_dir);
    anyhow::ensure!(
        !to.exists(),
        "{} exists: move it aside first (a restore never overwrites a database)",
        to.display()
    );
    db::check_file(from).with_context(|| format!("the backup {}", from.display()))?;
    std::fs::create_dir_all(data_dir)?;
    // Copy under another name and rename: a restore cut short leaves no half database behind.
    let partial = data_dir.join("danvan.sqlite3.restoring");
    std::fs::copy(from, &partial).with_context(|| format!("copying {}", from.display()))?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, &to)?;
    Ok(())
}
