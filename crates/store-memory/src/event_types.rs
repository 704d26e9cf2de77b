//! [`EventTypeStore`]: event types. Slugs are unique per owner; updates are optimistic; the
//! outbox messages of an update or delete are written in the same step as the change. Updates
//! and deletes take the writer turn, so they never land inside a booking transaction that read
//! the event type.

use crate::outbox::{check_new, insert_checked};
use crate::page::keyset;
use crate::state::{State, ms, tenant};
use crate::{MemoryStore, missing_org};
use async_trait::async_trait;
use domain::event_type::EventType;
use domain::ids::{EventTypeId, OrganizationId};
use domain::pagination::{CursorValue, Page};
use domain::ports::{
    CreateError, DeleteError, EventTypeQuery, EventTypeSort, EventTypeStore, OutboxMessage,
    StoreError, UpdateError,
};

/// Another event type of the same owner already uses `et.slug`.
fn slug_taken(state: &State, et: &EventType) -> bool {
    state
        .event_types
        .range(tenant(et.organization_id))
        .any(|(_, o)| o.id != et.id && o.owner_user_id == et.owner_user_id && o.slug == et.slug)
}

fn matches(et: &EventType, q: &EventTypeQuery) -> bool {
    q.user_id
        .is_none_or(|u| et.owner_user_id == u || et.hosts.iter().any(|h| h.user_id == u))
        && q.slug.as_ref().is_none_or(|s| &et.slug == s)
        && q.active.is_none_or(|a| et.active == a)
}

#[async_trait]
impl EventTypeStore for MemoryStore {
    async fn create_event_type(&self, event_type: &EventType) -> Result<(), CreateError> {
        let mut state = self.state();
        let org = event_type.organization_id;
        if !state.orgs.contains_key(&org) {
            return Err(CreateError::Unknown(missing_org(org)));
        }
        if state.event_types.contains_key(&(org, event_type.id)) {
            return Err(CreateError::Duplicate { field: "id" });
        }
        if slug_taken(&state, event_type) {
            return Err(CreateError::Duplicate { field: "slug" });
        }
        state
            .event_types
            .insert((org, event_type.id), event_type.clone());
        Ok(())
    }

    async fn get_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<Option<EventType>, StoreError> {
        Ok(self.state().event_types.get(&(org, id)).cloned())
    }

    async fn find_event_type(
        &self,
        org: OrganizationId,
        username: &str,
        slug: &str,
    ) -> Result<Option<EventType>, StoreError> {
        let state = self.state();
        Ok(state
            .event_types
            .range(tenant(org))
            .map(|(_, et)| et)
            .find(|et| {
                et.slug == slug
                    && state
                        .users
                        .get(&(org, et.owner_user_id))
                        .and_then(|u| u.username.as_ref())
                        .is_some_and(|n| n.as_str() == username)
            })
            .cloned())
    }

    async fn list_event_types(
        &self,
        org: OrganizationId,
        query: &EventTypeQuery,
    ) -> Result<Page<EventType>, StoreError> {
        let rows: Vec<EventType> = self
            .state()
            .event_types
            .range(tenant(org))
            .map(|(_, et)| et)
            .filter(|et| matches(et, query))
            .cloned()
            .collect();
        let sort = query.sort;
        let desc = sort == EventTypeSort::CreatedAtDesc;
        Ok(keyset(rows, sort.as_str(), desc, &query.page, |et| {
            let value = match sort {
                EventTypeSort::TitleAsc => CursorValue::Text(et.title.clone()),
                _ => CursorValue::Int(ms(et.created_at)),
            };
            (value, et.id.as_uuid())
        }))
    }

    async fn update_event_type(
        &self,
        event_type: &EventType,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError> {
        let _turn = self.write_turn().await;
        let mut state = self.state();
        let key = (event_type.organization_id, event_type.id);
        let stored = state.event_types.get(&key).ok_or(UpdateError::NotFound)?;
        if stored.version != expected_version {
            return Err(UpdateError::VersionConflict);
        }
        let created_at = stored.created_at;
        if slug_taken(&state, event_type) {
            return Err(UpdateError::Duplicate { field: "slug" });
        }
        check_new(&state, outbox)?;
        state.event_types.insert(
            key,
            EventType {
                created_at,
                ..event_type.clone()
            },
        );
        insert_checked(&mut state, outbox);
        Ok(())
    }

    async fn delete_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        outbox: &[OutboxMessage],
    ) -> Result<(), DeleteError> {
        let _turn = self.write_turn().await;
        let mut state = self.state();
        if !state.event_types.contains_key(&(org, id)) {
            return Err(DeleteError::NotFound);
        }
        let held = state
            .bookings
            .range(tenant(org))
            .any(|(_, b)| b.booking.event_type_id == id && b.booking.status.holds_time());
        if held {
            return Err(DeleteError::InUse(
                "bookings of this event type still hold time".into(),
            ));
        }
        check_new(&state, outbox).map_err(|StoreError::Unknown(e)| DeleteError::Unknown(e))?;
        state.event_types.remove(&(org, id));
        insert_checked(&mut state, outbox);
        Ok(())
    }
}
