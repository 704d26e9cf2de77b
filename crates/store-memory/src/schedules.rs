//! [`ScheduleStore`]: availability schedules. Updates are optimistic (the stored version must
//! equal the expected one) and write their outbox messages in the same step; a schedule an
//! event type still names for a host is never deleted.
//! Updates and deletes take the writer turn, so they never land inside a booking transaction
//! that read the schedule.

use crate::outbox::{check_new, insert_checked};
use crate::state::{ms, tenant};
use crate::{MemoryStore, missing_org};
use async_trait::async_trait;
use domain::availability::Schedule;
use domain::event_type::EventType;
use domain::ids::{OrganizationId, ScheduleId, UserId};
use domain::ports::{
    CreateError, DeleteError, OutboxMessage, ScheduleStore, StoreError, UpdateError,
};

#[async_trait]
impl ScheduleStore for MemoryStore {
    async fn create_schedule(&self, schedule: &Schedule) -> Result<(), CreateError> {
        let mut state = self.state();
        if !state.orgs.contains_key(&schedule.organization_id) {
            return Err(CreateError::Unknown(missing_org(schedule.organization_id)));
        }
        let key = (schedule.organization_id, schedule.id);
        if state.schedules.contains_key(&key) {
            return Err(CreateError::Duplicate { field: "id" });
        }
        state.schedules.insert(key, schedule.clone());
        Ok(())
    }

    async fn get_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        Ok(self.state().schedules.get(&(org, id)).cloned())
    }

    async fn list_schedules(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>, StoreError> {
        let mut rows: Vec<Schedule> = self
            .state()
            .schedules
            .range(tenant(org))
            .map(|(_, s)| s)
            .filter(|s| user.is_none_or(|u| s.user_id == u))
            .cloned()
            .collect();
        rows.sort_by_key(|s| (ms(s.created_at), s.id));
        Ok(rows)
    }

    async fn zoned_event_types(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Vec<EventType>, StoreError> {
        let mut rows: Vec<EventType> = self
            .state()
            .event_types
            .range(tenant(org))
            .map(|(_, et)| et)
            .filter(|et| et.zone_schedule_id() == Some(id))
            .cloned()
            .collect();
        rows.sort_by_key(|et| (ms(et.created_at), et.id));
        Ok(rows)
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError> {
        let _turn = self.write_turn().await;
        let mut state = self.state();
        let stored = state
            .schedules
            .get(&(schedule.organization_id, schedule.id))
            .ok_or(UpdateError::NotFound)?;
        if stored.version != expected_version {
            return Err(UpdateError::VersionConflict);
        }
        // The row's identity and creation instant never change.
        let created_at = stored.created_at;
        check_new(&state, outbox)?;
        state.schedules.insert(
            (schedule.organization_id, schedule.id),
            Schedule {
                created_at,
                ..schedule.clone()
            },
        );
        insert_checked(&mut state, outbox);
        Ok(())
    }

    async fn delete_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<(), DeleteError> {
        let _turn = self.write_turn().await;
        let mut state = self.state();
        let used = state
            .event_types
            .range(tenant(org))
            .any(|(_, et)| et.hosts.iter().any(|h| h.schedule_id == id));
        if used {
            return Err(DeleteError::InUse(
                "an event type uses this schedule for a host".into(),
            ));
        }
        state
            .schedules
            .remove(&(org, id))
            .map(|_| ())
            .ok_or(DeleteError::NotFound)
    }
}
