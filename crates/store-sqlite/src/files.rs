//! File modes of a database: created 0600, and a warning when an existing file is wider.
//!
//! SQLite creates a missing database with 0644 (less the umask) and gives its `-wal` and `-shm`
//! files the database file's mode, so creating the (empty) database file ourselves with 0600
//! before SQLite opens it makes all three private.

use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// Creates `path` empty with mode 0600 when it does not exist (an empty file is an empty
/// SQLite database). An existing file is left alone.
pub(crate) fn create_private(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => {
            Err(e).with_context(|| format!("creating SQLite database file {}", path.display()))
        }
    }
}

/// The database file and its `-wal` / `-shm` companions that exist and that the group or
/// others may read or write, with their modes.
pub fn shared_files(db: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut candidates = vec![db.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            candidates.push(PathBuf::from(name));
        }
        for path in candidates {
            if let Ok(meta) = std::fs::metadata(&path) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    out.push((path, mode));
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    out
}

/// Logs a warning for every file of [`shared_files`].
pub(crate) fn warn_if_shared(db: &Path) {
    for (path, mode) in shared_files(db) {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:04o}"),
            "database file is readable by other users (it holds bookings and token hashes); run `chmod 600` on it"
        );
    }
}
