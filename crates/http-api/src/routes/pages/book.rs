//! `GET|POST /{username}/{slug}/book?start=…&tz=…`: the booking form and its submission.
//!
//! The form carries a CSRF token bound to the browser's cookie ([`super::security::csrf`]) and
//! an idempotency key minted when the form is shown. A submission reserves that key (scoped by
//! the organization and the hashed cookie, fingerprinted over the submitted fields) exactly as
//! `POST /v1/bookings` reserves its `Idempotency-Key`, then calls
//! [`domain::booking_page::BookingPageService::book`], which books through
//! `BookingService::create` — the API's use case, so the booking, its `booking.created` outbox
//! message and the replay record commit in one transaction. A double submit therefore makes one
//! booking: the second request waits (bounded) for the first and is sent to the same page.
//!
//! Outcomes: `303` to the invitee's link (`/_b/<token>?booked=1`); the form again with each
//! error next to its field (`422`); `303` back to the day with a message when the time was
//! taken meanwhile; `403` when the CSRF token is wrong.

use super::link;
use super::security::{check_csrf, csrf, csrf_refused, form_owner, not_found, page, see_other};
use super::views::{invitee_zone, query, start_param};
use super::{api_not_found, is_page_user};
use crate::idempotency::{FormStart, begin_form, fingerprint};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use domain::availability::Zone;
use domain::booking_page::{Answer, EventTypePage, InviteeForm, PageBookingError, PageError};
use domain::booking_service::Idempotent;
use domain::ports::{IdempotencyKey, ReplayRecord};
use domain::validate::FieldErrors;
use jiff::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

/// How long a double submit waits for the first submission to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
const WAIT_STEP: Duration = Duration::from_millis(50);

async fn load(
    state: &AppState,
    headers: &HeaderMap,
    username: &str,
    slug: &str,
) -> Result<EventTypePage, Response> {
    if !is_page_user(username) {
        return Err(api_not_found());
    }
    match state.services.pages.event_type_page(username, slug).await {
        Ok(p) => Ok(p),
        Err(PageError::NotFound) => Err(not_found(state, headers)),
        Err(PageError::Unknown(e)) => Err(super::security::server_error(state, &e)),
    }
}

/// The day view to send an invitee back to, with a message flag.
fn back_to_day(page: &EventTypePage, start: Timestamp, zone: &Zone, flag: &str) -> String {
    let date = zone.date_of(start);
    format!(
        "{}?month={}&date={date}&tz={}{flag}",
        pages::booking::event_type_path(page),
        date.strftime("%Y-%m"),
        pages::booking::query_value(zone.name()),
    )
}

struct Shown<'a> {
    page: &'a EventTypePage,
    start: Timestamp,
    end: Timestamp,
    zone: &'a Zone,
    values: &'a HashMap<String, String>,
    errors: &'a FieldErrors,
    notice: Option<&'a str>,
    key: &'a str,
}

fn show(state: &AppState, headers: &HeaderMap, status: StatusCode, s: &Shown<'_>) -> Response {
    let Some(c) = csrf(state, headers) else {
        return super::security::server_error(state, &anyhow::anyhow!("no random numbers"));
    };
    let html = pages::invitee::book_page(&pages::invitee::BookForm {
        page: s.page,
        start: s.start,
        end: s.end,
        zone: s.zone,
        csrf: &c.token,
        idempotency_key: s.key,
        values: s.values,
        errors: s.errors,
        notice: s.notice,
    });
    let mut resp = page(state, status, html);
    if let Some(cookie) = c.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

/// `GET /{username}/{slug}/book`.
pub(super) async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((username, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let et_page = match load(&state, &headers, &username, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let q = query(raw.as_deref());
    let (zone, _, _) = invitee_zone(q.get("tz"), &et_page.zone);
    let Some(start) = start_param(q.get("start")) else {
        return see_other(&state, &pages::booking::event_type_path(&et_page));
    };
    match state.services.pages.slot(&et_page, start).await {
        Ok(Some(slot)) => show(
            &state,
            &headers,
            StatusCode::OK,
            &Shown {
                page: &et_page,
                start: slot.start,
                end: slot.end,
                zone: &zone,
                values: &HashMap::new(),
                errors: &FieldErrors::default(),
                notice: None,
                key: &uuid::Uuid::new_v4().to_string(),
            },
        ),
        Ok(None) => see_other(&state, &back_to_day(&et_page, start, &zone, "&taken=1")),
        Err(PageError::NotFound) => not_found(&state, &headers),
        Err(PageError::Unknown(e)) => super::security::server_error(&state, &e),
    }
}

/// The submitted fields (the first of repeated names; `guests` split into lines).
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

fn invitee_form(page: &EventTypePage, f: &HashMap<String, String>) -> InviteeForm {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut answers = std::collections::BTreeMap::new();
    for q in &page.event_type.questions {
        let name = domain::booking_page::question_field(q);
        let kind = domain::booking_page::QuestionKind::of(q);
        if kind == domain::booking_page::QuestionKind::Checkbox {
            answers.insert(q.key.clone(), Answer::Bool(f.contains_key(&name)));
        } else if let Some(v) = f.get(&name) {
            answers.insert(q.key.clone(), Answer::Text(v.clone()));
        }
    }
    InviteeForm {
        name: get("name"),
        email: get("email"),
        guests: get("guests")
            .split(['\n', ',', ';'])
            .map(str::to_owned)
            .collect(),
        answers,
    }
}

/// The replay record of a page write: the booking it led to.
pub(super) fn stored(uid: domain::ids::BookingUid) -> ReplayRecord {
    ReplayRecord(format!("{{\"booking_uid\":\"{uid}\"}}"))
}

/// The booking a replay record names.
pub(super) fn replayed(s: &ReplayRecord) -> Option<domain::ids::BookingUid> {
    let v: serde_json::Value = serde_json::from_str(&s.0).ok()?;
    let uid = v.get("booking_uid")?.as_str()?.parse().ok()?;
    Some(domain::ids::BookingUid(uid))
}

/// Reserves the form's key; waits (bounded) while another request holds it.
pub(super) async fn reserve(
    state: &AppState,
    key: IdempotencyKey,
    fp: &str,
) -> Result<FormStart, domain::ports::StoreError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        match begin_form(state, key.clone(), fp).await? {
            FormStart::InProgress if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(WAIT_STEP).await;
            }
            other => return Ok(other),
        }
    }
}

/// A page explaining a form that cannot be processed (expired, reused, busy).
pub(super) fn form_problem(
    state: &AppState,
    status: StatusCode,
    heading: &str,
    msg: &str,
) -> Response {
    page(state, status, pages::booking::not_found(heading, msg))
}

/// `POST /{username}/{slug}/book`.
pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((username, slug)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let et_page = match load(&state, &headers, &username, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let f = parse_form(&body);
    let Some(nonce) = check_csrf(&state, &headers, f.get("csrf_token").map(String::as_str)) else {
        return csrf_refused(&state, &pages::booking::event_type_path(&et_page));
    };
    let (zone, _, _) = invitee_zone(f.get("tz"), &et_page.zone);
    let Some(start) = start_param(f.get("start")) else {
        return see_other(&state, &pages::booking::event_type_path(&et_page));
    };
    let key = f
        .get("idempotency_key")
        .filter(|k| (1..=crate::idempotency::MAX_KEY_CHARS).contains(&k.chars().count()))
        .cloned();
    let Some(key) = key else {
        return csrf_refused(&state, &pages::booking::event_type_path(&et_page));
    };
    let mut fields: serde_json::Map<String, serde_json::Value> = f
        .iter()
        .filter(|(k, _)| k.as_str() != "csrf_token" && k.as_str() != "idempotency_key")
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    fields.insert("form".into(), "book".into());
    let path = format!("{}/book", pages::booking::event_type_path(&et_page));
    let fp = fingerprint("POST", &path, &serde_json::Value::Object(fields));
    let idem_key = IdempotencyKey {
        organization_id: et_page.organization_id(),
        owner: form_owner(&nonce),
        key: key.clone(),
    };
    let guard = match reserve(&state, idem_key, &fp).await {
        Ok(FormStart::Fresh(g)) => g,
        Ok(FormStart::Replay(s)) => {
            return match replayed(&s) {
                Some(uid) => match link::path(&state, et_page.organization_id(), uid).await {
                    Ok(p) => see_other(&state, &format!("{p}?booked=1")),
                    Err(r) => r,
                },
                None => {
                    super::security::server_error(&state, &anyhow::anyhow!("bad replay record"))
                }
            };
        }
        Ok(FormStart::InProgress) => {
            return form_problem(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                "Still working on it",
                "Your booking is still being processed. Reload this page in a moment.",
            );
        }
        Ok(FormStart::Mismatch) => {
            return form_problem(
                &state,
                StatusCode::CONFLICT,
                "This form was already sent",
                "This form was already used for a booking. Go back to the calendar to book another time.",
            );
        }
        Err(e) => return super::security::server_error(&state, &e.into()),
    };
    let respond =
        |b: &domain::booking::Booking, _: Option<&domain::organization::User>| stored(b.uid);
    let result = state
        .services
        .pages
        .book(
            &et_page,
            start,
            &zone,
            invitee_form(&et_page, &f),
            Some(Idempotent {
                key: guard.key(),
                respond: &respond,
            }),
        )
        .await;
    match result {
        Ok(done) => match link::path(&state, et_page.organization_id(), done.booking.uid).await {
            Ok(p) => see_other(&state, &format!("{p}?booked=1")),
            Err(r) => r,
        },
        Err(e) => {
            guard.release().await;
            match e {
                PageBookingError::Invalid(errors) => {
                    let end = start
                        .checked_add(et_page.event_type.duration())
                        .unwrap_or(start);
                    show(
                        &state,
                        &headers,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &Shown {
                            page: &et_page,
                            start,
                            end,
                            zone: &zone,
                            values: &f,
                            errors: &errors,
                            notice: None,
                            key: &key,
                        },
                    )
                }
                PageBookingError::SlotTaken => {
                    see_other(&state, &back_to_day(&et_page, start, &zone, "&taken=1"))
                }
                PageBookingError::NotFound => not_found(&state, &headers),
                PageBookingError::Busy => form_problem(
                    &state,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Busy right now",
                    "Many people are booking right now. Go back and send the form again.",
                ),
                PageBookingError::Unknown(e) => super::security::server_error(&state, &e),
            }
        }
    }
}
