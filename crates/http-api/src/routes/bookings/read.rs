//! `GET /v1/bookings` (every §3.7 filter, keyset pages, `Link`) and `GET /v1/bookings/{uid}`
//! (with `responses` and `ETag`).

use crate::error::ApiError;
use crate::extract::{Auth, QueryParams};
use crate::routes::support::{
    bool_param, page_request, paged, parsed_param, path_id, store_page, with_etag,
};
use crate::state::AppState;
use api_types::booking::Booking as BookingDto;
use api_types::envelope::{Data, ErrorBody, Paged};
use api_types::time::DateOrInstant;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::access::Operation;
use domain::availability::Zone;
use domain::booking::BookingStatus;
use domain::booking_service::{GetBookingError, ListBookingsError};
use domain::ids::{BookingUid, UserId};
use domain::ports::{BookingQuery, BookingSort};
use jiff::Timestamp;
use uuid::Uuid;

/// The most hosts `host_user_ids` may name.
pub const MAX_HOST_FILTER: usize = 50;

fn instant_param(
    q: &QueryParams,
    name: &str,
    end_of_day: bool,
) -> Result<Option<Timestamp>, ApiError> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    let parsed = DateOrInstant::parse(v).map_err(|m| ApiError::query_param(name, m))?;
    let utc = Zone::utc();
    let t = if end_of_day {
        parsed.at_end_of_day(&utc)
    } else {
        parsed.at_start_of_day(&utc)
    };
    t.map(Some)
        .ok_or_else(|| ApiError::query_param(name, format!("{name} is out of range")))
}

/// Reads the §3.7 query parameters.
pub fn booking_query(q: &QueryParams) -> Result<BookingQuery, ApiError> {
    let sort = parsed_param(
        q,
        "sort",
        BookingSort::parse,
        "one of start_at_desc, start_at_asc, created_at_desc, created_at_asc, updated_at_asc, updated_at_desc",
    )?
    .unwrap_or_default();
    let page = page_request(q, sort.as_str(), domain::pagination::CursorKind::Instant)?;
    let mut host_user_ids = Vec::new();
    let many = q.all("host_user_ids");
    if many.is_empty() {
        if let Some(h) = q.parse_opt::<Uuid>("host_user_id", "a UUID")? {
            host_user_ids.push(UserId(h));
        }
    } else {
        if many.len() > MAX_HOST_FILTER {
            return Err(ApiError::query_param(
                "host_user_ids",
                format!("host_user_ids may name at most {MAX_HOST_FILTER} users"),
            ));
        }
        for h in many {
            let id = Uuid::parse_str(h).map_err(|_| {
                ApiError::query_param("host_user_ids", format!("'{h}' is not a UUID"))
            })?;
            host_user_ids.push(UserId(id));
        }
    }
    let mut statuses = Vec::new();
    for s in q.all("status") {
        let st = BookingStatus::parse(s).ok_or_else(|| {
            ApiError::query_param(
                "status",
                format!("status '{s}' is not one of confirmed, pending, canceled, rescheduled"),
            )
        })?;
        if !statuses.contains(&st) {
            statuses.push(st);
        }
    }
    Ok(BookingQuery {
        event_type_id: q
            .parse_opt::<Uuid>("event_type_id", "a UUID")?
            .map(Into::into),
        host_user_ids,
        attendee_email: q.get("attendee_email").map(str::to_owned),
        statuses,
        start_from: instant_param(q, "start_date", false)?,
        start_to: instant_param(q, "end_date", true)?,
        updated_since: instant_param(q, "updated_since", false)?,
        include_cancelled: bool_param(q, "include_cancelled")?.unwrap_or(true),
        sort,
        page,
    })
}

/// Lists bookings.
#[utoipa::path(
    get,
    path = "/v1/bookings",
    tag = "bookings",
    operation_id = "listBookings",
    params(
        ("limit" = Option<i64>, Query, description = "Page size 1-100 (default 20; larger values are clamped)"),
        ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page"),
        ("sort" = Option<String>, Query, description = "start_at_desc (default), start_at_asc, created_at_desc, created_at_asc, updated_at_asc, updated_at_desc"),
        ("event_type_id" = Option<Uuid>, Query, description = "Only this event type"),
        ("host_user_id" = Option<Uuid>, Query, description = "Only this host"),
        ("host_user_ids" = Option<Vec<Uuid>>, Query, description = "Any of these hosts (repeated or comma-separated, at most 50); supersedes host_user_id"),
        ("attendee_email" = Option<String>, Query, description = "Exact, case-sensitive attendee e-mail"),
        ("status" = Option<String>, Query, description = "Comma-separated: confirmed, pending, canceled (or cancelled), rescheduled"),
        ("start_date" = Option<String>, Query, description = "ISO 8601 date-time or date; inclusive lower bound on start_at"),
        ("end_date" = Option<String>, Query, description = "ISO 8601 date-time or date; inclusive upper bound on start_at"),
        ("updated_since" = Option<String>, Query, description = "ISO 8601; updated_at >= value"),
        ("include_cancelled" = Option<String>, Query, description = "\"true\" (default) or \"false\"; only used without status"),
        ("series_id" = Option<String>, Query, description = "Unreleased: occurrences of one series (none exist yet)"),
    ),
    responses(
        (status = 200, description = "A page of bookings (responses null)", body = Paged<BookingDto>,
            headers(("Link" = String, description = "RFC 8288 link to the next page when has_more"))),
        (status = 400, description = "invalid_query_param", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn list_bookings(
    State(state): State<AppState>,
    auth: Auth,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::ListBookings)?;
    let query = booking_query(&q)?;
    if q.get("series_id").is_some() {
        // Series are not implemented: no booking belongs to one.
        return Ok(paged::<BookingDto>(
            &state,
            "/v1/bookings",
            &q,
            &[],
            None,
            false,
        ));
    }
    let listed = state.bookings.list(p.organization_id, &query).await?;
    let items: Vec<BookingDto> = listed
        .page
        .items
        .iter()
        .map(|b| BookingDto::from_domain(b, listed.host_of(b), false))
        .collect();
    Ok(store_page(&state, "/v1/bookings", &q, &items, &listed.page))
}

/// Reads one booking, with `responses`, and its `ETag`.
#[utoipa::path(
    get,
    path = "/v1/bookings/{uid}",
    tag = "bookings",
    operation_id = "getBooking",
    params(("uid" = String, Path, description = "The booking's UUID; anything else is 404")),
    responses(
        (status = 200, description = "The booking", body = Data<BookingDto>,
            headers(("ETag" = String, description = "Quoted version, e.g. \"3\""))),
        (status = 401, description = "invalid_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope", body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearerAuth" = []))
)]
pub async fn get_booking(
    State(state): State<AppState>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let p = auth.authorize(Operation::GetBooking)?;
    let uid: BookingUid = path_id(path, "booking_not_found", "Booking")?;
    let h = state.bookings.get(p.organization_id, uid).await?;
    let dto = BookingDto::from_domain(&h.booking, h.host.as_ref(), true);
    Ok(with_etag(crate::envelope::ok(&dto), h.booking.version))
}

impl From<GetBookingError> for ApiError {
    fn from(e: GetBookingError) -> Self {
        match e {
            GetBookingError::NotFound => super::not_found(),
            GetBookingError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<ListBookingsError> for ApiError {
    fn from(e: ListBookingsError) -> Self {
        match e {
            ListBookingsError::Unknown(e) => ApiError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(s: &str) -> Result<BookingQuery, ApiError> {
        booking_query(&QueryParams::parse(s))
    }

    #[test]
    fn filters_parse() {
        let u1 = Uuid::from_u128(1);
        let u2 = Uuid::from_u128(2);
        let q = query(&format!(
            "status=confirmed,cancelled&host_user_ids={u1},{u2}&host_user_id={u1}&sort=created_at_asc\
             &start_date=2026-05-01&end_date=2026-05-31&include_cancelled=false"
        ))
        .unwrap();
        assert_eq!(
            q.statuses,
            vec![BookingStatus::Confirmed, BookingStatus::Canceled]
        );
        assert_eq!(q.host_user_ids, vec![UserId(u1), UserId(u2)]);
        assert_eq!(q.sort, BookingSort::CreatedAtAsc);
        assert_eq!(q.start_from.unwrap().to_string(), "2026-05-01T00:00:00Z");
        assert_eq!(q.start_to.unwrap().to_string(), "2026-05-31T23:59:59.999Z");
        assert!(!q.include_cancelled);
        let d = query("").unwrap();
        assert!(d.include_cancelled);
        assert_eq!(d.sort, BookingSort::StartAtDesc);
        let repeated = query(&format!("host_user_ids={u1}&host_user_ids={u2}")).unwrap();
        assert_eq!(repeated.host_user_ids.len(), 2);
    }

    #[test]
    fn bad_filters_name_the_param() {
        for (s, param) in [
            ("sort=newest", "sort"),
            ("status=done", "status"),
            ("start_date=yesterday", "start_date"),
            ("end_date=2026-02-30", "end_date"),
            ("updated_since=1", "updated_since"),
            ("event_type_id=x", "event_type_id"),
            ("host_user_ids=x", "host_user_ids"),
            ("host_user_id=x", "host_user_id"),
            ("include_cancelled=1", "include_cancelled"),
        ] {
            let e = query(s).unwrap_err();
            assert_eq!(e.code, "invalid_query_param", "{s}");
            assert_eq!(e.details["param"], param, "{s}");
        }
        let many: Vec<String> = (0..51).map(|i| Uuid::from_u128(i).to_string()).collect();
        let e = query(&format!("host_user_ids={}", many.join(","))).unwrap_err();
        assert_eq!(e.details["param"], "host_user_ids");
    }
}
