//! Event types.

use super::{CreateError, DeleteError, OutboxMessage, StoreError, UpdateError};
use crate::event_type::EventType;
use crate::ids::*;
use crate::pagination::{Page, PageRequest};
use async_trait::async_trait;

/// Sort orders of `GET /v1/event-types`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EventTypeSort {
    #[default]
    CreatedAtDesc,
    CreatedAtAsc,
    TitleAsc,
}

impl EventTypeSort {
    pub const ALL: [EventTypeSort; 3] = [Self::CreatedAtDesc, Self::CreatedAtAsc, Self::TitleAsc];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CreatedAtDesc => "created_at_desc",
            Self::CreatedAtAsc => "created_at_asc",
            Self::TitleAsc => "title_asc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Filters of `GET /v1/event-types`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTypeQuery {
    /// Event types owned by or hosted by this user.
    pub user_id: Option<UserId>,
    pub slug: Option<String>,
    pub active: Option<bool>,
    pub sort: EventTypeSort,
    pub page: PageRequest,
}

/// Event types.
#[async_trait]
pub trait EventTypeStore: Send + Sync {
    /// Slugs are unique per owner → `Duplicate { field: "slug" }`.
    async fn create_event_type(&self, event_type: &EventType) -> Result<(), CreateError>;
    async fn get_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<Option<EventType>, StoreError>;
    /// By the owner's username and the slug.
    async fn find_event_type(
        &self,
        org: OrganizationId,
        username: &str,
        slug: &str,
    ) -> Result<Option<EventType>, StoreError>;
    async fn list_event_types(
        &self,
        org: OrganizationId,
        query: &EventTypeQuery,
    ) -> Result<Page<EventType>, StoreError>;
    /// Optimistic update; `outbox` messages commit in the same transaction.
    async fn update_event_type(
        &self,
        event_type: &EventType,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError>;
    /// Deletes the event type (its bookings stay); `outbox` commits in the same transaction.
    /// `InUse` while bookings reference it and still hold time.
    async fn delete_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        outbox: &[OutboxMessage],
    ) -> Result<(), DeleteError>;
}
