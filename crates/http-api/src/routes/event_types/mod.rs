//! Event types: the contract's reads (§3.3, §3.4) in [`read`] and Slotbook's writes (§7.1) in
//! [`write`]. [`Renderer`] turns rows into the wire shapes with their hosts, owner URL and the
//! first host's schedule zone.

#![allow(
    clippy::result_large_err,
    reason = "ApiError is the crate's one error type, returned by value like an axum rejection; shrinking it belongs in error.rs"
)]

pub mod read;
pub mod write;

use crate::error::ApiError;
use crate::routes::support::{in_use, version_conflict};
use crate::state::AppState;
use api_types::event_type::{EventTypeContext, EventTypeDetail, EventTypeDto};
use domain::availability::Zone;
use domain::event_type::EventType;
use domain::event_type_service::{
    CreateEventTypeError, DeleteEventTypeError, EventTypeRelations, GetEventTypeError,
    UpdateEventTypeError,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `/v1/event-types`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read::list_event_types, write::create_event_type))
        .routes(routes!(
            read::get_event_type,
            write::update_event_type,
            write::delete_event_type
        ))
}

/// 404 `event_type_not_found`.
pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("event_type_not_found", "Event type not found")
}

/// Renders event types with their relations (users, first hosts' schedule zones) into the
/// wire shapes.
pub(crate) struct Renderer<'a> {
    relations: &'a EventTypeRelations,
    base_url: &'a str,
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(state: &'a AppState, relations: &'a EventTypeRelations) -> Self {
        Self {
            relations,
            base_url: &state.config.public_base_url,
        }
    }

    fn ctx(&self, et: &EventType) -> EventTypeContext<'a> {
        EventTypeContext {
            users: self.relations.users(),
            public_base_url: self.base_url,
            timezone: self.relations.zone(et).map(Zone::name),
        }
    }

    pub(crate) fn summary(&self, et: &EventType) -> EventTypeDto {
        EventTypeDto::from_domain(et, self.ctx(et))
    }

    pub(crate) fn detail(&self, et: &EventType) -> EventTypeDetail {
        EventTypeDetail::from_domain(et, self.ctx(et))
    }
}

/// 409 `conflict` for a taken unique field.
pub(crate) fn taken(field: &str) -> ApiError {
    ApiError::conflict("conflict", format!("{field} is already taken"))
        .with_details(serde_json::json!({ "field": field }))
}

const STALE: &str = "The If-Match version does not match the current event type version";

impl From<GetEventTypeError> for ApiError {
    fn from(e: GetEventTypeError) -> Self {
        match e {
            GetEventTypeError::NotFound => not_found(),
            GetEventTypeError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<CreateEventTypeError> for ApiError {
    fn from(e: CreateEventTypeError) -> Self {
        match e {
            CreateEventTypeError::Invalid(e) => ApiError::validation(&e),
            CreateEventTypeError::Duplicate { field } => taken(field),
            CreateEventTypeError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<UpdateEventTypeError> for ApiError {
    fn from(e: UpdateEventTypeError) -> Self {
        match e {
            UpdateEventTypeError::NotFound => not_found(),
            UpdateEventTypeError::VersionConflict => version_conflict(STALE),
            UpdateEventTypeError::Invalid(e) => ApiError::validation(&e),
            UpdateEventTypeError::Duplicate { field } => taken(field),
            UpdateEventTypeError::Unknown(e) => ApiError::internal(e),
        }
    }
}

impl From<DeleteEventTypeError> for ApiError {
    fn from(e: DeleteEventTypeError) -> Self {
        match e {
            DeleteEventTypeError::NotFound => not_found(),
            DeleteEventTypeError::InUse(what) => in_use("event type", &what),
            DeleteEventTypeError::Unknown(e) => ApiError::internal(e),
        }
    }
}
