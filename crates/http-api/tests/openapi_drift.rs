//! The OpenAPI document committed at the repository root (`openapi.yaml`) must equal the one
//! the code generates. After changing a route or a schema, regenerate it with
//!
//! ```text
//! SLOTBOOK_UPDATE_OPENAPI=1 cargo test -p http-api --test openapi_drift
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml")
}

#[test]
fn committed_openapi_matches_the_code() {
    let generated = http_api::openapi::yaml().expect("the document renders as YAML");
    let path = committed_path();
    if std::env::var_os("SLOTBOOK_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.yaml");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_diff = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "one file is a prefix of the other".to_owned(),
                |i| format!("first difference at line {}", i + 1),
            );
        panic!(
            "openapi.yaml at the repository root is out of date ({first_diff}).\n\
             Regenerate it with:\n    \
             SLOTBOOK_UPDATE_OPENAPI=1 cargo test -p http-api --test openapi_drift\n\
             and commit the result."
        );
    }
}

#[test]
fn document_describes_the_platform_routes() {
    let doc = serde_json::to_value(http_api::openapi::document()).expect("serializes");
    for path in [
        "/v1/_ping",
        "/v1/me",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is missing");
    }
    assert_eq!(doc["security"], serde_json::json!([{"bearerAuth": []}]));
}
