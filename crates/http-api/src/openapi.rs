//! The OpenAPI 3.1 document: info, security scheme and shared components (being written).

/// The document the route table is merged into.
pub fn base() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
