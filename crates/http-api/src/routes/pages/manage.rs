//! The invitee's link, `/_b/<token>` ([`super::link`]): the booking page (also the
//! confirmation after booking), its `.ics` file, cancel with a reason, and reschedule (a month
//! calendar of the event type, then a confirmation form). Cancel and reschedule go through
//! `BookingPageService::cancel` / `reschedule`, i.e. the invitee rule (allowed by the event
//! type, before its minimum notice) and then the API's `BookingService` use cases — same
//! outbox messages, same idempotency (the form's key, scoped by the hashed CSRF cookie).
//! A token names exactly one booking of one organization: no other booking can be reached
//! through it.

use super::book::{form_problem, replayed, reserve, stored};
use super::link;
use super::security::{check_csrf, csrf, csrf_refused, form_owner, page, see_other, server_error};
use super::views::{invitee_zone, query, start_param};
use crate::idempotency::{FormStart, fingerprint};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::booking_page::{InviteeBooking, InviteeChangeError, PageError};
use domain::booking_service::Idempotent;
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::IdempotencyKey;
use std::collections::HashMap;

fn link_not_found(state: &AppState) -> Response {
    page(
        state,
        StatusCode::NOT_FOUND,
        pages::booking::not_found(
            "Booking not found",
            "This booking link is not valid. Check that you copied the whole address.",
        ),
    )
}

/// The booking a link names, or the "not found" page.
async fn resolve(state: &AppState, token: &str) -> Result<(OrganizationId, BookingUid), Response> {
    link::open(state, token)
        .await?
        .ok_or_else(|| link_not_found(state))
}

async fn open(
    state: &AppState,
    token: &str,
) -> Result<(OrganizationId, BookingUid, InviteeBooking), Response> {
    let (org, uid) = resolve(state, token).await?;
    match state.services.pages.invitee_booking(org, uid).await {
        Ok(b) => Ok((org, uid, b)),
        Err(PageError::NotFound) => Err(link_not_found(state)),
        Err(PageError::Unknown(e)) => Err(server_error(state, &e)),
    }
}

fn host_name(b: &InviteeBooking) -> String {
    b.host
        .as_ref()
        .and_then(|u| {
            u.display_name()
                .or_else(|| u.username.as_ref().map(|n| n.as_str().to_owned()))
        })
        .unwrap_or_else(|| "the host".to_owned())
}

fn flash(q: &HashMap<String, String>) -> Option<&'static str> {
    if q.contains_key("booked") {
        Some("You are booked. The details are below.")
    } else if q.contains_key("moved") {
        Some("Your booking was moved to the new time.")
    } else if q.contains_key("cancelled") {
        Some("Your booking was cancelled.")
    } else {
        None
    }
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    b: &InviteeBooking,
    path: &str,
    flash: Option<&str>,
    status: StatusCode,
) -> Response {
    let Some(c) = csrf(state, headers) else {
        return server_error(state, &anyhow::anyhow!("no random numbers"));
    };
    let absolute = format!(
        "{}{path}",
        state.config.public_base_url.trim_end_matches('/')
    );
    let why_not = match (&b.cancel, &b.reschedule) {
        (Err(e), Err(_)) => Some(e.message()),
        _ => None,
    };
    let html = pages::invitee::booking_page(&pages::invitee::BookingView {
        org_name: &b.organization.name,
        booking: &b.booking,
        event_type: b.event_type.as_ref(),
        host_name: host_name(b),
        host_zone: &b.host_zone,
        path,
        absolute_url: absolute,
        flash,
        can_cancel: b.cancel.is_ok(),
        can_reschedule: b.reschedule.is_ok(),
        why_not,
        csrf: &c.token,
        idempotency_key: &uuid::Uuid::new_v4().to_string(),
    });
    let mut resp = page(state, status, html);
    if let Some(cookie) = c.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

/// `GET /_b/{token}`.
pub(super) async fn view(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (_, _, b) = match open(&state, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = query(raw.as_deref());
    render(
        &state,
        &headers,
        &b,
        &format!("/_b/{token}"),
        flash(&q),
        StatusCode::OK,
    )
}

/// `GET /_b/{token}/event.ics`.
pub(super) async fn ics(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (_, _, b) = match open(&state, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let base = state.config.public_base_url.trim_end_matches('/');
    let domain = base
        .split("://")
        .nth(1)
        .unwrap_or("slotbook")
        .split('/')
        .next()
        .unwrap_or("slotbook");
    let title = b.booking.title.clone().unwrap_or_else(|| "Meeting".into());
    let body = pages::invitee::ics(
        &b.booking,
        &title,
        &host_name(&b),
        &pages::invitee::place(&b.booking, b.event_type.as_ref()),
        &format!("{base}/_b/{token}"),
        domain,
        state.clock.now(),
    );
    let mut resp = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"booking.ics\""),
            ),
        ],
        body,
    )
        .into_response();
    super::security::apply_headers(&state, resp.headers_mut());
    resp
}

fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// Checks CSRF and reserves the form's key; `Err` is the response to send.
async fn begin(
    state: &AppState,
    headers: &HeaderMap,
    org: OrganizationId,
    action: &str,
    token: &str,
    f: &HashMap<String, String>,
) -> Result<Result<crate::idempotency::IdemGuard, BookingUid>, Response> {
    let Some(nonce) = check_csrf(state, headers, f.get("csrf_token").map(String::as_str)) else {
        return Err(csrf_refused(state, ""));
    };
    let Some(key) = f
        .get("idempotency_key")
        .filter(|k| (1..=crate::idempotency::MAX_KEY_CHARS).contains(&k.chars().count()))
        .cloned()
    else {
        return Err(csrf_refused(state, ""));
    };
    let mut fields: serde_json::Map<String, serde_json::Value> = f
        .iter()
        .filter(|(k, _)| k.as_str() != "csrf_token" && k.as_str() != "idempotency_key")
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    fields.insert("form".into(), action.into());
    let fp = fingerprint(
        "POST",
        &format!("/_b/{token}/{action}"),
        &serde_json::Value::Object(fields),
    );
    let key = IdempotencyKey {
        organization_id: org,
        owner: form_owner(&nonce),
        key,
    };
    match reserve(state, key, &fp).await {
        Ok(FormStart::Fresh(g)) => Ok(Ok(g)),
        Ok(FormStart::Replay(s)) => match replayed(&s) {
            Some(uid) => Ok(Err(uid)),
            None => Err(server_error(state, &anyhow::anyhow!("bad replay record"))),
        },
        Ok(FormStart::InProgress) => Err(form_problem(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Still working on it",
            "Your change is still being processed. Reload this page in a moment.",
        )),
        Ok(FormStart::Mismatch) => Err(form_problem(
            state,
            StatusCode::CONFLICT,
            "This form was already sent",
            "This form was already used. Go back to your booking and try again.",
        )),
        Err(e) => Err(server_error(state, &e.into())),
    }
}

fn refused(state: &AppState, e: InviteeChangeError) -> Response {
    match e {
        InviteeChangeError::NotFound => link_not_found(state),
        InviteeChangeError::Refused(r) => form_problem(
            state,
            StatusCode::CONFLICT,
            "This booking cannot be changed",
            r.message(),
        ),
        InviteeChangeError::Invalid(f) => form_problem(
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check the form",
            &f.0.iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        InviteeChangeError::SlotTaken => form_problem(
            state,
            StatusCode::CONFLICT,
            "That time is no longer free",
            "Someone booked that time a moment ago. Go back and pick another time.",
        ),
        InviteeChangeError::Busy => form_problem(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy right now",
            "Please go back and send the form again.",
        ),
        InviteeChangeError::Unknown(e) => server_error(state, &e),
    }
}

/// `POST /_b/{token}/cancel` (field `reason`, optional).
pub(super) async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let (org, uid) = match resolve(&state, &token).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let f = parse_form(&body);
    let guard = match begin(&state, &headers, org, "cancel", &token, &f).await {
        Ok(Ok(g)) => g,
        Ok(Err(_)) => return see_other(&state, &format!("/_b/{token}?cancelled=1")),
        Err(r) => return r,
    };
    let respond =
        |b: &domain::booking::Booking, _: Option<&domain::organization::User>| stored(b.uid);
    match state
        .services
        .pages
        .cancel(
            org,
            uid,
            f.get("reason").cloned(),
            Some(Idempotent {
                key: guard.key(),
                respond: &respond,
            }),
        )
        .await
    {
        Ok(_) => see_other(&state, &format!("/_b/{token}?cancelled=1")),
        Err(e) => {
            guard.release().await;
            refused(&state, e)
        }
    }
}

/// `GET /_b/{token}/reschedule`: the event type's calendar (times link to the confirmation),
/// or with `start` the confirmation form.
pub(super) async fn reschedule_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (_, _, b) = match open(&state, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = b.reschedule {
        return form_problem(
            &state,
            StatusCode::CONFLICT,
            "This booking cannot be moved",
            r.message(),
        );
    }
    let svc = &state.services.pages;
    let et_page = match svc.reschedule_page(&b).await {
        Ok(p) => p,
        Err(PageError::NotFound) => return link_not_found(&state),
        Err(PageError::Unknown(e)) => return server_error(&state, &e),
    };
    let q = query(raw.as_deref());
    let booking_zone = domain::availability::Zone::parse(&b.booking.timezone)
        .unwrap_or_else(|_| et_page.zone.clone());
    let (zone, zone_from_url, notice) = invitee_zone(q.get("tz"), &booking_zone);
    let here = format!("/_b/{token}/reschedule");
    if let Some(start) = start_param(q.get("start")) {
        let Some(c) = csrf(&state, &headers) else {
            return server_error(&state, &anyhow::anyhow!("no random numbers"));
        };
        return match svc.slot(&et_page, start).await {
            Ok(Some(slot)) => {
                let html = pages::invitee::reschedule_confirm(&pages::invitee::RescheduleConfirm {
                    org_name: &b.organization.name,
                    color: &et_page.event_type.color,
                    title: &et_page.event_type.title,
                    old_when: pages::booking::when_label(b.booking.start, b.booking.end, &zone),
                    new_when: pages::booking::when_label(slot.start, slot.end, &zone),
                    action: &here,
                    back: &format!("/_b/{token}"),
                    start: &slot.start.to_string(),
                    zone: zone.name(),
                    csrf: &c.token,
                    idempotency_key: &uuid::Uuid::new_v4().to_string(),
                });
                let mut resp = page(&state, StatusCode::OK, html);
                if let Some(cookie) = c.set_cookie {
                    resp.headers_mut().append(header::SET_COOKIE, cookie);
                }
                resp
            }
            Ok(None) => see_other(
                &state,
                &format!(
                    "{here}?tz={}&taken=1",
                    pages::booking::query_value(zone.name())
                ),
            ),
            Err(PageError::NotFound) => link_not_found(&state),
            Err(PageError::Unknown(e)) => server_error(&state, &e),
        };
    }
    let today = zone.date_of(state.clock.now());
    let date = q
        .get("date")
        .and_then(|d| d.parse::<jiff::civil::Date>().ok());
    let month = q
        .get("month")
        .and_then(|m| format!("{m}-01").parse::<jiff::civil::Date>().ok())
        .or_else(|| date.map(|d| d.first_of_month()))
        .unwrap_or_else(|| {
            zone.date_of(b.booking.start)
                .first_of_month()
                .max(today.first_of_month())
        });
    let month_slots = match svc.month(&et_page, month, &zone).await {
        Ok(m) => m,
        Err(PageError::NotFound) => return link_not_found(&state),
        Err(PageError::Unknown(e)) => return server_error(&state, &e),
    };
    // Default: the booking's own day when it has other free times, else the first free day.
    let own_day = zone.date_of(b.booking.start);
    let date = date
        .filter(|d| d.first_of_month() == month)
        .or_else(|| month_slots.days.contains_key(&own_day).then_some(own_day))
        .or_else(|| month_slots.days.keys().next().copied());
    let taken = q.contains_key("taken").then_some(
        "Sorry, that time was booked by someone else a moment ago. Please choose another time.",
    );
    let moving = format!(
        "You are moving your booking of {}. Pick a new time.",
        pages::booking::when_label(b.booking.start, b.booking.end, &zone)
    );
    let notice = notice.as_deref().or(taken).or(Some(moving.as_str()));
    let view = pages::booking::EventTypeView {
        page: &et_page,
        month: &month_slots,
        zone: &zone,
        date,
        today,
        notice,
        zone_from_url,
        slot_base: Some(here.clone()),
    };
    page(
        &state,
        StatusCode::OK,
        pages::booking::event_type_page(&view),
    )
}

/// `POST /_b/{token}/reschedule` (fields `start`, `tz`).
pub(super) async fn reschedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let (org, uid) = match resolve(&state, &token).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let f = parse_form(&body);
    let guard = match begin(&state, &headers, org, "reschedule", &token, &f).await {
        Ok(Ok(g)) => g,
        Ok(Err(new_uid)) => {
            return match link::path(&state, org, new_uid).await {
                Ok(p) => see_other(&state, &format!("{p}?moved=1")),
                Err(r) => r,
            };
        }
        Err(r) => return r,
    };
    let Some(start) = start_param(f.get("start")) else {
        guard.release().await;
        return see_other(&state, &format!("/_b/{token}/reschedule"));
    };
    let zone = f
        .get("tz")
        .and_then(|z| domain::availability::Zone::parse(z).ok())
        .unwrap_or_else(domain::availability::Zone::utc);
    let respond =
        |b: &domain::booking::Booking, _: Option<&domain::organization::User>| stored(b.uid);
    match state
        .services
        .pages
        .reschedule(
            org,
            uid,
            start,
            &zone,
            Some(Idempotent {
                key: guard.key(),
                respond: &respond,
            }),
        )
        .await
    {
        Ok(done) => match link::path(&state, org, done.booking.uid).await {
            Ok(p) => see_other(&state, &format!("{p}?moved=1")),
            Err(r) => r,
        },
        Err(InviteeChangeError::SlotTaken) => {
            guard.release().await;
            see_other(
                &state,
                &format!(
                    "/_b/{token}/reschedule?tz={}&taken=1",
                    pages::booking::query_value(zone.name())
                ),
            )
        }
        Err(e) => {
            guard.release().await;
            refused(&state, e)
        }
    }
}
