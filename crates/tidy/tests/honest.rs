//! Checks that the test set-up cannot quietly lie: the production `server` build does not link
//! the test-only `store_postgres::testing` module, and `.ci/run` refuses the Postgres skip
//! switch under CI.

#![allow(
    clippy::disallowed_methods,
    reason = "tidy tests read the build environment"
)]
// A tidy failure should panic loudly, helpers included.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn production_server_build_has_no_store_postgres_testing_feature() {
    // Normal edges only: what `cargo build -p server` resolves, without dev-dependencies.
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "server",
            "-e",
            "normal,build,features",
            "--target",
            "all",
            "-i",
            "store-postgres",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        tree.contains("store-postgres v"),
        "server should depend on store-postgres; cargo tree printed:\n{tree}"
    );
    assert!(
        !tree.contains("feature \"testing\""),
        "the production server build enables store-postgres/testing (test-only code that reads \
         the clock and the environment); enable it only in dev-dependencies:\n{tree}"
    );
}

#[test]
fn ci_run_refuses_to_skip_postgres() {
    // PATH without cargo: should the refusal ever be missing, the script fails at its first
    // cargo step instead of running the whole CI inside this test.
    let out = Command::new("bash")
        .arg(workspace_root().join(".ci/run"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", std::env::temp_dir())
        .env("CI", "true")
        .env("SLOTBOOK_SKIP_POSTGRES", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains("SLOTBOOK_SKIP_POSTGRES") && stderr.contains("CI=true"),
        "the refusal names the variable and the reason: {stderr}"
    );
}
