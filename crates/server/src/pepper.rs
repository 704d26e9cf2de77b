//! Where the token-hash pepper comes from: `security.pepper`, or on SQLite a `slotbook.pepper`
//! file next to the database, generated once (32 random bytes, hex-encoded, mode 0600, written
//! atomically), never beside a database that already holds tokens keyed by another pepper.
//!
//! The pepper's key bytes are the UTF-8 bytes of the configured string or of the file's content,
//! so the file's content can later be moved into `SLOTBOOK__SECURITY__PEPPER` unchanged.
//! Never logs the pepper itself.

use crate::config::{Backend, Config, MIN_PEPPER_LEN};
use anyhow::{Context as _, bail};
use auth::Pepper;
use secrecy::ExposeSecret as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Name of the generated pepper file.
pub const PEPPER_FILE: &str = "slotbook.pepper";

/// The pepper for this configuration, generating and persisting one on SQLite if needed.
/// `db_holds_secrets`: the database already holds tokens or secrets keyed by a pepper; then a
/// missing pepper file is an error, never a reason to generate a new one.
pub fn resolve(config: &Config, db_holds_secrets: bool) -> anyhow::Result<Pepper> {
    if let Some(p) = &config.security.pepper {
        return Ok(Pepper::new(p.expose_secret().as_bytes().to_vec()));
    }
    let url = config.database.url.expose_secret();
    match Backend::from_url(url)? {
        Backend::Postgres => bail!(
            "security.pepper is required with Postgres: set SLOTBOOK__SECURITY__PEPPER to at least {MIN_PEPPER_LEN} random characters"
        ),
        Backend::Sqlite => match sqlite_file(url) {
            Some(db) => {
                let path = pepper_path_for(&db);
                if db_holds_secrets && !path.exists() {
                    bail!(missing_pepper_message(&db, &path));
                }
                load_or_create(&path)
            }
            None => {
                tracing::warn!(
                    "in-memory SQLite database and no security.pepper: using a throwaway pepper; tokens die with the process"
                );
                Ok(Pepper::new(random_hex()?.into_bytes()))
            }
        },
    }
}

/// The database file a `sqlite:` URL names; `None` for in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// `slotbook.pepper` in the directory of `db`.
pub fn pepper_path_for(db: &Path) -> PathBuf {
    match db.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(PEPPER_FILE),
        _ => PathBuf::from(PEPPER_FILE),
    }
}

/// Why the server refuses to start beside a database with tokens and no pepper file.
fn missing_pepper_message(db: &Path, pepper: &Path) -> String {
    format!(
        "the database {} already holds tokens or secrets made with a pepper, but the pepper file {} is missing. \
         Restore {} from your backup (it was created next to the database), or set SLOTBOOK__SECURITY__PEPPER to the old pepper. \
         The server does not generate a new pepper here: every existing token, OAuth client, webhook secret and invitee link would stop working. \
         To start over deliberately, move the database away as well.",
        db.display(),
        pepper.display(),
        PEPPER_FILE
    )
}

/// Reads the pepper file, or creates it with a fresh random pepper.
pub fn load_or_create(path: &Path) -> anyhow::Result<Pepper> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_shared(path);
            let text = text.trim();
            if text.chars().count() < MIN_PEPPER_LEN {
                bail!(
                    "pepper file {} is shorter than {MIN_PEPPER_LEN} characters; restore it from a backup (tokens minted with the old pepper stop working otherwise)",
                    path.display()
                );
            }
            Ok(Pepper::new(text.as_bytes().to_vec()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pepper = random_hex()?;
            if !write_atomically(path, &pepper)? {
                // Another process created it first: use theirs.
                return load_or_create(path);
            }
            tracing::info!(
                path = %path.display(),
                "generated a new token pepper and stored it (mode 0600); back it up with the database"
            );
            Ok(Pepper::new(pepper.into_bytes()))
        }
        Err(e) => Err(e).with_context(|| format!("reading pepper file {}", path.display())),
    }
}

/// 32 random bytes, hex-encoded (64 characters).
fn random_hex() -> anyhow::Result<String> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Logs a warning when the pepper file is readable or writable by the group or others.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:04o}"),
                    "the pepper file is readable by other users; run `chmod 600` on it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Writes `content` to `path` all or nothing, readable by the owner only: a temporary file
/// in the same directory (mode 0600) is written and fsynced, hard-linked to `path` (which
/// never overwrites: `false` when `path` appeared meanwhile) and removed, and the directory
/// is fsynced so the new name survives a crash. A crash leaves either no pepper file or the
/// whole one, never a partial pepper.
fn write_atomically(path: &Path, content: &str) -> anyhow::Result<bool> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{PEPPER_FILE}.tmp-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(content.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()
        })
        .with_context(|| format!("writing pepper file {}", tmp.display()));
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating pepper file {}", path.display())),
    });
    let _ = std::fs::remove_file(&tmp);
    let linked = linked?;
    #[cfg(unix)]
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))?;
    Ok(linked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_file("sqlite://slotbook.db?mode=rwc"),
            Some(PathBuf::from("slotbook.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/sb/x.db"),
            Some(PathBuf::from("/var/lib/sb/x.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:data/x.db"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x?mode=memory"), None);
        assert_eq!(
            pepper_path_for(Path::new("slotbook.db")),
            PathBuf::from(PEPPER_FILE)
        );
        assert_eq!(
            pepper_path_for(Path::new("/var/lib/sb/x.db")),
            PathBuf::from("/var/lib/sb/slotbook.pepper")
        );
    }

    #[test]
    fn generated_once_then_reused_with_private_mode() {
        let dir = std::env::temp_dir().join(format!("slotbook-pepper-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(PEPPER_FILE);
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert_eq!(first.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create(&path).is_err());
        // Nothing but the pepper file is left in the directory (the temporary file is gone).
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(PEPPER_FILE)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_atomic_write_never_replaces_an_existing_pepper() {
        let dir = std::env::temp_dir().join(format!("slotbook-pepper-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(PEPPER_FILE);
        assert!(write_atomically(&path, &"a".repeat(64)).unwrap());
        assert!(!write_atomically(&path, &"b".repeat(64)).unwrap());
        assert_eq!(
            load_or_create(&path).unwrap().expose(),
            "a".repeat(64).as_bytes()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
