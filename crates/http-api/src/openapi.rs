//! The OpenAPI 3.1 document, generated from the code: [`base`] holds the info, the global
//! bearer security scheme and the shared envelope schemas; the route modules add their paths
//! through `#[utoipa::path]`; [`document`] is the whole thing as served at `/openapi.json` and
//! `/openapi.yaml`.
//!
//! The rendered YAML is committed as `openapi.yaml` at the repository root and checked for
//! drift by `crates/http-api/tests/openapi_drift.rs`; regenerate it with
//! `SLOTBOOK_UPDATE_OPENAPI=1 cargo test -p http-api --test openapi_drift`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};

/// Name of the security scheme every `/v1/*` operation uses.
pub const BEARER_SCHEME: &str = "bearerAuth";

/// The error envelope (§2.6) as described in the document: `{"error": {code, message,
/// details, request_id}}`. Route modules use it as the body of their error responses.
pub use api_types::envelope::ErrorBody as ErrorEnvelope;

/// Info, security and shared components; route modules merge their paths into it.
pub fn base() -> OpenApi {
    let components = ComponentsBuilder::new()
        .security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .schema_from::<api_types::envelope::ErrorBody>()
        .schema_from::<api_types::envelope::ErrorDetail>()
        .schema_from::<api_types::envelope::Meta>()
        .schema_from::<api_types::envelope::PageMeta>()
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Slotbook API")
                .version("1")
                .description(Some(
                    "Slotbook implements the 42min public REST API v1. Every `/v1/*` request \
                     needs `Authorization: Bearer <token>`; every response carries \
                     `X-Request-Id` and the rate-limit headers `X-RateLimit-Limit`, \
                     `X-RateLimit-Remaining`, `X-RateLimit-Reset`, `RateLimit-Policy` and \
                     `RateLimit`. Errors use the envelope `{\"error\": {code, message, details, \
                     request_id}}`.",
                )),
        )
        .components(Some(components))
        .security(Some([SecurityRequirement::new(
            BEARER_SCHEME,
            Vec::<String>::new(),
        )]))
        .build()
}

/// The whole document: `/v1/*` routes and the operations endpoints.
pub fn document() -> OpenApi {
    crate::routes::v1()
        .merge(crate::ops::router())
        .into_openapi()
}

/// The document as YAML (what `/openapi.yaml` serves and the repository commits).
pub fn yaml() -> Result<String, String> {
    document().to_yaml().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_declares_bearer_auth_globally() {
        let v = serde_json::to_value(base()).unwrap();
        assert_eq!(v["openapi"], "3.1.0");
        assert_eq!(v["info"]["title"], "Slotbook API");
        assert_eq!(v["info"]["version"], "1");
        assert_eq!(
            v["components"]["securitySchemes"]["bearerAuth"],
            serde_json::json!({"type": "http", "scheme": "bearer"})
        );
        assert_eq!(v["security"], serde_json::json!([{"bearerAuth": []}]));
        let required = &v["components"]["schemas"]["ErrorDetail"]["required"];
        for f in ["code", "message", "details", "request_id"] {
            assert!(required.as_array().unwrap().iter().any(|x| x == f), "{f}");
        }
    }
}
