//! Event type use cases: create, update (optimistic version check), delete, get by id or by
//! `username/slug`, list — with host resolution ("each host must be a user of the
//! organization; the schedule defaults to the user's first") and the `event_type.updated` /
//! `event_type.deleted` outbox messages, which commit with the change.
//!
//! Reads return the event types together with their [`EventTypeRelations`] (the users they
//! name and their first hosts' schedule zones), everything an adapter needs to render them.

use crate::availability::Zone;
use crate::event_type::{
    EventType, EventTypePatch, EventTypeRef, Host, HostRequest, NewEventType, NewRow,
};
use crate::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use crate::organization::User;
use crate::pagination::Page;
use crate::ports::{
    Clock, CreateError, DeleteError, DirectoryStore, DomainEvent, EventEncoder, EventTypeQuery,
    EventTypeStore, IdGen, OutboxMessage, ScheduleStore, StoreError, UpdateError,
};
use crate::validate::{FieldErrors, version_matches};
use std::collections::HashMap;
use std::sync::Arc;

/// The users some event types name (owners and hosts) and the zones of their first hosts'
/// schedules.
#[derive(Debug, Clone, Default)]
pub struct EventTypeRelations {
    users: Vec<User>,
    zones: HashMap<ScheduleId, Zone>,
}

impl EventTypeRelations {
    /// The users, each once.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The same relations with schedule `id`'s zone taken as `zone` (a schedule change
    /// rendered before it is written).
    pub(crate) fn with_zone(mut self, id: ScheduleId, zone: Zone) -> Self {
        self.zones.insert(id, zone);
        self
    }

    /// `et`'s first host's schedule zone, when that schedule exists ([`EventType::host_zone`]).
    pub fn zone(&self, et: &EventType) -> Option<&Zone> {
        et.host_zone(|id| self.zones.get(&id))
    }
}

/// A value with the relations needed to render it.
#[derive(Debug, Clone)]
pub struct WithRelations<T> {
    pub value: T,
    pub relations: EventTypeRelations,
}

/// Why an event type could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetEventTypeError {
    #[error("event type not found")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why an event type could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateEventTypeError {
    /// Every failing field.
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why an event type could not be updated.
#[derive(Debug, thiserror::Error)]
pub enum UpdateEventTypeError {
    #[error("event type not found")]
    NotFound,
    /// The expected version is not the stored one; nothing was written.
    #[error("The If-Match version does not match the current event type version")]
    VersionConflict,
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why an event type could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteEventTypeError {
    #[error("event type not found")]
    NotFound,
    /// Bookings that still hold time refer to it.
    #[error("still in use: {0}")]
    InUse(String),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

macro_rules! from_store_error {
    ($($t:ty),*) => {$(
        impl From<$crate::ports::StoreError> for $t {
            fn from(e: $crate::ports::StoreError) -> Self {
                let $crate::ports::StoreError::Unknown(e) = e;
                Self::Unknown(e)
            }
        }
    )*};
}
pub(crate) use from_store_error;

/// The clock's instant truncated to milliseconds, the precision stores keep, so a created
/// object equals what a later read returns.
pub(crate) fn stored_now(clock: &dyn Clock) -> jiff::Timestamp {
    let now = clock.now();
    jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

from_store_error!(
    GetEventTypeError,
    CreateEventTypeError,
    UpdateEventTypeError,
    DeleteEventTypeError
);

impl From<CreateError> for CreateEventTypeError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Duplicate { field } => Self::Duplicate { field },
            CreateError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<UpdateError> for UpdateEventTypeError {
    fn from(e: UpdateError) -> Self {
        match e {
            UpdateError::NotFound => Self::NotFound,
            UpdateError::VersionConflict => Self::VersionConflict,
            UpdateError::Duplicate { field } => Self::Duplicate { field },
            UpdateError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<DeleteError> for DeleteEventTypeError {
    fn from(e: DeleteError) -> Self {
        match e {
            DeleteError::NotFound => Self::NotFound,
            DeleteError::InUse(what) => Self::InUse(what),
            DeleteError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<GetEventTypeError> for UpdateEventTypeError {
    fn from(e: GetEventTypeError) -> Self {
        match e {
            GetEventTypeError::NotFound => Self::NotFound,
            GetEventTypeError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<GetEventTypeError> for DeleteEventTypeError {
    fn from(e: GetEventTypeError) -> Self {
        match e {
            GetEventTypeError::NotFound => Self::NotFound,
            GetEventTypeError::Unknown(e) => Self::Unknown(e),
        }
    }
}

/// The event type of `org` named by `key` (shared by the services that address event types).
pub async fn find_event_type(
    store: &dyn EventTypeStore,
    org: OrganizationId,
    key: &EventTypeRef,
) -> Result<Option<EventType>, StoreError> {
    match key {
        EventTypeRef::Id(id) => store.get_event_type(org, *id).await,
        EventTypeRef::Slug { username, slug } => store.find_event_type(org, username, slug).await,
    }
}

/// `et`'s zone by [`EventType::zone`], reading its first host's schedule from `schedules`.
pub async fn event_type_zone(
    schedules: &dyn ScheduleStore,
    et: &EventType,
) -> Result<Zone, StoreError> {
    let schedule = match et.zone_schedule_id() {
        Some(id) => schedules.get_schedule(et.organization_id, id).await?,
        None => None,
    };
    Ok(et.zone(|_| schedule.as_ref().map(|s| &s.zone)))
}

/// Loads the users (owners and hosts, each once) and first-host schedule zones
/// `event_types` refer to.
pub(crate) async fn load_relations(
    directory: &dyn DirectoryStore,
    schedules: &dyn ScheduleStore,
    org: OrganizationId,
    event_types: &[EventType],
) -> Result<EventTypeRelations, StoreError> {
    let mut ids = Vec::new();
    for et in event_types {
        ids.push(et.owner_user_id);
        ids.extend(et.hosts.iter().map(|h| h.user_id));
    }
    ids.sort();
    ids.dedup();
    let mut users = Vec::new();
    for id in ids {
        if let Some(u) = directory.get_user(org, id).await? {
            users.push(u);
        }
    }
    let mut zones = HashMap::new();
    for et in event_types {
        if let Some(id) = et.zone_schedule_id()
            && !zones.contains_key(&id)
            && let Some(s) = schedules.get_schedule(org, id).await?
        {
            zones.insert(id, s.zone);
        }
    }
    Ok(EventTypeRelations { users, zones })
}

/// Which change of an event type an outbox message describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventTypeChange {
    Updated,
    Deleted,
}

/// The outbox message of a change of `event_type` (`event_type.updated` /
/// `event_type.deleted`), its payload rendered by the encoder as the detail shape with
/// `relations`.
pub(crate) fn event_type_message(
    (ids, clock, encoder): (&dyn IdGen, &dyn Clock, &dyn EventEncoder),
    org: OrganizationId,
    event_type: &EventType,
    relations: &EventTypeRelations,
    change: EventTypeChange,
) -> OutboxMessage {
    let hosts = relations.users();
    let timezone = relations.zone(event_type).map(Zone::name);
    let event = match change {
        EventTypeChange::Deleted => DomainEvent::EventTypeDeleted {
            event_type,
            hosts,
            timezone,
        },
        EventTypeChange::Updated => DomainEvent::EventTypeUpdated {
            event_type,
            hosts,
            timezone,
        },
    };
    OutboxMessage {
        id: ids.new_id().into(),
        organization_id: org,
        event: event.name().to_owned(),
        payload: encoder.encode(&event),
        created_at: clock.now(),
    }
}

/// The event type use cases.
#[derive(Clone)]
pub struct EventTypeService {
    directory: Arc<dyn DirectoryStore>,
    schedules: Arc<dyn ScheduleStore>,
    event_types: Arc<dyn EventTypeStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    encoder: Arc<dyn EventEncoder>,
}

impl EventTypeService {
    pub fn new(
        directory: Arc<dyn DirectoryStore>,
        schedules: Arc<dyn ScheduleStore>,
        event_types: Arc<dyn EventTypeStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        encoder: Arc<dyn EventEncoder>,
    ) -> Self {
        Self {
            directory,
            schedules,
            event_types,
            clock,
            ids,
            encoder,
        }
    }

    /// The event type of `org` named by `key`, without relations.
    pub async fn find(
        &self,
        org: OrganizationId,
        key: &EventTypeRef,
    ) -> Result<EventType, GetEventTypeError> {
        find_event_type(self.event_types.as_ref(), org, key)
            .await?
            .ok_or(GetEventTypeError::NotFound)
    }

    /// The event type named by `key`, with its relations.
    pub async fn get(
        &self,
        org: OrganizationId,
        key: &EventTypeRef,
    ) -> Result<WithRelations<EventType>, GetEventTypeError> {
        let et = self.find(org, key).await?;
        self.with_relations(org, et).await.map_err(Into::into)
    }

    /// A page of event types, with their relations.
    pub async fn list(
        &self,
        org: OrganizationId,
        query: &EventTypeQuery,
    ) -> Result<WithRelations<Page<EventType>>, StoreError> {
        let page = self.event_types.list_event_types(org, query).await?;
        let relations = self.relations(org, &page.items).await?;
        Ok(WithRelations {
            value: page,
            relations,
        })
    }

    /// Creates an event type. Every failing field is reported at once: required fields,
    /// values, the owner and the host resolution.
    pub async fn create(
        &self,
        org: OrganizationId,
        mut new: NewEventType,
    ) -> Result<WithRelations<EventType>, CreateEventTypeError> {
        let mut e = FieldErrors::default();
        let requests = new.hosts.take();
        let hosts = match &requests {
            Some(r) => self.resolve_hosts(org, r, &mut e).await?,
            None => {
                e.push("hosts", "is required");
                Vec::new()
            }
        };
        let owner = new
            .owner_user_id
            .or_else(|| requests.as_ref()?.first().map(|h| h.user_id));
        let owner = match owner {
            Some(o) if self.directory.get_user(org, o).await?.is_some() => o,
            Some(o) => {
                e.push("owner_user_id", "must be a user of this organization");
                o
            }
            None if requests.is_some() => {
                e.push("owner_user_id", "must be a user of this organization");
                UserId(uuid::Uuid::nil())
            }
            None => UserId(uuid::Uuid::nil()),
        };
        let row = NewRow {
            id: EventTypeId(self.ids.new_id()),
            organization_id: org,
            now: stored_now(self.clock.as_ref()),
        };
        let et =
            EventType::create(row, owner, hosts, new, e).map_err(CreateEventTypeError::Invalid)?;
        self.event_types.create_event_type(&et).await?;
        Ok(self.with_relations(org, et).await?)
    }

    /// Updates event type `id` if its stored version is `expected_version`, and enqueues
    /// `event_type.updated` (the new detail) in the same transaction.
    pub async fn update(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        expected_version: i64,
        mut patch: EventTypePatch,
    ) -> Result<WithRelations<EventType>, UpdateEventTypeError> {
        let current = self.find(org, &EventTypeRef::Id(id)).await?;
        version_matches(current.version, expected_version)
            .map_err(|_| UpdateEventTypeError::VersionConflict)?;
        let mut e = FieldErrors::default();
        let hosts = match patch.hosts.take() {
            Some(r) => Some(self.resolve_hosts(org, &r, &mut e).await?),
            None => None,
        };
        let et = current
            .patched(patch, hosts, stored_now(self.clock.as_ref()), e)
            .map_err(UpdateEventTypeError::Invalid)?;
        let done = self.with_relations(org, et).await?;
        let msg = self.outbox(org, &done, false);
        self.event_types
            .update_event_type(&done.value, expected_version, &[msg])
            .await?;
        Ok(done)
    }

    /// Deletes event type `id` (its bookings stay) and enqueues `event_type.deleted` in the
    /// same transaction.
    pub async fn delete(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<(), DeleteEventTypeError> {
        let et = self.find(org, &EventTypeRef::Id(id)).await?;
        let done = self.with_relations(org, et).await?;
        let msg = self.outbox(org, &done, true);
        self.event_types.delete_event_type(org, id, &[msg]).await?;
        Ok(())
    }

    /// The zone of `et` by [`EventType::zone`] (first host's schedule zone, else UTC).
    pub async fn zone(&self, et: &EventType) -> Result<Zone, StoreError> {
        event_type_zone(self.schedules.as_ref(), et).await
    }

    async fn with_relations(
        &self,
        org: OrganizationId,
        et: EventType,
    ) -> Result<WithRelations<EventType>, StoreError> {
        let relations = self.relations(org, std::slice::from_ref(&et)).await?;
        Ok(WithRelations {
            value: et,
            relations,
        })
    }

    /// Loads the users and first-host schedule zones `event_types` refer to.
    pub async fn relations(
        &self,
        org: OrganizationId,
        event_types: &[EventType],
    ) -> Result<EventTypeRelations, StoreError> {
        load_relations(
            self.directory.as_ref(),
            self.schedules.as_ref(),
            org,
            event_types,
        )
        .await
    }

    /// Resolves requested hosts into `e`: each user must belong to `org`; the schedule must be
    /// one of `org`'s and defaults to the user's first schedule. Problems name `hosts`.
    async fn resolve_hosts(
        &self,
        org: OrganizationId,
        requests: &[HostRequest],
        e: &mut FieldErrors,
    ) -> Result<Vec<Host>, StoreError> {
        let mut hosts = Vec::new();
        // The count is checked before any lookup: a request naming 10,000 hosts costs nothing.
        if requests.len() > crate::event_type::MAX_HOSTS {
            e.push(
                "hosts",
                format!("must list 1 to {} hosts", crate::event_type::MAX_HOSTS),
            );
            return Ok(hosts);
        }
        for (i, h) in requests.iter().enumerate() {
            if self.directory.get_user(org, h.user_id).await?.is_none() {
                e.push(
                    "hosts",
                    format!("hosts[{i}].user_id is not a user of this organization"),
                );
                continue;
            }
            let schedule = match h.schedule_id {
                Some(s) => self.schedules.get_schedule(org, s).await?.map(|s| s.id),
                None => self
                    .schedules
                    .list_schedules(org, Some(h.user_id))
                    .await?
                    .first()
                    .map(|s| s.id),
            };
            match schedule {
                Some(schedule_id) => hosts.push(Host {
                    user_id: h.user_id,
                    schedule_id,
                }),
                None if h.schedule_id.is_some() => e.push(
                    "hosts",
                    format!("hosts[{i}].schedule_id is not a schedule of this organization"),
                ),
                None => e.push(
                    "hosts",
                    format!("hosts[{i}]: the user has no schedule; create one or pass schedule_id"),
                ),
            }
        }
        Ok(hosts)
    }

    /// The outbox message of a change of `et`, rendered by the encoder as the detail shape.
    fn outbox(
        &self,
        org: OrganizationId,
        et: &WithRelations<EventType>,
        deleted: bool,
    ) -> OutboxMessage {
        let kind = if deleted {
            EventTypeChange::Deleted
        } else {
            EventTypeChange::Updated
        };
        event_type_message(
            (
                self.ids.as_ref(),
                self.clock.as_ref(),
                self.encoder.as_ref(),
            ),
            org,
            &et.value,
            &et.relations,
            kind,
        )
    }
}
