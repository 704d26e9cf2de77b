//! Bookings (§3.7–§3.12): list and read ([`read`]), create, PATCH, cancel and reschedule
//! ([`write`]), and the host's confirm/decline of a pending booking ([`decision`]). Every write takes an `Idempotency-Key` and commits its response in the booking
//! transaction; `PATCH` also takes `If-Match`. Other organizations' bookings are 404.

#![allow(
    clippy::result_large_err,
    reason = "ApiError is the crate's one error type, returned by value like an axum rejection; shrinking it belongs in error.rs"
)]

pub mod decision;
pub mod read;
pub mod write;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `/v1/bookings` and its sub-resources.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read::list_bookings, write::create_booking))
        .routes(routes!(read::get_booking, write::update_booking))
        .routes(routes!(write::cancel_booking))
        .routes(routes!(write::reschedule_booking))
        .routes(routes!(decision::confirm_booking))
        .routes(routes!(decision::decline_booking))
}

/// `booking_not_found`, also for any non-UUID uid.
pub(crate) fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found("booking_not_found", "Booking not found")
}
