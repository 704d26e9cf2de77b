//! The invitee's link to a booking: `/_b/<token>`, a random per-booking token stored only as its
//! peppered hash (and sealed, for e-mails), issued on first use and resolved through
//! [`domain::booking_page::link::InviteeLinks`] (`AppState::links`). A store failure
//! becomes the page's 500.

use super::security::server_error;
use crate::state::AppState;
use axum::response::Response;
use domain::booking::Booking;
use domain::booking_page::link::InviteeLinks;
use domain::ids::{BookingUid, OrganizationId};
use domain::notification::{Recipient, RecipientRole};
use domain::notification_service::SelfServiceLinks;
use domain::ports::StoreError;

/// `/_b/<token>` of one booking (created when it has none yet).
pub async fn path(
    state: &AppState,
    org: OrganizationId,
    uid: BookingUid,
) -> Result<String, Response> {
    state
        .links()
        .path_for(org, uid)
        .await
        .map_err(|e| server_error(state, &e.into()))
}

/// The booking a token names; `Ok(None)` for a malformed or unknown token.
pub async fn open(
    state: &AppState,
    token: &str,
) -> Result<Option<(OrganizationId, BookingUid)>, Response> {
    state
        .links()
        .open(token)
        .await
        .map_err(|e| server_error(state, &e.into()))
}

/// The e-mails' self-service links ([`SelfServiceLinks`]): the attendee (the invitee who
/// booked) gets `<public base>/_b/<token>` of the booking; guests and hosts get none (the link
/// can cancel and move the booking).
pub struct EmailLinks {
    links: InviteeLinks,
    base: String,
}

impl EmailLinks {
    /// Links under `public_base_url` (no trailing slash needed).
    pub fn new(links: InviteeLinks, public_base_url: &str) -> Self {
        Self {
            links,
            base: public_base_url.trim_end_matches('/').to_owned(),
        }
    }
}

#[async_trait::async_trait]
impl SelfServiceLinks for EmailLinks {
    async fn manage_url(
        &self,
        booking: &Booking,
        recipient: &Recipient,
    ) -> Result<Option<String>, StoreError> {
        if recipient.role != RecipientRole::Attendee {
            return Ok(None);
        }
        let path = self
            .links
            .path_for(booking.organization_id, booking.uid)
            .await?;
        Ok(Some(format!("{}{path}", self.base)))
    }
}
