//! `GET /v1/event-types` and `GET /v1/event-types/{idOrSlug}`.

use super::{Renderer, not_found};
use crate::error::ApiError;
use crate::extract::{Auth, QueryParams};
use crate::routes::support::{
    bool_param, page_request, parsed_param, store_page, uuid_param, with_etag,
};
use crate::state::AppState;
use api_types::envelope::{Data, ErrorBody, Paged};
use api_types::event_type::{EventTypeDetail, EventTypeDto};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::access::Operation;
use domain::event_type::EventTypeRef;
use domain::ids::EventTypeId;
use domain::ports::{EventTypeQuery, EventTypeSort};
use uuid::Uuid;

/// Lists event types.
#[utoipa::path(
    get,
    path = "/v1/event-types",
    tag = "event-types",
    operation_id = "listEventTypes",
    params(
        ("limit" = Option<i64>, Query, description = "Page size 1-100 (default 20; larger values are clamped)"),
        ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page"),
        ("sort" = Option<String>, Query, description = "created_at_desc (default), created_at_asc, title_asc"),
        ("user_id" = Option<Uuid>, Query, description = "Event types owned or hosted by this user"),
        ("slug" = Option<String>, Query, description = "Exact slug"),
        ("active" = Option<String>, Query, description = "\"true\" or \"false\"; omit for both"),
    ),
    responses(
        (status = 200, description = "A page of event types", body = Paged<EventTypeDto>,
            headers(("Link" = String, description = "RFC 8288 link to the next page when has_more"))),
        (status = 400, description = "invalid_query_param", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list_event_types(
    State(state): State<AppState>,
    auth: Auth,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::ListEventTypes)?;
    let sort = parsed_param(
        &q,
        "sort",
        EventTypeSort::parse,
        "one of created_at_desc, created_at_asc, title_asc",
    )?
    .unwrap_or_default();
    let query = EventTypeQuery {
        user_id: uuid_param(&q, "user_id")?,
        slug: q.get("slug").map(str::to_owned),
        active: bool_param(&q, "active")?,
        sort,
        page: page_request(
            &q,
            sort.as_str(),
            if sort == EventTypeSort::TitleAsc {
                domain::pagination::CursorKind::Text
            } else {
                domain::pagination::CursorKind::Instant
            },
        )?,
    };
    let listed = state
        .services
        .event_types
        .list(p.organization_id, &query)
        .await?;
    let r = Renderer::new(&state, &listed.relations);
    let page = &listed.value;
    let items: Vec<EventTypeDto> = page.items.iter().map(|et| r.summary(et)).collect();
    Ok(store_page(&state, "/v1/event-types", &q, &items, page))
}

/// How a path names an event type.
#[derive(Debug, PartialEq, Eq)]
pub enum IdOrSlug {
    Id(EventTypeId),
    Slug(String, String),
    /// Not found whatever the store holds (e.g. `ada/` or `a/b/c`).
    Nothing,
}

/// Parses the decoded `{idOrSlug}` segment: a UUID, or `username/slug`; a bare slug is 400.
pub fn id_or_slug(s: &str) -> Result<IdOrSlug, ApiError> {
    if let Ok(u) = Uuid::parse_str(s) {
        return Ok(IdOrSlug::Id(EventTypeId(u)));
    }
    match s.split_once('/') {
        None => Err(ApiError::bad_request(
            "invalid_request",
            "Address an event type by UUID or as username/slug (URL-encoded as username%2Fslug); slugs alone are not unique",
        )),
        Some((u, slug)) if !u.is_empty() && !slug.is_empty() && !slug.contains('/') => {
            Ok(IdOrSlug::Slug(u.to_owned(), slug.to_owned()))
        }
        Some(_) => Ok(IdOrSlug::Nothing),
    }
}

/// Reads one event type with its form, locations, limits and policies.
#[utoipa::path(
    get,
    path = "/v1/event-types/{id}",
    tag = "event-types",
    operation_id = "getEventType",
    params(("id" = String, Path, description = "The UUID, or username/slug as ONE segment with the slash percent-encoded (ada%2Fintro-call)")),
    responses(
        (status = 200, description = "The event type", body = Data<EventTypeDetail>,
            headers(("ETag" = String, description = "Quoted version"))),
        (status = 400, description = "invalid_request (a bare slug)", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "event_type_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn get_event_type(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::GetEventType)?;
    let Ok(Path(raw)) = path else {
        return Err(not_found());
    };
    let key = match id_or_slug(&raw)? {
        IdOrSlug::Id(id) => EventTypeRef::Id(id),
        IdOrSlug::Slug(username, slug) => EventTypeRef::Slug { username, slug },
        IdOrSlug::Nothing => return Err(not_found()),
    };
    let found = state
        .services
        .event_types
        .get(p.organization_id, &key)
        .await?;
    let et = &found.value;
    let r = Renderer::new(&state, &found.relations);
    Ok(with_etag(crate::envelope::ok(&r.detail(et)), et.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_slugs() {
        let u = Uuid::from_u128(5);
        assert_eq!(
            id_or_slug(&u.to_string()).unwrap(),
            IdOrSlug::Id(EventTypeId(u))
        );
        assert_eq!(
            id_or_slug("ada/intro-call").unwrap(),
            IdOrSlug::Slug("ada".into(), "intro-call".into())
        );
        assert_eq!(
            id_or_slug("intro-call").unwrap_err().code,
            "invalid_request"
        );
        assert_eq!(id_or_slug("ada/").unwrap(), IdOrSlug::Nothing);
        assert_eq!(id_or_slug("a/b/c").unwrap(), IdOrSlug::Nothing);
    }
}

#[cfg(test)]
mod routing_tests {
    use axum::body::Body;
    use axum::extract::Path;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn an_encoded_slash_stays_in_one_segment_and_is_decoded() {
        let app = axum::Router::new().route(
            "/v1/event-types/{id}",
            axum::routing::get(|Path(id): Path<String>| async move { id }),
        );
        let resp = app
            .oneshot(
                Request::get("/v1/event-types/ada%2Fintro-call")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"ada/intro-call");
    }

    #[test]
    fn every_resource_route_is_in_the_document() {
        let doc = serde_json::to_value(crate::routes::v1().into_openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/v1/event-types", &["get", "post"][..]),
            ("/v1/event-types/{id}", &["get", "patch", "delete"]),
            ("/v1/slots", &["get"]),
            ("/v1/slots/check", &["get"]),
            ("/v1/bookings", &["get", "post"]),
            ("/v1/bookings/{uid}", &["get", "patch"]),
            ("/v1/bookings/{uid}/cancel", &["post"]),
            ("/v1/bookings/{uid}/reschedule", &["post"]),
            ("/v1/schedules", &["get", "post"]),
            ("/v1/schedules/{id}", &["get", "patch", "delete"]),
        ] {
            for m in methods {
                let op = &paths[path][*m];
                assert!(op.is_object(), "{m} {path}");
                assert_eq!(
                    op["security"],
                    serde_json::json!([{"bearerAuth": []}]),
                    "{m} {path}"
                );
            }
        }
    }
}
