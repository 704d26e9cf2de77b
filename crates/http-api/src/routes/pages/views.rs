//! `GET /{username}` and `GET /{username}/{slug}`.
//!
//! The event type page reads `month` (`YYYY-MM`, default the month of `date` or of today),
//! `date` (`YYYY-MM-DD`, the chosen day; default the month's first day with free times), `tz`
//! (IANA zone; default the event type's zone) and `taken` (set when the invitee was sent back
//! because the time was booked meanwhile). Unusable values fall back to the default with a
//! message on the page, never an error.

use super::security::{not_found, page, server_error};
use super::{api_not_found, is_page_user};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::availability::Zone;
use domain::booking_page::PageError;
use jiff::civil::Date;
use std::collections::HashMap;

/// The query's parameters (the first of repeated ones).
pub(super) fn query(raw: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// A slot start from a page's query or form: an RFC 3339 instant within the years 0001–9999
/// (`api_types::time::parse_instant`, the API's own rule); anything else is no start, and the
/// handler sends the invitee back to the calendar.
pub(super) fn start_param(v: Option<&String>) -> Option<jiff::Timestamp> {
    v.and_then(|s| api_types::time::parse_instant(s).ok())
}

/// `GET /{username}`.
pub(super) async fn host(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Response {
    if !is_page_user(&username) {
        return api_not_found();
    }
    match state.services.pages.host_page(&username).await {
        Ok(p) => page(&state, StatusCode::OK, pages::booking::host_page(&p)),
        Err(PageError::NotFound) => not_found(&state, &headers),
        Err(PageError::Unknown(e)) => server_error(&state, &e),
    }
}

/// The invitee's zone: `tz` when it names one, else `fallback`, with a message when `tz` was
/// unusable.
pub(super) fn invitee_zone(tz: Option<&String>, fallback: &Zone) -> (Zone, bool, Option<String>) {
    match tz.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => (fallback.clone(), false, None),
        Some(name) => match Zone::parse(name) {
            Ok(z) => (z, true, None),
            Err(_) => (
                fallback.clone(),
                true,
                Some(format!(
                    "“{name}” is not a time zone we know; times are shown in {} instead.",
                    fallback.name()
                )),
            ),
        },
    }
}

fn month_of(s: &str) -> Option<Date> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()
}

/// `GET /{username}/{slug}`.
pub(super) async fn event_type(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((username, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    if !is_page_user(&username) {
        return api_not_found();
    }
    let q = query(raw.as_deref());
    let pages_svc = &state.services.pages;
    let et_page = match pages_svc.event_type_page(&username, &slug).await {
        Ok(p) => p,
        Err(PageError::NotFound) => return not_found(&state, &headers),
        Err(PageError::Unknown(e)) => return server_error(&state, &e),
    };
    let (zone, zone_from_url, mut notice) = invitee_zone(q.get("tz"), &et_page.zone);
    if q.contains_key("taken") {
        notice = Some(
            "Sorry, that time was booked by someone else a moment ago. Please choose another time."
                .to_owned(),
        );
    }
    let today = zone.date_of(state.clock.now());
    let date = q.get("date").and_then(|d| d.parse::<Date>().ok());
    let month = q
        .get("month")
        .and_then(|m| month_of(m))
        .or_else(|| date.map(|d| d.first_of_month()))
        .unwrap_or_else(|| today.first_of_month());
    let month_slots = match pages_svc.month(&et_page, month, &zone).await {
        Ok(m) => m,
        Err(PageError::NotFound) => return not_found(&state, &headers),
        Err(PageError::Unknown(e)) => return server_error(&state, &e),
    };
    let date = date
        .filter(|d| d.first_of_month() == month)
        .or_else(|| month_slots.days.keys().next().copied());
    let view = pages::booking::EventTypeView {
        page: &et_page,
        month: &month_slots,
        zone: &zone,
        date,
        today,
        notice: notice.as_deref(),
        zone_from_url,
        slot_base: None,
    };
    page(
        &state,
        StatusCode::OK,
        pages::booking::event_type_page(&view),
    )
}
