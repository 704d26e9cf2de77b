//! The invitee's own booking, reached through their link: what the page shows, the rule for
//! changing it (allowed by the event type, at least the minimum notice before the start), and
//! cancel and reschedule through the API's
//! [`crate::booking_service::BookingService`] use cases.

use super::{BookingPageService, EventTypePage, PageError, PublicHost};
use crate::availability::Zone;
use crate::booking::{Booking, MAX_REASON_CHARS, RescheduleRuleError};
use crate::booking_service::{
    CancelBookingError, Cancellation, GetBookingError, HostedBooking, Idempotent, Reschedule,
    RescheduleBookingError,
};
use crate::event_type::EventType;
use crate::ids::{BookingUid, OrganizationId};
use crate::organization::{Organization, User};
use crate::validate::FieldErrors;
use jiff::Timestamp;

/// Why the invitee may not change a booking (from the invitee's link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRefused {
    /// The event type does not allow it (or is gone).
    NotAllowed,
    /// Less than the event type's minimum notice is left before the start (or it started).
    NoticePassed,
    /// The booking is cancelled or was moved.
    Closed,
}

impl ChangeRefused {
    /// What the page says.
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotAllowed => "The host does not allow changes to this booking online.",
            Self::NoticePassed => {
                "It is too close to the start to change this booking online; please contact the host."
            }
            Self::Closed => "This booking was cancelled or moved; it can no longer be changed.",
        }
    }
}

/// The invitee's rule for changing a booking through their link: the booking still holds
/// time, the event type allows the change, and at least the event type's minimum notice is
/// left before the start (the same notice a new booking needs).
pub fn invitee_may_change(
    booking: &Booking,
    event_type: Option<&EventType>,
    allowed: impl Fn(&EventType) -> bool,
    now: Timestamp,
) -> Result<(), ChangeRefused> {
    if !booking.status.holds_time() {
        return Err(ChangeRefused::Closed);
    }
    let Some(et) = event_type.filter(|et| allowed(et)) else {
        return Err(ChangeRefused::NotAllowed);
    };
    let notice = jiff::SignedDuration::from_hours(i64::from(et.minimum_notice_hours));
    match now.checked_add(notice) {
        Ok(earliest) if earliest <= booking.start && now < booking.start => Ok(()),
        _ => Err(ChangeRefused::NoticePassed),
    }
}

/// A booking as its invitee sees it.
#[derive(Debug, Clone)]
pub struct InviteeBooking {
    pub organization: Organization,
    pub booking: Booking,
    pub host: Option<User>,
    /// `None` when the event type was deleted.
    pub event_type: Option<EventType>,
    /// The event type's (host's) zone; UTC when the event type is gone.
    pub host_zone: Zone,
    pub cancel: Result<(), ChangeRefused>,
    pub reschedule: Result<(), ChangeRefused>,
}

/// Why an invitee's change failed.
#[derive(Debug, thiserror::Error)]
pub enum InviteeChangeError {
    #[error("booking not found")]
    NotFound,
    #[error("{}", .0.message())]
    Refused(ChangeRefused),
    #[error("the form has errors")]
    Invalid(FieldErrors),
    /// The new time was taken (or left the bookable window) meanwhile.
    #[error("that time is no longer available")]
    SlotTaken,
    #[error("busy; retry")]
    Busy,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

crate::event_type_service::from_store_error!(InviteeChangeError);

impl BookingPageService {
    /// The booking `uid` of `org` with what its invitee page shows and may do.
    pub async fn invitee_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<InviteeBooking, PageError> {
        let organization = self
            .directory
            .get_organization(org)
            .await?
            .ok_or(PageError::NotFound)?;
        let hosted = self.bookings.get(org, uid).await.map_err(|e| match e {
            GetBookingError::NotFound => PageError::NotFound,
            GetBookingError::Unknown(e) => PageError::Unknown(e),
        })?;
        let event_type = self
            .event_types
            .get_event_type(org, hosted.booking.event_type_id)
            .await?;
        let host_zone = match &event_type {
            Some(et) => {
                crate::event_type_service::event_type_zone(self.schedules.as_ref(), et).await?
            }
            None => Zone::utc(),
        };
        let now = self.clock.now();
        let et = event_type.as_ref();
        Ok(InviteeBooking {
            cancel: invitee_may_change(&hosted.booking, et, |e| e.allow_cancel, now),
            reschedule: invitee_may_change(
                &hosted.booking,
                et,
                |e| e.allow_reschedule && e.active,
                now,
            ),
            organization,
            booking: hosted.booking,
            host: hosted.host,
            event_type,
            host_zone,
        })
    }

    /// The event type page of a booking's event type, for picking its new time.
    pub async fn reschedule_page(&self, b: &InviteeBooking) -> Result<EventTypePage, PageError> {
        let et = b.event_type.clone().ok_or(PageError::NotFound)?;
        let owner = self
            .directory
            .get_user(et.organization_id, et.owner_user_id)
            .await?
            .ok_or(PageError::NotFound)?;
        let mut hosts = Vec::new();
        for h in &et.hosts {
            if let Some(u) = self
                .directory
                .get_user(et.organization_id, h.user_id)
                .await?
            {
                hosts.push(u);
            }
        }
        Ok(EventTypePage {
            host: PublicHost {
                organization: b.organization.clone(),
                user: owner,
            },
            event_type: et,
            hosts,
            zone: b.host_zone.clone(),
        })
    }

    /// Cancels from the invitee's link: the invitee rule, then [`BookingService::cancel_booking`]
    /// (the API's use case: same outbox message, same idempotency).
    pub async fn cancel(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        reason: Option<String>,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, InviteeChangeError> {
        let current = self
            .invitee_booking(org, uid)
            .await
            .map_err(page_to_change)?;
        current.cancel.map_err(InviteeChangeError::Refused)?;
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let cancellation = Cancellation::new(reason).map_err(|_| {
            let mut f = FieldErrors::default();
            f.push(
                "reason",
                format!("Use at most {MAX_REASON_CHARS} characters."),
            );
            InviteeChangeError::Invalid(f)
        })?;
        self.bookings
            .cancel_booking(org, uid, cancellation, idem)
            .await
            .map_err(|e| match e {
                CancelBookingError::NotFound => InviteeChangeError::NotFound,
                CancelBookingError::Rule(_) => InviteeChangeError::Refused(ChangeRefused::Closed),
                CancelBookingError::LockTimeout | CancelBookingError::Conflict => {
                    InviteeChangeError::Busy
                }
                CancelBookingError::Unknown(e) => InviteeChangeError::Unknown(e),
            })
    }

    /// Moves a booking from the invitee's link: the invitee rule, then
    /// [`crate::booking_service::BookingService::reschedule_booking`]. Returns the new booking.
    pub async fn reschedule(
        &self,
        org: OrganizationId,
        uid: BookingUid,
        start: Timestamp,
        zone: &Zone,
        idem: Option<Idempotent<'_>>,
    ) -> Result<HostedBooking, InviteeChangeError> {
        let current = self
            .invitee_booking(org, uid)
            .await
            .map_err(page_to_change)?;
        current.reschedule.map_err(InviteeChangeError::Refused)?;
        self.bookings
            .reschedule_booking(org, uid, Reschedule::to(start).in_zone(zone.clone()), idem)
            .await
            .map_err(|e| match e {
                RescheduleBookingError::NotFound => InviteeChangeError::NotFound,
                RescheduleBookingError::Rule(RescheduleRuleError::Disallowed) => {
                    InviteeChangeError::Refused(ChangeRefused::NotAllowed)
                }
                RescheduleBookingError::Rule(RescheduleRuleError::InPast) => {
                    InviteeChangeError::Refused(ChangeRefused::NoticePassed)
                }
                RescheduleBookingError::Rule(_) => {
                    InviteeChangeError::Refused(ChangeRefused::Closed)
                }
                RescheduleBookingError::EventTypeInactive => {
                    InviteeChangeError::Refused(ChangeRefused::NotAllowed)
                }
                RescheduleBookingError::SlotInPast
                | RescheduleBookingError::SlotUnavailable { .. } => InviteeChangeError::SlotTaken,
                RescheduleBookingError::LockTimeout | RescheduleBookingError::Conflict => {
                    InviteeChangeError::Busy
                }
                RescheduleBookingError::Unknown(e) => InviteeChangeError::Unknown(e),
            })
    }
}

fn page_to_change(e: PageError) -> InviteeChangeError {
    match e {
        PageError::NotFound => InviteeChangeError::NotFound,
        PageError::Unknown(e) => InviteeChangeError::Unknown(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::EventTypeBuilder;

    #[test]
    fn invitees_change_only_allowed_bookings_before_the_notice() {
        use crate::booking::BookingStatus;
        use crate::fixtures::BookingBuilder;
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let et = EventTypeBuilder::new(
            crate::ids::EventTypeId(uuid::Uuid::nil()),
            OrganizationId(uuid::Uuid::nil()),
            "x",
        )
        .notice_hours(24)
        .allow_cancel(false)
        .build();
        let mut b = BookingBuilder::of(
            crate::ids::BookingUid(uuid::Uuid::nil()),
            &et,
            crate::ids::UserId(uuid::Uuid::nil()),
            t("2027-03-10T10:00:00Z"),
        )
        .build();
        let yes = |_: &EventType| true;
        assert_eq!(
            invitee_may_change(&b, Some(&et), yes, t("2027-03-09T10:00:00Z")),
            Ok(())
        );
        assert_eq!(
            invitee_may_change(&b, Some(&et), yes, t("2027-03-09T10:00:01Z")),
            Err(ChangeRefused::NoticePassed)
        );
        assert_eq!(
            invitee_may_change(&b, Some(&et), |e| e.allow_cancel, t("2027-03-01T00:00:00Z")),
            Err(ChangeRefused::NotAllowed)
        );
        assert_eq!(
            invitee_may_change(&b, None, yes, t("2027-03-01T00:00:00Z")),
            Err(ChangeRefused::NotAllowed)
        );
        b.status = BookingStatus::Canceled;
        assert_eq!(
            invitee_may_change(&b, Some(&et), yes, t("2027-03-01T00:00:00Z")),
            Err(ChangeRefused::Closed)
        );
    }
}
