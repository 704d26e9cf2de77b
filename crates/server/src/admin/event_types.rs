//! Event types through `domain::event_type_service::EventTypeService`: each host uses their
//! first (oldest) availability schedule.

use super::{AdminContext, AdminError, field_errors};
use domain::event_type::{EventType, HostRequest, SchedulingType};
use domain::event_type_service::CreateEventTypeError;
use domain::pagination::{Cursor, Limit, MAX_LIMIT, PageRequest};
use domain::ports::{EventTypeQuery, EventTypeSort};
use domain::{OrganizationId, UserId};

/// An event type to create.
#[derive(Debug, Clone)]
pub struct NewEventType {
    pub org: OrganizationId,
    pub owner: UserId,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub duration_minutes: u32,
    /// Distance between candidate starts; `None` = the duration.
    pub interval_minutes: Option<u32>,
    pub scheduling_type: SchedulingType,
    /// Hosts in order; empty = the owner alone.
    pub hosts: Vec<UserId>,
    /// Seats per slot (group event types).
    pub seats: Option<u32>,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub minimum_notice_hours: u32,
    /// `0` = no limit.
    pub future_limit_days: u32,
}

impl NewEventType {
    /// An active individual event type of `owner` with no buffers, no notice and a 60-day horizon.
    pub fn individual(
        org: OrganizationId,
        owner: UserId,
        slug: &str,
        title: &str,
        duration_minutes: u32,
    ) -> Self {
        Self {
            org,
            owner,
            slug: slug.to_owned(),
            title: title.to_owned(),
            description: None,
            duration_minutes,
            interval_minutes: None,
            scheduling_type: SchedulingType::Individual,
            hosts: Vec::new(),
            seats: None,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            minimum_notice_hours: 0,
            future_limit_days: 60,
        }
    }
}

/// Creates an event type; every host must belong to `org` and have a schedule (each host uses
/// their first).
pub async fn create_event_type(ctx: &AdminContext, new: NewEventType) -> anyhow::Result<EventType> {
    let services = ctx.services();
    ctx.user(new.org, new.owner).await?;
    let host_ids = if new.hosts.is_empty() {
        vec![new.owner]
    } else {
        new.hosts.clone()
    };
    for &user in &host_ids {
        ctx.user(new.org, user).await?;
        if services
            .schedules
            .list(new.org, Some(user))
            .await?
            .is_empty()
        {
            return Err(AdminError::HostWithoutSchedule { org: new.org, user }.into());
        }
    }
    let input = domain::event_type::NewEventType {
        owner_user_id: Some(new.owner),
        slug: Some(new.slug.trim().to_owned()),
        title: Some(new.title.trim().to_owned()),
        description: new.description.filter(|d| !d.trim().is_empty()),
        duration_minutes: Some(new.duration_minutes),
        slot_interval_minutes: new.interval_minutes,
        scheduling_type: Some(new.scheduling_type.as_str().to_owned()),
        hosts: Some(
            host_ids
                .into_iter()
                .map(|user_id| HostRequest {
                    user_id,
                    schedule_id: None,
                })
                .collect(),
        ),
        buffer_before_minutes: Some(new.buffer_before_minutes),
        buffer_after_minutes: Some(new.buffer_after_minutes),
        minimum_notice_hours: Some(new.minimum_notice_hours),
        future_limit_days: Some(new.future_limit_days),
        seats: Some(new.seats.unwrap_or(match new.scheduling_type {
            SchedulingType::Group => 0,
            _ => 1,
        })),
        ..Default::default()
    };
    match services.event_types.create(new.org, input).await {
        Ok(created) => Ok(created.value),
        Err(CreateEventTypeError::Invalid(e)) => Err(field_errors("event type", &e)),
        Err(CreateEventTypeError::Duplicate { field }) => {
            Err(AdminError::Invalid(format!("{field} is already taken for this owner")).into())
        }
        Err(CreateEventTypeError::Unknown(e)) => Err(e),
    }
}

/// All event types of one organization, oldest first.
pub async fn list_event_types(
    ctx: &AdminContext,
    org: OrganizationId,
) -> anyhow::Result<Vec<EventType>> {
    ctx.organization(org).await?;
    let services = ctx.services();
    let mut out = Vec::new();
    let sort = EventTypeSort::CreatedAtAsc;
    let mut query = EventTypeQuery {
        sort,
        page: PageRequest {
            limit: Limit::new(i64::from(MAX_LIMIT)).map_err(anyhow::Error::msg)?,
            after: None,
        },
        ..EventTypeQuery::default()
    };
    loop {
        let page = services.event_types.list(org, &query).await?.value;
        out.extend(page.items);
        match page.next_cursor {
            Some(cursor) => {
                query.page.after =
                    Some(Cursor::decode(&cursor, sort.as_str()).map_err(anyhow::Error::msg)?);
            }
            None => return Ok(out),
        }
    }
}
