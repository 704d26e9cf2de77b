//! Retention of rows that would otherwise only grow: idempotency records past their 24-hour
//! lifetime (§2.8). Webhook deliveries and fanned-out outbox messages are purged by
//! [`crate::webhook_service::WebhookService::purge`]. The delivery worker runs both in bounded
//! batches.

use crate::ports::{Clock, IDEMPOTENCY_TTL, IdempotencyStore, StoreError};
use jiff::Timestamp;

/// Deletes up to `max` idempotency records older than [`IDEMPOTENCY_TTL`] as of `clock`'s
/// now; they already count as absent, so no replay changes. Returns how many went.
pub async fn purge_expired_idempotency(
    store: &dyn IdempotencyStore,
    clock: &dyn Clock,
    max: u32,
) -> Result<u64, StoreError> {
    let before = clock
        .now()
        .checked_sub(IDEMPOTENCY_TTL)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    store.purge_expired(before, max).await
}
