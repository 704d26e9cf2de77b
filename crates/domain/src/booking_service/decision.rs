//! The host's decision on a `pending` booking (an event type with `requires_confirmation`):
//! confirm it (`pending` → `confirmed`, emits `booking.updated` with `changed_fields:
//! ["status"]`) or decline it (`pending` → `canceled` with the reason, frees the time, emits
//! `booking.canceled`). Repeating the same decision answers the booking as it is; deciding a
//! booking that is not pending any more is [`DecideBookingError::NotPending`]. See
//! ARCHITECTURE.md, Decisions.

use super::errors::WriteError;
use super::{BookingService, Change, Existing, HostedBooking, Idempotent};
use crate::booking::{Booking, BookingStatus};
use crate::booking_input::Cancellation;
use crate::ids::{BookingUid, OrganizationId};
use crate::ports::BookingWriteError;
use jiff::Timestamp;

/// What the host decided.
#[derive(Debug, Clone)]
pub enum HostDecision {
    Confirm,
    Decline(Cancellation),
}

/// Why a confirm or decline failed.
#[derive(Debug, thiserror::Error)]
pub enum DecideBookingError {
    #[error("booking not found")]
    NotFound,
    /// The booking is not awaiting a decision (and not already in the decided state).
    #[error("the booking is {}, not pending", status.as_str())]
    NotPending { status: BookingStatus },
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error("the booking changed concurrently; retry")]
    Conflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

crate::event_type_service::from_store_error!(DecideBookingError);

impl From<BookingWriteError> for DecideBookingError {
    fn from(e: BookingWriteError) -> Self {
        match e {
            BookingWriteError::LockTimeout => Self::LockTimeout,
            BookingWriteError::VersionConflict => Self::Conflict,
            other => Self::Unknown(other.into()),
        }
    }
}

impl WriteError for DecideBookingError {
    const NOT_FOUND: Self = Self::NotFound;
}

/// The booking after `decision` (`None`: already decided that way, nothing to write).
fn decide(
    b: &Booking,
    decision: &HostDecision,
    now: Timestamp,
) -> Result<Option<Booking>, DecideBookingError> {
    let target = match decision {
        HostDecision::Confirm => BookingStatus::Confirmed,
        HostDecision::Decline(_) => BookingStatus::Canceled,
    };
    if b.status == target {
        return Ok(None);
    }
    if b.status != BookingStatus::Pending {
        return Err(DecideBookingError::NotPending { status: b.status });
    }
    let mut next = b.clone();
    next.status = target;
    if let HostDecision::Decline(c) = decision {
        next.cancelled_at = Some(now);
        next.cancellation_reason = c.clone().into_reason();
    }
    next.version += 1;
    next.updated_at = now;
    Ok(Some(next))
}

impl BookingService {
    /// Confirms or declines a pending booking of `org`.
    pub async fn decide_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        decision: HostDecision,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, DecideBookingError> {
        let Existing {
            mut write,
            booking,
            event_type,
        } = self
            .open_existing::<DecideBookingError>(org, uid, false)
            .await?;
        let now = self.clock.now();
        let (current, written, ()) = Self::update_existing(&mut write, booking, |b| {
            Ok::<_, DecideBookingError>((decide(b, &decision, now)?, ()))
        })
        .await?;
        const STATUS: &[&str] = &["status"];
        let change = match (&event_type, &written, &decision) {
            (Some(et), Some(_), HostDecision::Confirm) => Some(Change::Updated(et, STATUS)),
            (Some(et), Some(_), HostDecision::Decline(_)) => Some(Change::Canceled(et)),
            _ => None,
        };
        let booking = written.unwrap_or(current);
        Ok(self.finish(write, booking, change, idem).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Booking {
        use crate::ids::{EventTypeId, UserId};
        use uuid::Uuid;
        let start: Timestamp = "2026-06-01T10:00:00Z".parse().unwrap();
        let end: Timestamp = "2026-06-01T10:30:00Z".parse().unwrap();
        crate::fixtures::BookingBuilder::new(
            BookingUid(Uuid::nil()),
            OrganizationId(Uuid::nil()),
            EventTypeId(Uuid::nil()),
            UserId(Uuid::nil()),
            start,
            end,
        )
        .status(BookingStatus::Pending)
        .build()
    }

    #[test]
    fn decisions_move_pending_bookings_once() {
        let now: Timestamp = "2026-05-02T00:00:00Z".parse().unwrap();
        let b = pending();
        let c = decide(&b, &HostDecision::Confirm, now).unwrap().unwrap();
        assert_eq!(
            (c.status, c.version),
            (BookingStatus::Confirmed, b.version + 1)
        );
        assert!(decide(&c, &HostDecision::Confirm, now).unwrap().is_none());
        let decline = HostDecision::Decline(Cancellation::new(Some("busy".into())).unwrap());
        assert!(matches!(
            decide(&c, &decline, now),
            Err(DecideBookingError::NotPending {
                status: BookingStatus::Confirmed
            })
        ));
        let d = decide(&b, &decline, now).unwrap().unwrap();
        assert_eq!(d.status, BookingStatus::Canceled);
        assert_eq!(d.cancellation_reason.as_deref(), Some("busy"));
        assert_eq!(d.cancelled_at, Some(now));
        assert!(decide(&d, &decline, now).unwrap().is_none());
        assert!(decide(&d, &HostDecision::Confirm, now).is_err());
    }
}
