//! Availability schedules.

use super::{CreateError, DeleteError, OutboxMessage, StoreError, UpdateError};
use crate::availability::Schedule;
use crate::event_type::EventType;
use crate::ids::*;
use async_trait::async_trait;

/// Availability schedules.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    async fn create_schedule(&self, schedule: &Schedule) -> Result<(), CreateError>;
    async fn get_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError>;
    /// Oldest first; optionally only one user's.
    async fn list_schedules(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>, StoreError>;
    /// The event types of `org` whose zone is schedule `id`'s: those whose *first* host uses
    /// it ([`EventType::zone`]), oldest first.
    async fn zoned_event_types(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Vec<EventType>, StoreError>;
    /// Writes `schedule` (whose `version` is already bumped) only if the stored version equals
    /// `expected_version`; `outbox` messages commit in the same transaction or not at all.
    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError>;
    /// Refuses with `InUse` while an event type names the schedule for a host.
    async fn delete_schedule(&self, org: OrganizationId, id: ScheduleId)
    -> Result<(), DeleteError>;
}
