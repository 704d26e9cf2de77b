//! Booking rows: the mapping between [`Booking`] and the `bookings` table, and the insert and
//! optimistic update statements shared by the booking transaction.
//!
//! Never writes a booking without its `blocked` range and `slot_key`: the exclusion constraint
//! `bookings_no_overlap` depends on both.

use crate::{json, ts, ts_opt, unknown};
use anyhow::anyhow;
use domain::booking::{Booking, BookingStatus, CalendarSyncStatus, Utm};
use domain::ids::{BookingUid, EventTypeId, OrganizationId, UserId};
use domain::interval::Interval;
use domain::ports::{BookingWriteError, NewBookingWrite, StoreError};
use jiff::Timestamp;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

/// Name of the exclusion constraint that forbids double booking.
pub(crate) const NO_OVERLAP: &str = "bookings_no_overlap";

pub(crate) const BOOKING_COLUMNS: &str = "organization_id, uid, version, event_type_id, \
     event_type_slug, title, status, start_at, end_at, lower(blocked) AS blocked_start, \
     upper(blocked) AS blocked_end, timezone, host_user_id, attendees, guests, location, \
     metadata, responses, utm_source, utm_medium, utm_campaign, calendar_sync_status, \
     calendar_event_id, rescheduled_from_uid, reschedule_generation, cancelled_at, \
     cancellation_reason, no_show_at, no_show_reason, rescheduled_at, created_at, updated_at";

const VALUE_COLUMNS: &str = "version, event_type_id, event_type_slug, title, status, start_at, \
     end_at, blocked, timezone, host_user_id, attendees, guests, location, metadata, responses, \
     utm_source, utm_medium, utm_campaign, calendar_sync_status, calendar_event_id, \
     rescheduled_from_uid, reschedule_generation, cancelled_at, cancellation_reason, no_show_at, \
     no_show_reason, rescheduled_at, created_at, updated_at";

fn instant(r: &PgRow, col: &str) -> Result<Timestamp, StoreError> {
    Ok(r.try_get::<jiff_sqlx::Timestamp, _>(col)
        .map_err(unknown)?
        .to_jiff())
}

fn opt_instant(r: &PgRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(col)
        .map_err(unknown)?
        .map(|t| t.to_jiff()))
}

pub(crate) fn booking_from_row(r: &PgRow) -> Result<Booking, StoreError> {
    let status: String = r.try_get("status").map_err(unknown)?;
    let sync: String = r.try_get("calendar_sync_status").map_err(unknown)?;
    let blocked = Interval::new(instant(r, "blocked_start")?, instant(r, "blocked_end")?)
        .ok_or_else(|| unknown(anyhow!("stored blocked range is empty")))?;
    let location: Option<Value> = r.try_get("location").map_err(unknown)?;
    let metadata: Option<Value> = r.try_get("metadata").map_err(unknown)?;
    let responses: Option<Value> = r.try_get("responses").map_err(unknown)?;
    Ok(Booking {
        uid: BookingUid(r.try_get("uid").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        version: r.try_get("version").map_err(unknown)?,
        event_type_id: EventTypeId(r.try_get("event_type_id").map_err(unknown)?),
        event_type_slug: r.try_get("event_type_slug").map_err(unknown)?,
        title: r.try_get("title").map_err(unknown)?,
        status: BookingStatus::parse(&status)
            .ok_or_else(|| unknown(anyhow!("stored status {status:?}")))?,
        start: instant(r, "start_at")?,
        end: instant(r, "end_at")?,
        blocked,
        timezone: r.try_get("timezone").map_err(unknown)?,
        host_user_id: UserId(r.try_get("host_user_id").map_err(unknown)?),
        attendees: json::attendees_from_json(r.try_get("attendees").map_err(unknown)?)
            .map_err(unknown)?,
        guests: json::strings_from_json(r.try_get("guests").map_err(unknown)?).map_err(unknown)?,
        location: location
            .map(json::location_from_json)
            .transpose()
            .map_err(unknown)?,
        metadata: metadata
            .map(json::metadata_from_json)
            .transpose()
            .map_err(unknown)?,
        responses: responses.as_ref().map(json::raw_from_json),
        utm: Utm {
            source: r.try_get("utm_source").map_err(unknown)?,
            medium: r.try_get("utm_medium").map_err(unknown)?,
            campaign: r.try_get("utm_campaign").map_err(unknown)?,
        },
        calendar_sync_status: CalendarSyncStatus::parse(&sync)
            .ok_or_else(|| unknown(anyhow!("stored calendar sync status {sync:?}")))?,
        calendar_event_id: r.try_get("calendar_event_id").map_err(unknown)?,
        rescheduled_from_uid: r
            .try_get::<Option<uuid::Uuid>, _>("rescheduled_from_uid")
            .map_err(unknown)?
            .map(BookingUid),
        reschedule_generation: r.try_get("reschedule_generation").map_err(unknown)?,
        cancelled_at: opt_instant(r, "cancelled_at")?,
        cancellation_reason: r.try_get("cancellation_reason").map_err(unknown)?,
        no_show_at: opt_instant(r, "no_show_at")?,
        no_show_reason: r.try_get("no_show_reason").map_err(unknown)?,
        rescheduled_at: opt_instant(r, "rescheduled_at")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// Pushes the values of [`VALUE_COLUMNS`], comma-separated, as binds.
fn push_values(b: &mut QueryBuilder<Postgres>, bk: &Booking) -> Result<(), StoreError> {
    let metadata = bk
        .metadata
        .as_ref()
        .map(json::metadata_to_json)
        .transpose()
        .map_err(unknown)?;
    let responses = bk
        .responses
        .as_ref()
        .map(json::raw_to_json)
        .transpose()
        .map_err(unknown)?;
    b.push_bind(bk.version);
    b.push(", ");
    b.push_bind(bk.event_type_id.0);
    b.push(", ");
    b.push_bind(bk.event_type_slug.clone());
    b.push(", ");
    b.push_bind(bk.title.clone());
    b.push(", ");
    b.push_bind(bk.status.as_str());
    b.push(", ");
    b.push_bind(ts(bk.start));
    b.push(", ");
    b.push_bind(ts(bk.end));
    b.push(", tstzrange(");
    b.push_bind(ts(bk.blocked.start()));
    b.push(", ");
    b.push_bind(ts(bk.blocked.end()));
    b.push(", '[)'), ");
    b.push_bind(bk.timezone.clone());
    b.push(", ");
    b.push_bind(bk.host_user_id.0);
    b.push(", ");
    b.push_bind(json::attendees_to_json(&bk.attendees));
    b.push(", ");
    b.push_bind(json::strings_to_json(&bk.guests));
    b.push(", ");
    b.push_bind(bk.location.as_ref().map(json::location_to_json));
    b.push(", ");
    b.push_bind(metadata);
    b.push(", ");
    b.push_bind(responses);
    b.push(", ");
    b.push_bind(bk.utm.source.clone());
    b.push(", ");
    b.push_bind(bk.utm.medium.clone());
    b.push(", ");
    b.push_bind(bk.utm.campaign.clone());
    b.push(", ");
    b.push_bind(bk.calendar_sync_status.as_str());
    b.push(", ");
    b.push_bind(bk.calendar_event_id.clone());
    b.push(", ");
    b.push_bind(bk.rescheduled_from_uid.map(|u| u.0));
    b.push(", ");
    b.push_bind(bk.reschedule_generation);
    b.push(", ");
    b.push_bind(ts_opt(bk.cancelled_at));
    b.push(", ");
    b.push_bind(bk.cancellation_reason.clone());
    b.push(", ");
    b.push_bind(ts_opt(bk.no_show_at));
    b.push(", ");
    b.push_bind(bk.no_show_reason.clone());
    b.push(", ");
    b.push_bind(ts_opt(bk.rescheduled_at));
    b.push(", ");
    b.push_bind(ts(bk.created_at));
    b.push(", ");
    b.push_bind(ts(bk.updated_at));
    Ok(())
}

/// The exclusion key: seats of one group slot share it, everything else is unique.
pub(crate) fn slot_key(bk: &Booking, shares_seats: bool) -> String {
    if shares_seats {
        format!("{}/{}", bk.event_type_id.0, bk.start.as_millisecond())
    } else {
        bk.uid.0.to_string()
    }
}

/// Maps a write error: the exclusion constraint → `SlotUnavailable`, lock timeouts →
/// `LockTimeout`.
pub(crate) fn write_error(e: sqlx::Error) -> BookingWriteError {
    match crate::db_error(&e) {
        Some((code, constraint))
            if code == "23P01" && constraint.as_deref() == Some(NO_OVERLAP) =>
        {
            BookingWriteError::SlotUnavailable
        }
        Some((code, _)) if code == "55P03" => BookingWriteError::LockTimeout,
        _ => BookingWriteError::Unknown(crate::classify(e)),
    }
}

pub(crate) async fn insert_booking(
    conn: &mut PgConnection,
    bk: &Booking,
    shares_seats: bool,
) -> Result<(), BookingWriteError> {
    let mut b = QueryBuilder::<Postgres>::new(format!(
        "INSERT INTO bookings (organization_id, uid, slot_key, {VALUE_COLUMNS}) VALUES ("
    ));
    b.push_bind(bk.organization_id.0);
    b.push(", ");
    b.push_bind(bk.uid.0);
    b.push(", ");
    b.push_bind(slot_key(bk, shares_seats));
    b.push(", ");
    push_values(&mut b, bk)?;
    b.push(")");
    b.build().execute(conn).await.map_err(write_error)?;
    Ok(())
}

/// [`domain::ports::BookingTx::commit_new_booking`]'s writes as one statement: the booking
/// insert (the exclusion constraint refuses an overlap and fails the whole statement), its outbox
/// message and, when given, the replay record of its idempotency key.
pub(crate) async fn insert_new_booking(
    conn: &mut PgConnection,
    w: &NewBookingWrite<'_>,
) -> Result<(), BookingWriteError> {
    let bk = w.booking;
    let mut b = QueryBuilder::<Postgres>::new(format!(
        "WITH new_booking AS (INSERT INTO bookings (organization_id, uid, slot_key, \
         {VALUE_COLUMNS}) VALUES ("
    ));
    b.push_bind(bk.organization_id.0);
    b.push(", ");
    b.push_bind(bk.uid.0);
    b.push(", ");
    b.push_bind(slot_key(bk, w.shares_seats));
    b.push(", ");
    push_values(&mut b, bk)?;
    let m = w.message;
    b.push(
        ")), new_message AS (INSERT INTO outbox (organization_id, id, event, payload, created_at) \
         VALUES (",
    );
    b.push_bind(m.organization_id.0);
    b.push(", ");
    b.push_bind(m.id.0);
    b.push(", ");
    b.push_bind(m.event.clone());
    b.push(", ");
    b.push_bind(m.payload.clone());
    b.push(", ");
    b.push_bind(ts(m.created_at));
    b.push("))");
    if let Some((reserved, record)) = w.replay {
        let key = &reserved.key;
        b.push(", replay AS (UPDATE idempotency_keys SET response_body = ");
        b.push_bind(record.0.clone());
        b.push(" WHERE organization_id = ");
        b.push_bind(key.organization_id.0);
        b.push(" AND owner = ");
        b.push_bind(key.owner.clone());
        b.push(" AND key = ");
        b.push_bind(key.key.clone());
        b.push(" AND nonce = ");
        b.push_bind(reserved.nonce.0);
        b.push(" AND response_body IS NULL RETURNING 1)");
        b.push(" SELECT count(*) FROM replay");
    } else {
        b.push(" SELECT 1::bigint");
    }
    let completed: i64 = b
        .build_query_scalar()
        .fetch_one(conn)
        .await
        .map_err(write_error)?;
    if completed == 0 {
        // The reservation is no longer this request's (taken over after its lease, or
        // released): the caller drops the transaction, so nothing of the unit commits.
        return Err(StoreError::reservation_lost().into());
    }
    Ok(())
}

pub(crate) async fn update_booking(
    conn: &mut PgConnection,
    bk: &Booking,
    expected_version: i64,
) -> Result<(), BookingWriteError> {
    let mut b =
        QueryBuilder::<Postgres>::new(format!("UPDATE bookings SET ({VALUE_COLUMNS}) = ROW("));
    push_values(&mut b, bk)?;
    b.push(") WHERE organization_id = ");
    b.push_bind(bk.organization_id.0);
    b.push(" AND uid = ");
    b.push_bind(bk.uid.0);
    b.push(" AND version = ");
    b.push_bind(expected_version);
    let done = b.build().execute(conn).await.map_err(write_error)?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(BookingWriteError::VersionConflict)
    }
}

pub(crate) async fn get_booking(
    conn: &mut PgConnection,
    org: OrganizationId,
    uid: BookingUid,
) -> Result<Option<Booking>, StoreError> {
    let sql =
        format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE organization_id = $1 AND uid = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.0)
        .bind(uid.0)
        .fetch_optional(conn)
        .await
        .map_err(unknown)?;
    row.as_ref().map(booking_from_row).transpose()
}
