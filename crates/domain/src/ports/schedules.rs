//! Availability schedules.

use super::{CreateError, DeleteError, StoreError, UpdateError};
use crate::availability::Schedule;
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
    /// Writes `schedule` (whose `version` is already bumped) only if the stored version equals
    /// `expected_version`.
    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: i64,
    ) -> Result<(), UpdateError>;
    /// Refuses with `InUse` while an event type names the schedule for a host.
    async fn delete_schedule(&self, org: OrganizationId, id: ScheduleId)
    -> Result<(), DeleteError>;
}
