//! [`BookingStore`] and [`BookingTx`] on PostgreSQL.
//!
//! A booking write is one transaction that first takes a transaction-scoped advisory lock on
//! the event type (so seat capacity, per-period limits and the slot re-decision are serialised
//! per event type), with `lock_timeout` bounding the wait. Overlaps across event types are
//! refused by the exclusion constraint `bookings_no_overlap`. Never commits implicitly: a
//! dropped transaction rolls back.

use crate::booking_rows::{self, BOOKING_COLUMNS, booking_from_row};
use crate::outbox::insert_outbox;
use crate::{PgStore, db_error, slot_inputs, ts, unknown};
use async_trait::async_trait;
use domain::booking::Booking;
use domain::event_type::EventType;
use domain::ids::{BookingUid, EventTypeId, OrganizationId};
use domain::pagination::{Cursor, CursorValue, Page};
use domain::ports::{
    BookingQuery, BookingSort, BookingStore, BookingTx, BookingWriteError, NewBookingWrite,
    OutboxMessage, ReplayRecord, ReservedKey, StoreError,
};
use domain::slots::{InputRanges, SlotInputs};
use jiff::Timestamp;
use sqlx::{PgConnection, Postgres, QueryBuilder, Transaction};
use std::time::Duration;

/// The advisory-lock key of an event type: both UUIDs folded into 64 bits. A collision only
/// serialises two unrelated writers; it never lets two writers of one event type through.
pub(crate) fn event_type_lock_key(org: OrganizationId, id: EventTypeId) -> i64 {
    let fold = |u: uuid::Uuid| {
        let (hi, lo) = u.as_u64_pair();
        hi ^ lo
    };
    let mixed = fold(id.0) ^ fold(org.0).rotate_left(17);
    i64::from_ne_bytes(mixed.to_ne_bytes())
}

/// Sets the transaction's lock timeout and takes the event type's advisory lock.
pub(crate) async fn lock_event_type(
    conn: &mut PgConnection,
    org: OrganizationId,
    id: EventTypeId,
    timeout: Duration,
) -> Result<(), BookingWriteError> {
    // One round trip: the lock timeout (transaction-local) is set before the lock is taken.
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
    sqlx::query(
        "SELECT pg_advisory_xact_lock($2) \
         FROM (SELECT set_config('lock_timeout', $1, true)) AS timeout_set",
    )
    .bind(format!("{ms}ms"))
    .bind(event_type_lock_key(org, id))
    .execute(&mut *conn)
    .await
    .map_err(booking_rows::write_error)?;
    Ok(())
}

/// One booking write in progress.
struct PgBookingTx {
    org: OrganizationId,
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl BookingTx for PgBookingTx {
    async fn slot_inputs(
        &mut self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError> {
        if event_type.organization_id != self.org {
            return Err(unknown(anyhow::anyhow!(
                "event type belongs to another organization"
            )));
        }
        slot_inputs::load(&mut self.tx, event_type, ranges, now).await
    }

    async fn get_booking(&mut self, uid: BookingUid) -> Result<Option<Booking>, StoreError> {
        booking_rows::get_booking(&mut self.tx, self.org, uid).await
    }

    async fn insert_booking(
        &mut self,
        booking: &Booking,
        shares_seats: bool,
    ) -> Result<(), BookingWriteError> {
        if booking.organization_id != self.org {
            return Err(BookingWriteError::Unknown(anyhow::anyhow!(
                "booking belongs to another organization"
            )));
        }
        booking_rows::insert_booking(&mut self.tx, booking, shares_seats).await
    }

    async fn update_booking(
        &mut self,
        booking: &Booking,
        expected_version: i64,
    ) -> Result<(), BookingWriteError> {
        if booking.organization_id != self.org {
            return Err(BookingWriteError::VersionConflict);
        }
        booking_rows::update_booking(&mut self.tx, booking, expected_version).await
    }

    async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError> {
        insert_outbox(&mut self.tx, message).await
    }

    async fn complete_idempotency(
        &mut self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<(), StoreError> {
        crate::idempotency::complete_on(&mut self.tx, reserved, record).await
    }

    async fn commit_new_booking(
        self: Box<Self>,
        w: NewBookingWrite<'_>,
    ) -> Result<(), BookingWriteError> {
        let mut this = *self;
        let org = this.org;
        if w.booking.organization_id != org
            || w.message.organization_id != org
            || w.replay.is_some_and(|(r, _)| r.key.organization_id != org)
        {
            return Err(BookingWriteError::Unknown(anyhow::anyhow!(
                "new booking write touches another organization"
            )));
        }
        booking_rows::insert_new_booking(&mut this.tx, &w).await?;
        this.tx.commit().await.map_err(unknown)?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(unknown)
    }
}

fn sort_key(sort: BookingSort) -> (&'static str, &'static str) {
    match sort {
        BookingSort::StartAtDesc => ("start_at", "DESC"),
        BookingSort::StartAtAsc => ("start_at", "ASC"),
        BookingSort::CreatedAtDesc => ("created_at", "DESC"),
        BookingSort::CreatedAtAsc => ("created_at", "ASC"),
        BookingSort::UpdatedAtAsc => ("updated_at", "ASC"),
        BookingSort::UpdatedAtDesc => ("updated_at", "DESC"),
    }
}

fn cursor_of(sort: BookingSort, b: &Booking) -> Cursor {
    let t = match sort {
        BookingSort::StartAtDesc | BookingSort::StartAtAsc => b.start,
        BookingSort::CreatedAtDesc | BookingSort::CreatedAtAsc => b.created_at,
        BookingSort::UpdatedAtAsc | BookingSort::UpdatedAtDesc => b.updated_at,
    };
    Cursor {
        sort: sort.as_str().to_owned(),
        value: CursorValue::Int(t.as_millisecond()),
        id: b.uid.0,
    }
}

#[async_trait]
impl BookingStore for PgStore {
    async fn get_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(unknown)?;
        booking_rows::get_booking(&mut conn, org, uid).await
    }

    async fn list_bookings(
        &self,
        org: OrganizationId,
        q: &BookingQuery,
    ) -> Result<Page<Booking>, StoreError> {
        let mut b = QueryBuilder::<Postgres>::new(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE organization_id = "
        ));
        b.push_bind(org.0);
        if let Some(et) = q.event_type_id {
            b.push(" AND event_type_id = ");
            b.push_bind(et.0);
        }
        if !q.host_user_ids.is_empty() {
            let ids: Vec<uuid::Uuid> = q.host_user_ids.iter().map(|u| u.0).collect();
            b.push(" AND host_user_id = ANY(");
            b.push_bind(ids);
            b.push(")");
        }
        if let Some(email) = &q.attendee_email {
            b.push(" AND attendees @> jsonb_build_array(jsonb_build_object('email', ");
            b.push_bind(email.clone());
            b.push("::text))");
        }
        if let [only] = q.statuses.as_slice() {
            // A literal, not a bind: a prepared statement's generic plan can use the partial
            // index `bookings_canceled_start` (migration 0010) only when the WHERE names
            // `status = 'canceled'` itself.
            b.push(format!(" AND status = '{}'", only.as_str()));
        } else if !q.statuses.is_empty() {
            let statuses: Vec<String> = q.statuses.iter().map(|s| s.as_str().to_owned()).collect();
            b.push(" AND status = ANY(");
            b.push_bind(statuses);
            b.push(")");
        } else if !q.include_cancelled {
            b.push(" AND status <> 'canceled'");
        }
        if let Some(t) = q.start_from {
            b.push(" AND start_at >= ");
            b.push_bind(crate::ts_ceil(t));
        }
        if let Some(t) = q.start_to {
            b.push(" AND start_at <= ");
            b.push_bind(ts(t));
        }
        if let Some(t) = q.updated_since {
            b.push(" AND updated_at >= ");
            b.push_bind(crate::ts_ceil(t));
        }
        let (key, dir) = sort_key(q.sort);
        if let Some(after) = &q.page.after {
            let CursorValue::Int(ms) = after.value else {
                return Err(unknown(anyhow::anyhow!("booking cursors carry instants")));
            };
            let t = Timestamp::from_millisecond(ms).map_err(unknown)?;
            let op = if dir == "DESC" { "<" } else { ">" };
            b.push(format!(" AND ({key}, uid) {op} ("));
            b.push_bind(ts(t));
            b.push(", ");
            b.push_bind(after.id);
            b.push(")");
        }
        b.push(format!(" ORDER BY {key} {dir}, uid {dir} LIMIT "));
        b.push_bind(i64::from(q.page.limit.get()) + 1);
        let rows = b.build().fetch_all(self.pool()).await.map_err(unknown)?;
        let items = rows
            .iter()
            .map(booking_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let sort = q.sort;
        Ok(Page::from_overfetch(items, q.page.limit, |b| {
            cursor_of(sort, b)
        }))
    }

    async fn slot_inputs(
        &self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(unknown)?;
        slot_inputs::load(&mut conn, event_type, ranges, now).await
    }

    async fn begin(
        &self,
        org: OrganizationId,
        event_type: EventTypeId,
    ) -> Result<Box<dyn BookingTx>, BookingWriteError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| BookingWriteError::Unknown(crate::classify(e)))?;
        lock_event_type(&mut tx, org, event_type, self.lock_timeout).await?;
        Ok(Box::new(PgBookingTx { org, tx }))
    }
}

/// True when `e` is the database refusing an overlapping booking.
pub fn is_no_overlap_violation(e: &sqlx::Error) -> bool {
    matches!(db_error(e), Some((code, Some(c))) if code == "23P01" && c == booking_rows::NO_OVERLAP)
}
