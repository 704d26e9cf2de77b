//! Availability schedule use cases: create, read, list, update (optimistic version check) and
//! delete (refused while an event type uses the schedule).
//!
//! A schedule's zone is the zone of every event type whose first host uses it
//! ([`crate::event_type::EventType::zone`]); event types read it when they are rendered or
//! computed, so changing the zone here changes theirs without a write to the event types. Such
//! a change enqueues `event_type.updated` (the new detail) for each of those event types, in the
//! schedule's transaction.

use crate::availability::{NewSchedule, Schedule, SchedulePatch};
use crate::event_type_service::{
    EventTypeChange, event_type_message, from_store_error, load_relations, stored_now,
};
use crate::ids::{OrganizationId, ScheduleId, UserId};
use crate::ports::{
    Clock, CreateError, DeleteError, DirectoryStore, EventEncoder, IdGen, OutboxMessage,
    ScheduleStore, StoreError, UpdateError,
};
use crate::validate::{FieldErrors, version_matches};
use std::sync::Arc;

/// Why a schedule could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetScheduleError {
    #[error("schedule not found")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a schedule could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateScheduleError {
    /// Every failing field (including an owner who is not a user of the organization).
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a schedule could not be updated.
#[derive(Debug, thiserror::Error)]
pub enum UpdateScheduleError {
    #[error("schedule not found")]
    NotFound,
    #[error("The If-Match version does not match the current schedule version")]
    VersionConflict,
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a schedule could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteScheduleError {
    #[error("schedule not found")]
    NotFound,
    /// An event type names the schedule for a host.
    #[error("still in use: {0}")]
    InUse(String),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

from_store_error!(
    GetScheduleError,
    CreateScheduleError,
    UpdateScheduleError,
    DeleteScheduleError
);

impl From<CreateError> for CreateScheduleError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Duplicate { field } => Self::Duplicate { field },
            CreateError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<UpdateError> for UpdateScheduleError {
    fn from(e: UpdateError) -> Self {
        match e {
            UpdateError::NotFound => Self::NotFound,
            UpdateError::VersionConflict => Self::VersionConflict,
            UpdateError::Duplicate { field } => Self::Duplicate { field },
            UpdateError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<GetScheduleError> for UpdateScheduleError {
    fn from(e: GetScheduleError) -> Self {
        match e {
            GetScheduleError::NotFound => Self::NotFound,
            GetScheduleError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<DeleteError> for DeleteScheduleError {
    fn from(e: DeleteError) -> Self {
        match e {
            DeleteError::NotFound => Self::NotFound,
            DeleteError::InUse(what) => Self::InUse(what),
            DeleteError::Unknown(e) => Self::Unknown(e),
        }
    }
}

/// The schedule use cases.
#[derive(Clone)]
pub struct ScheduleService {
    directory: Arc<dyn DirectoryStore>,
    schedules: Arc<dyn ScheduleStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    encoder: Arc<dyn EventEncoder>,
}

impl ScheduleService {
    pub fn new(
        directory: Arc<dyn DirectoryStore>,
        schedules: Arc<dyn ScheduleStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        encoder: Arc<dyn EventEncoder>,
    ) -> Self {
        Self {
            directory,
            schedules,
            clock,
            ids,
            encoder,
        }
    }

    /// Schedules of `org`, oldest first; optionally one user's.
    pub async fn list(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>, StoreError> {
        self.schedules.list_schedules(org, user).await
    }

    pub async fn get(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Schedule, GetScheduleError> {
        self.schedules
            .get_schedule(org, id)
            .await?
            .ok_or(GetScheduleError::NotFound)
    }

    /// Creates a schedule for `new.user_id`, else for `caller`; the user must belong to `org`.
    /// Every failing field is reported at once.
    pub async fn create(
        &self,
        org: OrganizationId,
        caller: UserId,
        new: NewSchedule,
    ) -> Result<Schedule, CreateScheduleError> {
        let user = new.user_id.unwrap_or(caller);
        let mut e = FieldErrors::default();
        if self.directory.get_user(org, user).await?.is_none() {
            e.push("user_id", "must be a user of this organization");
        }
        let now = stored_now(self.clock.as_ref());
        let s = Schedule::create(ScheduleId(self.ids.new_id()), org, user, now, new, e)
            .map_err(CreateScheduleError::Invalid)?;
        self.schedules.create_schedule(&s).await?;
        Ok(s)
    }

    /// Updates schedule `id` if its stored version is `expected_version`. When the zone
    /// changes, `event_type.updated` (the detail with the new `timezone`) of every event type
    /// whose first host uses the schedule commits with it.
    pub async fn update(
        &self,
        org: OrganizationId,
        id: ScheduleId,
        expected_version: i64,
        patch: SchedulePatch,
    ) -> Result<Schedule, UpdateScheduleError> {
        let current = self.get(org, id).await?;
        version_matches(current.version, expected_version)
            .map_err(|_| UpdateScheduleError::VersionConflict)?;
        let s = current
            .patched(patch, stored_now(self.clock.as_ref()))
            .map_err(UpdateScheduleError::Invalid)?;
        let outbox = if s.zone == current.zone {
            Vec::new()
        } else {
            self.zone_changed(org, &s).await?
        };
        self.schedules
            .update_schedule(&s, expected_version, &outbox)
            .await?;
        Ok(s)
    }

    /// `event_type.updated` for each event type whose zone is `s`'s, rendered with `s`'s (new)
    /// zone. Read before the write: an event type that makes the schedule its first host's
    /// concurrently renders its own message.
    async fn zone_changed(
        &self,
        org: OrganizationId,
        s: &Schedule,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let event_types = self.schedules.zoned_event_types(org, s.id).await?;
        if event_types.is_empty() {
            return Ok(Vec::new());
        }
        let relations = load_relations(
            self.directory.as_ref(),
            self.schedules.as_ref(),
            org,
            &event_types,
        )
        .await?
        .with_zone(s.id, s.zone.clone());
        let ports = (
            self.ids.as_ref(),
            self.clock.as_ref(),
            self.encoder.as_ref(),
        );
        Ok(event_types
            .iter()
            .map(|et| event_type_message(ports, org, et, &relations, EventTypeChange::Updated))
            .collect())
    }

    /// Deletes a schedule no event type uses.
    pub async fn delete(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<(), DeleteScheduleError> {
        self.schedules.delete_schedule(org, id).await?;
        Ok(())
    }
}
