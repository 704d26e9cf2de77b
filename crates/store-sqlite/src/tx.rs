//! [`SqliteBookingTx`]: one booking write, a `BEGIN IMMEDIATE` transaction holding the database
//! write lock from `begin` to commit or drop (drop rolls back).
//!
//! The double-booking guard lives here: a booking that holds time is written only if no other
//! time-holding booking of the same organization and host has `blocked_start < new.blocked_end
//! AND blocked_end > new.blocked_start` (seats of one group slot excepted when `shares_seats`).
//! The check and the write are one statement inside the write-locked transaction, so no
//! concurrent writer can slip in between.

use crate::WriteTx;
use crate::bookings::load_booking;
use crate::codec::{
    Result, attendees_to_json, guests_to_json, location_to_json, metadata_to_json, ms,
};
use crate::db_err;
use crate::idempotency::complete_on;
use crate::outbox::insert_message;
use async_trait::async_trait;
use domain::booking::Booking;
use domain::event_type::EventType;
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::{
    BookingTx, BookingWriteError, NewBookingWrite, OutboxMessage, ReplayRecord, ReservedKey,
    StoreError,
};
use domain::slots::{InputRanges, SlotInputs};
use futures::TryStreamExt;
use jiff::Timestamp;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Executor, Sqlite};
use std::sync::LazyLock;

/// A booking write in progress (see the module documentation).
pub struct SqliteBookingTx {
    org: OrganizationId,
    write: WriteTx,
}

/// The booking columns written by insert and update, in bind order.
const FIELDS: [&str; 30] = [
    "version",
    "event_type_id",
    "event_type_slug",
    "title",
    "status",
    "start_at",
    "end_at",
    "blocked_start",
    "blocked_end",
    "timezone",
    "host_user_id",
    "attendees",
    "guests",
    "location",
    "metadata",
    "responses",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "calendar_sync_status",
    "calendar_event_id",
    "rescheduled_from_uid",
    "reschedule_generation",
    "cancelled_at",
    "cancellation_reason",
    "no_show_at",
    "no_show_reason",
    "rescheduled_at",
    "created_at",
    "updated_at",
];

/// True when no other time-holding booking of the host overlaps; `shares` is the written row's
/// seat flag (`?` for a bound one). Binds, in order: holds-time flag, org, host, new blocked
/// start, new blocked end, own uid, [the seat flag,] event type, start.
fn no_overlap(shares: &str) -> String {
    format!(
        "(? = 0 OR NOT EXISTS (SELECT 1 FROM bookings o \
         WHERE o.organization_id = ? AND o.host_user_id = ? \
         AND o.status IN ('confirmed', 'pending') \
         AND o.blocked_end > ? AND o.blocked_start < ? AND o.uid <> ? \
         AND NOT ({shares} AND o.shares_seats AND o.event_type_id = ? AND o.start_at = ?)))"
    )
}

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments>;

/// JSON columns of a booking, encoded before any statement runs.
struct Encoded {
    attendees: String,
    guests: String,
    location: Option<String>,
    metadata: Option<String>,
}

fn encode(b: &Booking) -> Result<Encoded> {
    Ok(Encoded {
        attendees: attendees_to_json(&b.attendees)?,
        guests: guests_to_json(&b.guests)?,
        location: location_to_json(&b.location)?,
        metadata: metadata_to_json(&b.metadata)?,
    })
}

fn bind_fields<'q>(q: SqliteQuery<'q>, b: &'q Booking, enc: Encoded) -> SqliteQuery<'q> {
    q.bind(b.version)
        .bind(b.event_type_id.as_uuid())
        .bind(&b.event_type_slug)
        .bind(&b.title)
        .bind(b.status.as_str())
        .bind(ms(b.start))
        .bind(ms(b.end))
        .bind(ms(b.blocked.start()))
        .bind(ms(b.blocked.end()))
        .bind(&b.timezone)
        .bind(b.host_user_id.as_uuid())
        .bind(enc.attendees)
        .bind(enc.guests)
        .bind(enc.location)
        .bind(enc.metadata)
        .bind(b.responses.as_ref().map(|r| r.0.as_str()))
        .bind(&b.utm.source)
        .bind(&b.utm.medium)
        .bind(&b.utm.campaign)
        .bind(b.calendar_sync_status.as_str())
        .bind(&b.calendar_event_id)
        .bind(b.rescheduled_from_uid.map(|u| u.as_uuid()))
        .bind(b.reschedule_generation)
        .bind(b.cancelled_at.map(ms))
        .bind(&b.cancellation_reason)
        .bind(b.no_show_at.map(ms))
        .bind(&b.no_show_reason)
        .bind(b.rescheduled_at.map(ms))
        .bind(ms(b.created_at))
        .bind(ms(b.updated_at))
}

fn bind_no_overlap<'q>(
    q: SqliteQuery<'q>,
    b: &'q Booking,
    shares_seats: Option<bool>,
) -> SqliteQuery<'q> {
    let q = q
        .bind(b.status.holds_time())
        .bind(b.organization_id.as_uuid())
        .bind(b.host_user_id.as_uuid())
        .bind(ms(b.blocked.start()))
        .bind(ms(b.blocked.end()))
        .bind(b.uid.as_uuid());
    let q = match shares_seats {
        Some(flag) => q.bind(flag),
        None => q,
    };
    q.bind(b.event_type_id.as_uuid()).bind(ms(b.start))
}

static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let marks = vec!["?"; FIELDS.len()].join(", ");
    format!(
        "INSERT INTO bookings (organization_id, uid, shares_seats, {}) SELECT ?, ?, ?, {marks} \
         WHERE {}",
        FIELDS.join(", "),
        no_overlap("?")
    )
});

/// The batch of [`BookingTx::commit_new_booking`]: the guarded booking insert, its outbox
/// message and (second form) the replay record, run in one trip to the connection's thread.
/// Outbox binds: org, id, event, payload, created_at; replay binds: state, body, org, owner, key,
/// nonce, state (`COMPLETE_SQL`: no row touched when the reservation is not the caller's).
static NEW_BOOKING_SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
    let outbox = "INSERT INTO outbox (organization_id, id, event, payload, created_at) \
                  VALUES (?, ?, ?, ?, ?)";
    let replay = crate::idempotency::COMPLETE_SQL;
    [
        format!("{}; {outbox}", INSERT_SQL.as_str()),
        format!("{}; {outbox}; {replay}", INSERT_SQL.as_str()),
    ]
});

static UPDATE_SQL: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = FIELDS.iter().map(|f| format!("{f} = ?")).collect();
    format!(
        "UPDATE bookings SET {} WHERE organization_id = ? AND uid = ? AND version = ? AND {}",
        sets.join(", "),
        // a seat stays a seat: the guard uses the stored row's flag
        no_overlap("bookings.shares_seats")
    )
});

impl SqliteBookingTx {
    pub(crate) fn new(org: OrganizationId, write: WriteTx) -> Self {
        Self { org, write }
    }

    fn check_org(&self, org: OrganizationId) -> Result<()> {
        if org == self.org {
            Ok(())
        } else {
            Err(StoreError::Unknown(anyhow::anyhow!(
                "booking write opened for organization {} touched organization {org}",
                self.org
            )))
        }
    }
}

#[async_trait]
impl BookingTx for SqliteBookingTx {
    async fn slot_inputs(
        &mut self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs> {
        self.check_org(event_type.organization_id)?;
        crate::slot_inputs::load(&mut self.write.tx, event_type, ranges, now).await
    }

    async fn get_booking(&mut self, uid: BookingUid) -> Result<Option<Booking>> {
        load_booking(&mut self.write.tx, self.org, uid).await
    }

    async fn insert_booking(
        &mut self,
        booking: &Booking,
        shares_seats: bool,
    ) -> std::result::Result<(), BookingWriteError> {
        self.check_org(booking.organization_id)?;
        let enc = encode(booking)?;
        let q = sqlx::query(INSERT_SQL.as_str())
            .bind(booking.organization_id.as_uuid())
            .bind(booking.uid.as_uuid())
            .bind(shares_seats);
        let q = bind_fields(q, booking, enc);
        let done = bind_no_overlap(q, booking, Some(shares_seats))
            .execute(&mut *self.write.tx)
            .await
            .map_err(db_err("inserting booking"))?;
        if done.rows_affected() == 0 {
            return Err(BookingWriteError::SlotUnavailable);
        }
        Ok(())
    }

    async fn update_booking(
        &mut self,
        booking: &Booking,
        expected_version: i64,
    ) -> std::result::Result<(), BookingWriteError> {
        self.check_org(booking.organization_id)?;
        let enc = encode(booking)?;
        let q = bind_fields(sqlx::query(UPDATE_SQL.as_str()), booking, enc)
            .bind(booking.organization_id.as_uuid())
            .bind(booking.uid.as_uuid())
            .bind(expected_version);
        let done = bind_no_overlap(q, booking, None)
            .execute(&mut *self.write.tx)
            .await
            .map_err(db_err("updating booking"))?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM bookings WHERE organization_id = ? AND uid = ?",
        )
        .bind(booking.organization_id.as_uuid())
        .bind(booking.uid.as_uuid())
        .fetch_optional(&mut *self.write.tx)
        .await
        .map_err(db_err("reading booking version"))?;
        Err(if stored == Some(expected_version) {
            // The version matched, so the overlap guard refused the write.
            BookingWriteError::SlotUnavailable
        } else {
            BookingWriteError::VersionConflict
        })
    }

    async fn enqueue(&mut self, message: &OutboxMessage) -> Result<()> {
        self.check_org(message.organization_id)?;
        insert_message(&mut self.write.tx, message).await
    }

    async fn complete_idempotency(
        &mut self,
        reserved: &ReservedKey,
        record: &ReplayRecord,
    ) -> Result<()> {
        self.check_org(reserved.key.organization_id)?;
        complete_on(&mut self.write.tx, reserved, record).await
    }

    async fn commit_new_booking(
        self: Box<Self>,
        w: NewBookingWrite<'_>,
    ) -> std::result::Result<(), BookingWriteError> {
        let mut this = *self;
        this.check_org(w.booking.organization_id)?;
        this.check_org(w.message.organization_id)?;
        if let Some((reserved, _)) = w.replay {
            this.check_org(reserved.key.organization_id)?;
        }
        let booking = w.booking;
        let enc = encode(booking)?;
        let sql = &NEW_BOOKING_SQL[usize::from(w.replay.is_some())];
        let q = sqlx::query(sql.as_str())
            .bind(booking.organization_id.as_uuid())
            .bind(booking.uid.as_uuid())
            .bind(w.shares_seats);
        let q = bind_no_overlap(bind_fields(q, booking, enc), booking, Some(w.shares_seats));
        let m = w.message;
        let mut q = q
            .bind(m.organization_id.as_uuid())
            .bind(m.id.as_uuid())
            .bind(&m.event)
            .bind(&m.payload)
            .bind(ms(m.created_at));
        if let Some((reserved, record)) = w.replay {
            let key = &reserved.key;
            q = q
                .bind(crate::idempotency::DONE)
                .bind(&record.0)
                .bind(key.organization_id.as_uuid())
                .bind(&key.owner)
                .bind(&key.key)
                .bind(reserved.nonce.0)
                .bind(crate::idempotency::IN_PROGRESS);
        }
        let done: Vec<_> = (&mut *this.write.tx)
            .execute_many(q)
            .try_collect()
            .await
            .map_err(db_err("writing new booking"))?;
        if done.first().is_none_or(|d| d.rows_affected() == 0) {
            // Refused by the guard; dropping `this` rolls back the rest of the batch.
            return Err(BookingWriteError::SlotUnavailable);
        }
        if w.replay.is_some() && done.get(2).is_none_or(|d| d.rows_affected() == 0) {
            // The reservation is no longer this request's: commit nothing (dropping `this`
            // rolls the booking and its message back).
            return Err(StoreError::reservation_lost().into());
        }
        this.write
            .commit()
            .await
            .map_err(db_err("committing booking write"))?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.write
            .commit()
            .await
            .map_err(db_err("committing booking write"))
    }
}
