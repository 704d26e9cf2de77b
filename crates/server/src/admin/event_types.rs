//! Event types: each host uses their first (oldest) availability schedule.

use super::{AdminContext, AdminError, field_errors};
use domain::event_type::{BookingLimits, EventType, Host, SchedulingType};
use domain::pagination::{Cursor, Limit, MAX_LIMIT, PageRequest};
use domain::ports::{CreateError, EventTypeQuery, EventTypeSort};
use domain::{EventTypeId, OrganizationId, UserId};

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

/// The default event colour.
pub const DEFAULT_COLOR: &str = "#7c3aed";

/// Creates an event type; every host must belong to `org` and have a schedule.
pub async fn create_event_type(ctx: &AdminContext, new: NewEventType) -> anyhow::Result<EventType> {
    ctx.user(new.org, new.owner).await?;
    let host_ids = if new.hosts.is_empty() {
        vec![new.owner]
    } else {
        new.hosts.clone()
    };
    let mut hosts = Vec::with_capacity(host_ids.len());
    for user in host_ids {
        ctx.user(new.org, user).await?;
        let schedule = ctx
            .store
            .list_schedules(new.org, Some(user))
            .await?
            .into_iter()
            .next()
            .ok_or(AdminError::HostWithoutSchedule { org: new.org, user })?;
        hosts.push(Host {
            user_id: user,
            schedule_id: schedule.id,
        });
    }
    let now = ctx.now();
    let event_type = EventType {
        id: EventTypeId(ctx.ids.new_id()),
        organization_id: new.org,
        owner_user_id: new.owner,
        slug: new.slug.trim().to_owned(),
        title: new.title.trim().to_owned(),
        description: new.description.filter(|d| !d.trim().is_empty()),
        duration_minutes: new.duration_minutes,
        slot_interval_minutes: new.interval_minutes.unwrap_or(new.duration_minutes),
        active: true,
        scheduling_type: new.scheduling_type,
        hosts,
        color: DEFAULT_COLOR.to_owned(),
        buffer_before_minutes: new.buffer_before_minutes,
        buffer_after_minutes: new.buffer_after_minutes,
        minimum_notice_hours: new.minimum_notice_hours,
        future_limit_days: new.future_limit_days,
        limits: BookingLimits::default(),
        seats: new.seats.unwrap_or(match new.scheduling_type {
            SchedulingType::Group => 0,
            _ => 1,
        }),
        requires_confirmation: false,
        allow_reschedule: true,
        allow_cancel: true,
        locations: Vec::new(),
        questions: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    event_type
        .validate()
        .map_err(|e| field_errors("event type", &e))?;
    match ctx.store.create_event_type(&event_type).await {
        Ok(()) => Ok(event_type),
        Err(CreateError::Duplicate { field }) => {
            Err(AdminError::Invalid(format!("{field} is already taken for this owner")).into())
        }
        Err(CreateError::Unknown(e)) => Err(e),
    }
}

/// All event types of one organization, oldest first.
pub async fn list_event_types(
    ctx: &AdminContext,
    org: OrganizationId,
) -> anyhow::Result<Vec<EventType>> {
    ctx.organization(org).await?;
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
        let page = ctx.store.list_event_types(org, &query).await?;
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
