//! Mechanical checks of the conventions in ARCHITECTURE.md, read from `cargo metadata` and the
//! source tree, so that a layering mistake fails a test instead of waiting for review.

#![allow(
    clippy::disallowed_methods,
    reason = "tidy tests read the build environment"
)]
// Helpers outside `#[test]` functions unwrap too: a tidy failure should panic loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn metadata() -> Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Package id → (name, normal dependency ids) from the resolve graph.
fn graph(meta: &Value) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let names = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let deps = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let normal: Vec<String> = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_owned())
                .collect();
            (n["id"].as_str().unwrap().to_owned(), normal)
        })
        .collect();
    (names, deps)
}

fn closure(root: &str, deps: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(id) = stack.pop() {
        for d in deps.get(&id).into_iter().flatten() {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

fn member_id(meta: &Value, names: &BTreeMap<String, String>, name: &str) -> String {
    meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .find(|id| names[id] == name)
        .unwrap_or_else(|| panic!("workspace member {name} not found"))
}

#[test]
fn domain_stays_pure_transitively() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    let domain = member_id(&meta, &names, "domain");
    let forbidden = [
        "tokio",
        "sqlx",
        "sqlx-core",
        "rusqlite",
        "serde",
        "serde_json",
        "axum",
        "hyper",
        "reqwest",
        "time",
        "chrono",
    ];
    let bad: Vec<&str> = closure(&domain, &deps)
        .iter()
        .map(|id| names[id].as_str())
        .filter(|n| forbidden.contains(n))
        .collect();
    assert!(
        bad.is_empty(),
        "domain must not depend (even transitively) on I/O or wire crates: {bad:?}"
    );
}

#[test]
fn only_store_crates_and_testkit_touch_sql() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    // `loadtest` (benchmark tooling, never linked into the server): `slotbook-bench-scale`
    // bulk-loads history and prints query plans (ARCHITECTURE.md, Decisions).
    let allowed = ["store-sqlite", "store-postgres", "jiff-sqlx", "loadtest"];
    for member in meta["workspace_members"].as_array().unwrap() {
        let id = member.as_str().unwrap();
        let direct: Vec<&str> = deps[id].iter().map(|d| names[d].as_str()).collect();
        if direct.contains(&"sqlx") {
            assert!(
                allowed.contains(&names[id].as_str()),
                "{} depends on sqlx directly; SQL lives in the store crates",
                names[id]
            );
        }
        // The synchronous hot reads (ARCHITECTURE.md Decisions) are the SQLite store's alone.
        if direct.contains(&"rusqlite") {
            assert_eq!(
                names[id].as_str(),
                "store-sqlite",
                "{} depends on rusqlite directly; SQL lives in the store crates",
                names[id]
            );
        }
    }
}

#[test]
fn adapters_do_not_depend_on_each_other() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    let adapters = [
        "api-types",
        "auth",
        "store-sqlite",
        "store-postgres",
        "store-memory",
        "notify",
    ];
    for a in adapters {
        let id = member_id(&meta, &names, a);
        let direct: Vec<&str> = deps[&id].iter().map(|d| names[d].as_str()).collect();
        for b in adapters.iter().chain(["http-api", "server"].iter()) {
            assert!(
                *b == a || !direct.contains(b),
                "{a} depends on {b}: adapters depend on domain only"
            );
        }
    }
}

#[test]
fn the_memory_store_needs_no_runtime() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    let memory = member_id(&meta, &names, "store-memory");
    let forbidden = ["tokio", "sqlx", "sqlx-core", "async-std", "smol"];
    let bad: Vec<&str> = closure(&memory, &deps)
        .iter()
        .map(|id| names[id].as_str())
        .filter(|n| forbidden.contains(n))
        .collect();
    assert!(
        bad.is_empty(),
        "store-memory must run on any executor (no runtime or driver crates): {bad:?}"
    );
}

#[test]
fn the_json_codec_knows_no_driver_and_both_sql_stores_use_it() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    let codec = member_id(&meta, &names, "store-json");
    let forbidden = ["tokio", "sqlx", "sqlx-core"];
    let bad: Vec<&str> = closure(&codec, &deps)
        .iter()
        .map(|id| names[id].as_str())
        .filter(|n| forbidden.contains(n))
        .collect();
    assert!(
        bad.is_empty(),
        "store-json is a codec, not an adapter: {bad:?}"
    );
    for store in ["store-sqlite", "store-postgres"] {
        let id = member_id(&meta, &names, store);
        assert!(
            deps[&id].iter().any(|d| names[d] == "store-json"),
            "{store} must encode its JSON columns with store-json, not a codec of its own"
        );
    }
}

#[test]
fn crate_folder_names_equal_package_names_and_start_with_docs() {
    let root = workspace_root();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let folder = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{folder}\"")),
            "crates/{folder}: package name must equal the folder name"
        );
        for file in ["src/lib.rs", "src/main.rs"] {
            let path = dir.join(file);
            if path.exists() {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    text.trim_start().starts_with("//!"),
                    "{} must start with a //! paragraph",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn migrations_have_the_same_names_on_both_backends() {
    let root = workspace_root();
    let list = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join("migrations").join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite,
        list("postgres"),
        "migrations/sqlite and migrations/postgres must hold the same file names"
    );
}

#[test]
fn no_test_is_ignored() {
    fn walk(dir: &Path, hits: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(&path, hits);
                }
            } else if name.ends_with(".rs") && !path.ends_with("tidy/tests/tidy.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains(concat!("#[", "ignore")) {
                    hits.push(path.display().to_string());
                }
            }
        }
    }
    let mut hits = Vec::new();
    walk(&workspace_root(), &mut hits);
    assert!(hits.is_empty(), "ignored tests never run: {hits:?}");
}

/// Every SQL list of booking statuses in the SQL stores and their migrations is either the
/// domain's list of statuses that hold time (`BookingStatus::HOLDING_TIME`) or, in a `CHECK`
/// constraint, every status: the rule "which statuses hold time" has one source.
#[test]
fn sql_status_lists_match_the_domain() {
    use domain::booking::BookingStatus;
    let list = |statuses: &[BookingStatus]| {
        let quoted: Vec<String> = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("({})", quoted.join(", "))
    };
    let holding = list(&BookingStatus::HOLDING_TIME);
    let all = list(&BookingStatus::ALL);
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in [
        "crates/store-sqlite/src",
        "crates/store-postgres/src",
        "migrations/sqlite",
        "migrations/postgres",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).expect(dir) {
            files.push(entry.expect("dir entry").path());
        }
    }
    let mut seen = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable source");
        for (line_no, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(i) = rest.find("('confirmed'") {
                let tail = &rest[i..];
                let end = tail.find(')').map_or(tail.len(), |e| e + 1);
                let found = &tail[..end];
                let ok = found == holding || (found == all && line.contains("CHECK"));
                assert!(
                    ok,
                    "{}:{}: status list {found} is neither {holding} nor (in a CHECK) {all}",
                    path.display(),
                    line_no + 1
                );
                seen += 1;
                rest = &tail[end..];
            }
        }
    }
    assert!(
        seen >= 10,
        "expected the stores' status lists, found {seen}"
    );
}
