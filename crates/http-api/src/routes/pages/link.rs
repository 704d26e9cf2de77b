//! The invitee's link to a booking: `/_b/<token>`, where the token is
//! `base64url(organization id ‖ booking uid ‖ tag)` and the tag is the first 16 bytes of
//! HMAC-SHA256 under the server pepper over a domain-separation label and both ids. Nobody
//! without the pepper can make or alter one (128-bit tag, checked in constant time); nothing
//! secret is stored, so a database leak reveals no link; the same booking always gets the same
//! link, so a replayed submission leads to it again. Changing the pepper invalidates every link.

use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::ids::{BookingUid, OrganizationId};
use uuid::Uuid;

const LABEL: &[u8] = b"slotbook-invitee-link:v1:";
const TAG_LEN: usize = 16;

fn tag(state: &AppState, org: OrganizationId, uid: BookingUid) -> [u8; TAG_LEN] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, state.pepper.expose());
    let mut msg = Vec::with_capacity(LABEL.len() + 32);
    msg.extend_from_slice(LABEL);
    msg.extend_from_slice(org.0.as_bytes());
    msg.extend_from_slice(uid.0.as_bytes());
    let full = ring::hmac::sign(&key, &msg);
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&full.as_ref()[..TAG_LEN]);
    out
}

/// The token of one booking.
pub fn token(state: &AppState, org: OrganizationId, uid: BookingUid) -> String {
    let mut raw = Vec::with_capacity(32 + TAG_LEN);
    raw.extend_from_slice(org.0.as_bytes());
    raw.extend_from_slice(uid.0.as_bytes());
    raw.extend_from_slice(&tag(state, org, uid));
    URL_SAFE_NO_PAD.encode(raw)
}

/// `/_b/<token>`.
pub fn path(state: &AppState, org: OrganizationId, uid: BookingUid) -> String {
    format!("/_b/{}", token(state, org, uid))
}

/// The booking a token names, when its tag is right.
pub fn open(state: &AppState, token: &str) -> Option<(OrganizationId, BookingUid)> {
    if token.len() != 64 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    if raw.len() != 32 + TAG_LEN {
        return None;
    }
    let org = OrganizationId(Uuid::from_slice(&raw[..16]).ok()?);
    let uid = BookingUid(Uuid::from_slice(&raw[16..32]).ok()?);
    auth::oauth::constant_time_eq(&tag(state, org, uid), &raw[32..]).then_some((org, uid))
}
