//! Why each booking use case fails: one error enum per operation, with the `From` impls that
//! turn store and write failures into them.

use crate::booking::{CancelRuleError, RescheduleRuleError};
use crate::booking_input::InvalidInput;
use crate::ports::{BookingWriteError, StoreError};
use crate::slots::UnavailableReason;

/// Why a booking could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetBookingError {
    #[error("booking not found")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why bookings could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListBookingsError {
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a booking could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateBookingError {
    /// Every failing field of the request, with the contract code to answer with.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("event type not found")]
    EventTypeNotFound,
    #[error("This event type is not active")]
    EventTypeInactive,
    #[error("That time is in the past")]
    SlotInPast,
    #[error("That time is no longer available")]
    SlotUnavailable { reason: UnavailableReason },
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a cancel failed.
#[derive(Debug, thiserror::Error)]
pub enum CancelBookingError {
    #[error("booking not found")]
    NotFound,
    #[error(transparent)]
    Rule(#[from] CancelRuleError),
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error("the booking changed concurrently; retry")]
    Conflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a reschedule failed.
#[derive(Debug, thiserror::Error)]
pub enum RescheduleBookingError {
    #[error("booking not found")]
    NotFound,
    #[error(transparent)]
    Rule(#[from] RescheduleRuleError),
    #[error("This event type is not active")]
    EventTypeInactive,
    #[error("That time is in the past")]
    SlotInPast,
    #[error("That time is no longer available")]
    SlotUnavailable { reason: UnavailableReason },
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error("the booking changed concurrently; retry")]
    Conflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a PATCH failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateBookingError {
    #[error("booking not found")]
    NotFound,
    #[error("The If-Match version does not match the current booking version")]
    VersionConflict { current: i64 },
    /// Every failing field of the patch.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("could not take the slot lock in time")]
    LockTimeout,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

crate::event_type_service::from_store_error!(
    CreateBookingError,
    CancelBookingError,
    RescheduleBookingError,
    UpdateBookingError,
    GetBookingError,
    ListBookingsError
);

/// What the slot engine's refusal means for the operations that book a slot (create and
/// reschedule): an inactive event type and a start in the past have their own codes.
macro_rules! from_unavailable_reason {
    ($($error:ty),+) => {$(
        impl From<UnavailableReason> for $error {
            fn from(r: UnavailableReason) -> Self {
                match r {
                    UnavailableReason::EventTypeInactive => Self::EventTypeInactive,
                    UnavailableReason::InPast => Self::SlotInPast,
                    reason => Self::SlotUnavailable { reason },
                }
            }
        }
    )+};
}

from_unavailable_reason!(CreateBookingError, RescheduleBookingError);

/// The write errors of one operation on an existing booking: what a missing booking means for
/// it (store failures and [`BookingWriteError`]s convert through `From`).
pub(super) trait WriteError: From<BookingWriteError> + From<StoreError> {
    const NOT_FOUND: Self;
}

impl From<BookingWriteError> for CreateBookingError {
    fn from(e: BookingWriteError) -> Self {
        match e {
            BookingWriteError::SlotUnavailable => Self::SlotUnavailable {
                reason: UnavailableReason::SlotBusy,
            },
            BookingWriteError::LockTimeout => Self::LockTimeout,
            other => Self::Unknown(other.into()),
        }
    }
}

impl From<BookingWriteError> for CancelBookingError {
    fn from(e: BookingWriteError) -> Self {
        match e {
            BookingWriteError::LockTimeout => Self::LockTimeout,
            BookingWriteError::VersionConflict => Self::Conflict,
            other => Self::Unknown(other.into()),
        }
    }
}

impl WriteError for CancelBookingError {
    const NOT_FOUND: Self = Self::NotFound;
}

impl From<BookingWriteError> for RescheduleBookingError {
    fn from(e: BookingWriteError) -> Self {
        match e {
            BookingWriteError::SlotUnavailable => Self::SlotUnavailable {
                reason: UnavailableReason::SlotBusy,
            },
            BookingWriteError::LockTimeout => Self::LockTimeout,
            BookingWriteError::VersionConflict => Self::Conflict,
            other => Self::Unknown(other.into()),
        }
    }
}

impl WriteError for RescheduleBookingError {
    const NOT_FOUND: Self = Self::NotFound;
}

impl From<BookingWriteError> for UpdateBookingError {
    fn from(e: BookingWriteError) -> Self {
        match e {
            BookingWriteError::LockTimeout => Self::LockTimeout,
            other => Self::Unknown(other.into()),
        }
    }
}

impl WriteError for UpdateBookingError {
    const NOT_FOUND: Self = Self::NotFound;
}
