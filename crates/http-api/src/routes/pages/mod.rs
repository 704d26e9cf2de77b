//! The public booking pages (issue 15): `GET /{username}` (a host's active event types),
//! `GET /{username}/{slug}` (the event type's `url`: month calendar and free times),
//! `GET|POST /{username}/{slug}/book` (the booking form, [`book`]), the invitee's link
//! `/_b/<token>` (booking page, `.ics`, cancel, reschedule: [`manage`], [`link`]) and the
//! embedded assets under `/_assets/`. Handlers parse, call
//! [`domain::booking_page::BookingPageService`] (over the same slot and booking services as
//! `/v1`) and render `pages`.
//!
//! Route precedence: axum prefers static segments, so `/v1/*`, `/.well-known/*`, `/openapi.*`,
//! `/metrics`, `/healthz` and `/readyz` keep their handlers. A path whose first segment cannot be
//! a username (usernames start with a letter or digit and use `a-z 0-9 - _`) or is reserved
//! (`domain::organization::RESERVED_USERNAMES`: `v1`, `metrics`, …) gets the API's JSON 404, exactly as before the pages existed; a valid username that names nobody
//! gets the HTML 404 page.
//!
//! Every page response carries the headers of [`security`]; every page request counts against
//! the client address's `page_view` (GET) or `page_submit` (POST) bucket.

mod book;
pub mod link;
mod manage;
pub mod security;
mod views;

use crate::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The page routes, or none when `[pages] enabled = false`.
pub fn router(state: &AppState) -> Router<AppState> {
    if !state.config.pages.enabled {
        return Router::new();
    }
    Router::new()
        .route("/_assets/{name}", get(asset))
        .route("/{username}", get(views::host))
        .route("/{username}/{slug}", get(views::event_type))
        .route(
            "/{username}/{slug}/book",
            get(book::form).post(book::submit),
        )
        .route("/_b/{token}", get(manage::view))
        .route("/_b/{token}/event.ics", get(manage::ics))
        .route("/_b/{token}/cancel", post(manage::cancel))
        .route(
            "/_b/{token}/reschedule",
            get(manage::reschedule_form).post(manage::reschedule),
        )
        .route_layer(from_fn_with_state(state.clone(), security::guard))
}

/// True when `segment` may name a host page (else the path belongs to the API's 404).
pub fn is_page_user(segment: &str) -> bool {
    use domain::organization::Username;
    !Username::is_reserved(segment) && Username::parse(segment).is_ok()
}

/// The API's 404 envelope for paths that are not pages.
pub fn api_not_found() -> Response {
    crate::ops::not_found_error().into_response()
}

/// `GET /_assets/{name}`: embedded, content-addressed, cached for a year.
async fn asset(Path(name): Path<String>) -> Response {
    match pages::assets::lookup(&name) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::is_page_user;
    use domain::organization::Username;

    /// Every top-level path segment the server routes itself is a reserved username, so no
    /// user can be given a name whose host page is shadowed.
    #[test]
    fn every_top_level_route_is_reserved() {
        let doc = crate::openapi::document();
        let mut segments: Vec<String> = doc
            .paths
            .paths
            .keys()
            .filter_map(|p| {
                p.trim_start_matches('/')
                    .split('/')
                    .next()
                    .map(str::to_owned)
            })
            .collect();
        segments.extend(["_b", "_assets", ".well-known"].map(str::to_owned));
        segments.sort();
        segments.dedup();
        assert!(segments.iter().any(|s| s == "metrics"), "{segments:?}");
        for s in &segments {
            assert!(Username::is_reserved(s), "/{s} is routed but not reserved");
            assert!(!is_page_user(s), "{s}");
        }
        assert!(is_page_user("alice"));
    }
}
