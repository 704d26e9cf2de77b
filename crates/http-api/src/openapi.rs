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
    let mut doc = crate::routes::v1()
        .merge(crate::ops::router())
        .into_openapi();
    constrain_parameters(&mut doc);
    doc
}

/// The operations of one path (the methods the API uses).
fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Declares the bearer scheme, required, on every operation of `path` (e.g. `/metrics` when
/// `[metrics] token` is configured).
pub(crate) fn require_bearer(doc: &mut OpenApi, path: &str) {
    if let Some(item) = doc.paths.paths.get_mut(path) {
        for op in operations(item) {
            op.security = Some(vec![SecurityRequirement::new(
                BEARER_SCHEME,
                Vec::<String>::new(),
            )]);
        }
    }
}

/// `Idempotency-Key`: what [`crate::idempotency::read_key`] accepts and an HTTP/1 parser lets
/// through (RFC 9110 field values have no control characters and no surrounding spaces): 1–255
/// visible ASCII characters, inner spaces allowed.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]([ -~]{0,253}[!-~])?$";
/// `If-Match`: a quoted integer version, optionally weak (`api_types::preconditions`).
pub const IF_MATCH_PATTERN: &str = "^(W/)?\"-?[0-9]{1,18}\"$";

/// Writes into the document the parameter rules the handlers enforce, in one place keyed by
/// parameter name, so every operation that takes the parameter says the same thing: the
/// `Idempotency-Key` and `If-Match` header formats, the `sort` values of each list endpoint
/// (from the domain's own lists) and `limit ≥ 1`. Without them a generated request carries
/// values the server (or the HTTP parser in front of it) must refuse, and the document does not
/// say so. Both [`document`] and the served document (`ops::assemble`) pass through it.
pub(crate) fn constrain_parameters(doc: &mut OpenApi) {
    use domain::ports::{BookingSort, EventTypeSort};
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Schema};

    let string = || ObjectBuilder::new().schema_type(Type::String);
    for (path, item) in doc.paths.paths.iter_mut() {
        let sorts: Option<Vec<&str>> = match path.as_str() {
            "/v1/bookings" => Some(BookingSort::ALL.iter().map(|s| s.as_str()).collect()),
            "/v1/event-types" => Some(EventTypeSort::ALL.iter().map(|s| s.as_str()).collect()),
            _ => None,
        };
        for op in operations(item) {
            for p in op.parameters.iter_mut().flatten() {
                let RefOr::T(p) = p else { continue };
                let schema = match (&p.parameter_in, p.name.as_str()) {
                    (ParameterIn::Header, "Idempotency-Key") => string()
                        .min_length(Some(1))
                        .max_length(Some(crate::idempotency::MAX_KEY_CHARS))
                        .pattern(Some(IDEMPOTENCY_KEY_PATTERN)),
                    (ParameterIn::Header, "If-Match") => string().pattern(Some(IF_MATCH_PATTERN)),
                    (ParameterIn::Query, "sort") => match &sorts {
                        Some(values) => string().enum_values(Some(values.clone())),
                        None => continue,
                    },
                    (ParameterIn::Query, "limit") => ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Int64,
                        )))
                        .minimum(Some(1)),
                    _ => continue,
                };
                p.schema = Some(RefOr::T(Schema::Object(schema.build())));
            }
        }
    }
}

/// The document as YAML (what `/openapi.yaml` serves and the repository commits).
pub fn yaml() -> Result<String, String> {
    document().to_yaml().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation taking one of the constrained parameters carries its rule.
    #[test]
    fn parameters_carry_the_rules_the_handlers_enforce() {
        let v = serde_json::to_value(document()).unwrap();
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for (path, item) in v["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    let schema = &p["schema"];
                    let at = format!("{method} {path} {name}");
                    match name {
                        "Idempotency-Key" => {
                            assert_eq!(schema["pattern"], IDEMPOTENCY_KEY_PATTERN, "{at}");
                            assert_eq!(schema["maxLength"], 255, "{at}");
                        }
                        "If-Match" => assert_eq!(schema["pattern"], IF_MATCH_PATTERN, "{at}"),
                        "sort" => assert!(schema["enum"].as_array().unwrap().len() >= 3, "{at}"),
                        "limit" => assert_eq!(schema["minimum"], 1, "{at}"),
                        _ => continue,
                    }
                    *seen.entry(name.to_owned()).or_default() += 1;
                }
            }
        }
        assert_eq!(seen.get("Idempotency-Key"), Some(&6), "{seen:?}");
        assert_eq!(seen.get("If-Match"), Some(&3), "{seen:?}");
        assert_eq!(seen.get("sort"), Some(&2), "{seen:?}");
        assert!(seen.get("limit").copied().unwrap_or(0) >= 2, "{seen:?}");
    }

    /// The documented forms are ones the handlers accept.
    #[test]
    fn documented_header_forms_are_accepted() {
        use axum::http::{HeaderMap, HeaderValue};
        for key in ["a", "0b3c-uuid", "with inner space", &"k".repeat(255)] {
            let mut h = HeaderMap::new();
            h.insert("idempotency-key", HeaderValue::from_str(key).unwrap());
            assert_eq!(crate::idempotency::read_key(&h).unwrap(), key);
        }
        for (v, n) in [("\"3\"", 3), ("W/\"12\"", 12), ("\"-1\"", -1)] {
            assert_eq!(api_types::preconditions::parse_if_match(v), Some(n), "{v}");
        }
    }

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
