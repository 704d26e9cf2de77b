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
use crate::routes::support::users_by_id;
use crate::state::AppState;
use api_types::event_type::{EventType as EventTypeDto, EventTypeContext, EventTypeDetail};
use domain::event_type::EventType;
use domain::ids::{OrganizationId, ScheduleId};
use domain::organization::User;
use domain::ports::DomainEvent;
use std::collections::HashMap;
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

/// What rendering some event types needs: their hosts' and owners' users and the zones of
/// their first hosts' schedules.
pub(crate) struct Renderer {
    users: Vec<User>,
    zones: HashMap<ScheduleId, String>,
    base_url: String,
}

impl Renderer {
    /// Loads the users and schedule zones `event_types` refer to.
    pub(crate) async fn load(
        state: &AppState,
        org: OrganizationId,
        event_types: &[EventType],
    ) -> Result<Self, ApiError> {
        let mut ids = Vec::new();
        for et in event_types {
            ids.push(et.owner_user_id);
            ids.extend(et.hosts.iter().map(|h| h.user_id));
        }
        let users = users_by_id(state, org, ids).await?;
        let mut zones = HashMap::new();
        for et in event_types {
            if let Some(h) = et.hosts.first()
                && !zones.contains_key(&h.schedule_id)
                && let Some(s) = state.store.get_schedule(org, h.schedule_id).await?
            {
                zones.insert(h.schedule_id, s.zone.name().to_owned());
            }
        }
        Ok(Self {
            users,
            zones,
            base_url: state.config.public_base_url.clone(),
        })
    }

    fn ctx<'a>(&'a self, et: &EventType) -> EventTypeContext<'a> {
        EventTypeContext {
            users: &self.users,
            public_base_url: &self.base_url,
            timezone: self.zone(et),
        }
    }

    /// The zone of `et`'s first host's schedule.
    fn zone(&self, et: &EventType) -> Option<&str> {
        et.hosts
            .first()
            .and_then(|h| self.zones.get(&h.schedule_id))
            .map(String::as_str)
    }

    /// The webhook event for a change of `et`, rendered by the state's `EventEncoder` into
    /// exactly the GET detail shape.
    pub(crate) fn event<'a>(&'a self, et: &'a EventType, deleted: bool) -> DomainEvent<'a> {
        let (hosts, timezone) = (self.users.as_slice(), self.zone(et));
        if deleted {
            DomainEvent::EventTypeDeleted {
                event_type: et,
                hosts,
                timezone,
            }
        } else {
            DomainEvent::EventTypeUpdated {
                event_type: et,
                hosts,
                timezone,
            }
        }
    }

    pub(crate) fn summary(&self, et: &EventType) -> EventTypeDto {
        EventTypeDto::from_domain(et, self.ctx(et))
    }

    pub(crate) fn detail(&self, et: &EventType) -> EventTypeDetail {
        EventTypeDetail::from_domain(et, self.ctx(et))
    }
}
