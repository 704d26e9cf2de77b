//! [`BookingStore`]: booking reads, the filtered and keyset-paginated list, and the entry into a
//! booking write ([`BookingStore::begin`] → [`crate::SqliteBookingTx`]).
//!
//! Attendee e-mails are mirrored into `booking_attendees` by triggers, so the exact,
//! case-sensitive `attendee_email` filter matches any attendee through an index.

use crate::codec::{
    Result, attendees_from_json, col, corrupt, guests_from_json, location_from_json,
    metadata_from_json, ms, opt_ts_col, ts, ts_col, uuid_col,
};
use crate::tx::SqliteBookingTx;
use crate::{SqliteStore, WriteBeginError, db_err, push_keyset};
use async_trait::async_trait;
use domain::booking::{Booking, BookingStatus, CalendarSyncStatus, RawJson, Utm};
use domain::event_type::EventType;
use domain::ids::{BookingUid, EventTypeId, OrganizationId};
use domain::interval::Interval;
use domain::pagination::{Cursor, CursorValue, Page};
use domain::ports::{BookingQuery, BookingSort, BookingStore, BookingTx, BookingWriteError};
use domain::slots::{InputRanges, SlotInputs};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

pub(crate) const COLUMNS: &str = "b.organization_id, b.uid, b.version, b.event_type_id, \
     b.event_type_slug, b.title, b.status, b.start_at, b.end_at, b.blocked_start, \
     b.blocked_end, b.timezone, b.host_user_id, b.attendees, b.guests, b.location, b.metadata, \
     b.responses, b.utm_source, b.utm_medium, b.utm_campaign, b.calendar_sync_status, \
     b.calendar_event_id, b.rescheduled_from_uid, b.reschedule_generation, b.cancelled_at, \
     b.cancellation_reason, b.no_show_at, b.no_show_reason, b.rescheduled_at, b.created_at, \
     b.updated_at";

/// The statuses that hold a host's time, as an SQL list.
pub(crate) const HOLDS_TIME: &str = "('confirmed', 'pending')";

pub(crate) fn booking_of(row: &SqliteRow) -> Result<Booking> {
    let status: String = col(row, "status")?;
    let sync: String = col(row, "calendar_sync_status")?;
    let attendees: String = col(row, "attendees")?;
    let guests: String = col(row, "guests")?;
    let location: Option<String> = col(row, "location")?;
    let metadata: Option<String> = col(row, "metadata")?;
    let responses: Option<String> = col(row, "responses")?;
    let blocked_start = ts(col(row, "blocked_start")?)?;
    let blocked_end = ts(col(row, "blocked_end")?)?;
    let rescheduled_from: Option<uuid::Uuid> = col(row, "rescheduled_from_uid")?;
    Ok(Booking {
        uid: uuid_col(row, "uid")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        version: col(row, "version")?,
        event_type_id: uuid_col(row, "event_type_id")?.into(),
        event_type_slug: col(row, "event_type_slug")?,
        title: col(row, "title")?,
        status: BookingStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("booking status '{status}'")))?,
        start: ts_col(row, "start_at")?,
        end: ts_col(row, "end_at")?,
        blocked: Interval::new(blocked_start, blocked_end)
            .ok_or_else(|| corrupt("empty blocked interval"))?,
        timezone: col(row, "timezone")?,
        host_user_id: uuid_col(row, "host_user_id")?.into(),
        attendees: attendees_from_json(&attendees)?,
        guests: guests_from_json(&guests)?,
        location: location_from_json(location.as_deref())?,
        metadata: metadata_from_json(metadata.as_deref())?,
        responses: responses.map(RawJson),
        utm: Utm {
            source: col(row, "utm_source")?,
            medium: col(row, "utm_medium")?,
            campaign: col(row, "utm_campaign")?,
        },
        calendar_sync_status: CalendarSyncStatus::parse(&sync)
            .ok_or_else(|| corrupt(format!("calendar sync status '{sync}'")))?,
        calendar_event_id: col(row, "calendar_event_id")?,
        rescheduled_from_uid: rescheduled_from.map(BookingUid),
        reschedule_generation: col(row, "reschedule_generation")?,
        cancelled_at: opt_ts_col(row, "cancelled_at")?,
        cancellation_reason: col(row, "cancellation_reason")?,
        no_show_at: opt_ts_col(row, "no_show_at")?,
        no_show_reason: col(row, "no_show_reason")?,
        rescheduled_at: opt_ts_col(row, "rescheduled_at")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

/// One booking of `org`, on any connection.
pub(crate) async fn load_booking(
    conn: &mut SqliteConnection,
    org: OrganizationId,
    uid: BookingUid,
) -> Result<Option<Booking>> {
    let sql = format!("SELECT {COLUMNS} FROM bookings b WHERE b.organization_id = ? AND b.uid = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_uuid())
        .bind(uid.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err("reading booking"))?;
    row.as_ref().map(booking_of).transpose()
}

fn sort_key(sort: BookingSort) -> (&'static str, bool) {
    match sort {
        BookingSort::StartAtDesc => ("b.start_at", true),
        BookingSort::StartAtAsc => ("b.start_at", false),
        BookingSort::CreatedAtDesc => ("b.created_at", true),
        BookingSort::CreatedAtAsc => ("b.created_at", false),
        BookingSort::UpdatedAtAsc => ("b.updated_at", false),
        BookingSort::UpdatedAtDesc => ("b.updated_at", true),
    }
}

fn sort_value(sort: BookingSort, b: &Booking) -> Timestamp {
    match sort {
        BookingSort::StartAtDesc | BookingSort::StartAtAsc => b.start,
        BookingSort::CreatedAtDesc | BookingSort::CreatedAtAsc => b.created_at,
        BookingSort::UpdatedAtAsc | BookingSort::UpdatedAtDesc => b.updated_at,
    }
}

#[async_trait]
impl BookingStore for SqliteStore {
    async fn get_booking(&self, org: OrganizationId, uid: BookingUid) -> Result<Option<Booking>> {
        let mut conn = self
            .pool()
            .acquire()
            .await
            .map_err(db_err("acquiring a connection"))?;
        load_booking(&mut conn, org, uid).await
    }

    async fn list_bookings(
        &self,
        org: OrganizationId,
        query: &BookingQuery,
    ) -> Result<Page<Booking>> {
        let (key, desc) = sort_key(query.sort);
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM bookings b WHERE b.organization_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(et) = query.event_type_id {
            qb.push(" AND b.event_type_id = ").push_bind(et.as_uuid());
        }
        if !query.host_user_ids.is_empty() {
            qb.push(" AND b.host_user_id IN (");
            let mut sep = qb.separated(", ");
            for h in &query.host_user_ids {
                sep.push_bind(h.as_uuid());
            }
            qb.push(")");
        }
        if let Some(email) = &query.attendee_email {
            qb.push(
                " AND EXISTS (SELECT 1 FROM booking_attendees a \
                 WHERE a.organization_id = b.organization_id AND a.booking_uid = b.uid \
                 AND a.email = ",
            )
            .push_bind(email.clone())
            .push(")");
        }
        if let [only] = query.statuses.as_slice() {
            // A literal, not a bind: SQLite uses the partial index `bookings_canceled_start`
            // (migration 0010) only for a WHERE that names `status = 'canceled'` itself.
            qb.push(format!(" AND b.status = '{}'", only.as_str()));
        } else if !query.statuses.is_empty() {
            qb.push(" AND b.status IN (");
            let mut sep = qb.separated(", ");
            for s in &query.statuses {
                sep.push_bind(s.as_str());
            }
            qb.push(")");
        } else if !query.include_cancelled {
            qb.push(" AND b.status <> ")
                .push_bind(BookingStatus::Canceled.as_str());
        }
        if let Some(t) = query.start_from {
            qb.push(" AND b.start_at >= ").push_bind(ms(t));
        }
        if let Some(t) = query.start_to {
            qb.push(" AND b.start_at <= ").push_bind(ms(t));
        }
        if let Some(t) = query.updated_since {
            qb.push(" AND b.updated_at >= ").push_bind(ms(t));
        }
        push_keyset(&mut qb, key, "b.uid", desc, &query.page);
        let rows = qb
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing bookings"))?;
        let items = rows.iter().map(booking_of).collect::<Result<Vec<_>>>()?;
        let sort = query.sort;
        Ok(Page::from_overfetch(items, query.page.limit, |b| Cursor {
            sort: sort.as_str().to_owned(),
            value: CursorValue::Int(ms(sort_value(sort, b))),
            id: b.uid.as_uuid(),
        }))
    }

    async fn slot_inputs(
        &self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs> {
        self.sync_reads().read("reading slot inputs", |c| {
            crate::slot_inputs::read(c, event_type, ranges, now)
        })
    }

    async fn begin(
        &self,
        org: OrganizationId,
        _event_type: EventTypeId,
    ) -> std::result::Result<Box<dyn BookingTx>, BookingWriteError> {
        let w = self.begin_write().await.map_err(|e| match e {
            WriteBeginError::Lock => BookingWriteError::LockTimeout,
            WriteBeginError::Other(e) => BookingWriteError::Unknown(e),
        })?;
        Ok(Box::new(SqliteBookingTx::new(org, w)))
    }
}
