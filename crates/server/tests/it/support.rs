//! Shared helpers: temporary directories and an admin context over a fresh SQLite file.

use server::admin::AdminContext;
use server::wiring::{self, SystemClock, UuidV7};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("slotbook-it-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A `sqlite://` URL for a database file in this directory.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join("slotbook.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The pepper the admin tests mint with.
pub fn pepper() -> auth::Pepper {
    auth::Pepper::new(b"integration-test-pepper-0123456789abcdef".to_vec())
}

/// An admin context over a fresh, migrated SQLite file (keep the `TempDir` alive).
pub async fn context() -> (AdminContext, TempDir) {
    let dir = TempDir::new();
    let opened = wiring::open_store(&dir.sqlite_url()).await.unwrap();
    let ctx = AdminContext {
        store: opened.storage,
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7),
        pepper: pepper(),
    };
    (ctx, dir)
}

/// True when `s` has the contract's PAT shape: `42min_pat_` + 12 + `_` + 32 Crockford chars.
pub fn is_pat(s: &str) -> bool {
    const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let Some(rest) = s.strip_prefix("42min_pat_") else {
        return false;
    };
    let Some((lookup, secret)) = rest.split_once('_') else {
        return false;
    };
    lookup.len() == 12
        && secret.len() == 32
        && lookup
            .chars()
            .chain(secret.chars())
            .all(|c| ALPHABET.contains(c))
}

#[test]
fn pat_shape_check_rejects_near_misses() {
    assert!(is_pat(
        "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ"
    ));
    assert!(!is_pat(
        "42min_pat_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNP"
    ));
    assert!(!is_pat(
        "42min_pat_ABCDEFGHIKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ"
    ));
    assert!(!is_pat(
        "42min_at_ABCDEFGHJKMN_PQRSTVWXYZ23456789ABCDEFGHJKMNPQ"
    ));
}

/// A `slotbook` command for `dir` with a clean environment (tests in this binary change the
/// process environment concurrently, so nothing is inherited but `PATH`).
pub fn slotbook(dir: &TempDir) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_slotbook"));
    cmd.current_dir(dir.path()).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// Runs a command to completion with optional standard input.
pub fn run(mut cmd: std::process::Command, stdin: Option<&str>) -> std::process::Output {
    use std::io::Write as _;
    use std::process::Stdio;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// The first token-shaped word in `text`.
pub fn find_pat(text: &str) -> Option<String> {
    let start = text.find("42min_pat_")?;
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Some(token)
}

/// The first UUID inside parentheses in `text`, e.g. from "created organization X (ID)".
pub fn paren_uuid(text: &str) -> uuid::Uuid {
    let open = text.find('(').unwrap();
    let close = text[open..].find(')').unwrap() + open;
    text[open + 1..close].parse().unwrap()
}
