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

/// How long start-up and shutdown may take before a test fails.
pub const BOUND: std::time::Duration = std::time::Duration::from_secs(60);

/// A plain HTTP client (reqwest is built without a default TLS provider).
pub fn client() -> reqwest::Client {
    webhooks::install_crypto_provider();
    reqwest::Client::new()
}

/// A client that opens a fresh connection for every request (no idle pool).
pub fn unpooled_client() -> reqwest::Client {
    webhooks::install_crypto_provider();
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// A running `slotbook serve` process; killed if the test ends early.
pub struct Server {
    child: Option<std::process::Child>,
    /// Standard output lines printed before `listening on …`.
    pub preamble: Vec<String>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Server {
    /// `slotbook serve ARGS` on a free port over `dir`'s SQLite file.
    pub fn start(dir: &TempDir, args: &[&str]) -> Self {
        Self::start_with(dir, &dir.sqlite_url(), args, &[])
    }

    /// `slotbook serve ARGS` on a free port over `database_url`, with extra environment.
    pub fn start_with(
        dir: &TempDir,
        database_url: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        use std::io::BufRead as _;
        use std::process::Stdio;
        let mut cmd = slotbook(dir);
        cmd.env("SLOTBOOK__HTTP__LISTEN", "127.0.0.1:0")
            .env("SLOTBOOK__LOG__LEVEL", "warn")
            .env("SLOTBOOK__DATABASE__URL", database_url)
            // No readiness grace after SIGTERM unless a test asks for one.
            .env("SLOTBOOK__HTTP__SHUTDOWN_GRACE_SECS", "0")
            .envs(env.iter().copied())
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            preamble: Vec::new(),
            base: String::new(),
        };
        loop {
            let line = rx
                .recv_timeout(BOUND)
                .expect("the server printed `listening on …` in time");
            if let Some(addr) = line.strip_prefix("listening on ") {
                server.base = addr.trim().to_owned();
                break;
            }
            server.preamble.push(line);
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn wait_exit(mut self, what: &str) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        rx.recv_timeout(BOUND)
            .unwrap_or_else(|_| panic!("the server exited in time after {what}"))
            .unwrap()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(self) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.wait_exit("SIGTERM")
    }

    /// Sends SIGTERM without waiting (see [`Server::wait`]).
    pub fn signal_term(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit by itself (after [`Server::signal_term`]).
    pub fn wait(self) -> std::process::ExitStatus {
        self.wait_exit("its shutdown")
    }

    /// Sends SIGKILL (no drain, nothing flushed) and waits (bounded) for the process to die.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.as_mut().unwrap().kill().unwrap();
        self.wait_exit("SIGKILL")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the process tests book with: an organization, an all-scope token and the id of its
/// 5-minute event type.
pub struct Seeded {
    pub org: domain::OrganizationId,
    pub token: String,
    pub event_type: String,
}

/// A 24/7 Europe/Berlin host `host@example.com` with a 5-minute event type (no horizon) and an
/// all-scope token, written through `server::admin` before any server starts.
pub async fn seed_host(database_url: &str, pepper: &str, org_name: &str) -> Seeded {
    use domain::access::ACTIVE_AND_RESERVED_SCOPES;
    use secrecy::ExposeSecret as _;
    use server::admin::{self, Expiry, NewEventType, NewSchedule, NewToken, NewUser};
    let opened = wiring::open_store(database_url).await.unwrap();
    let ctx = AdminContext {
        store: opened.storage,
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7),
        pepper: auth::Pepper::new(pepper.as_bytes().to_vec()),
    };
    let org = admin::create_org(&ctx, org_name).await.unwrap();
    let user = admin::create_user(
        &ctx,
        NewUser {
            org: org.id,
            email: "host@example.com".into(),
            username: "host".into(),
            role: domain::organization::Role::Owner,
            first_name: None,
            last_name: None,
            timezone: Some("Europe/Berlin".into()),
            password: None,
        },
    )
    .await
    .unwrap();
    admin::create_schedule(
        &ctx,
        NewSchedule {
            org: org.id,
            user: user.id,
            name: "Always".into(),
            timezone: "Europe/Berlin".into(),
            rules: admin::parse_rule("mon-sun 00:00-24:00").unwrap(),
            overrides: Vec::new(),
        },
    )
    .await
    .unwrap();
    let mut quick = NewEventType::individual(org.id, user.id, "quick", "Quick", 5);
    quick.future_limit_days = 0;
    let et = admin::create_event_type(&ctx, quick).await.unwrap();
    let (_, secret) = admin::create_token(
        &ctx,
        NewToken {
            org: org.id,
            user: user.id,
            name: "process test".into(),
            scopes: ACTIVE_AND_RESERVED_SCOPES.join(" "),
            expiry: Expiry::Days(42),
        },
    )
    .await
    .unwrap();
    Seeded {
        org: org.id,
        token: secret.expose_secret().to_owned(),
        event_type: et.id.to_string(),
    }
}
