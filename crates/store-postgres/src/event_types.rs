//! [`EventTypeStore`] on PostgreSQL: event types with hosts, locations and questions in `jsonb`,
//! keyset pagination over `(sort key, id)`.
//!
//! Never deletes an event type while its bookings still hold time; outbox messages of an
//! update or delete commit in the same transaction or not at all.

use crate::outbox::insert_outbox;
use crate::{PgStore, duplicate_field, json, ts, unknown};
use anyhow::anyhow;
use async_trait::async_trait;
use domain::event_type::{BookingLimits, EventType, SchedulingType};
use domain::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use domain::pagination::{Cursor, CursorValue, Page};
use domain::ports::{
    CreateError, DeleteError, EventTypeQuery, EventTypeSort, EventTypeStore, OutboxMessage,
    StoreError, UpdateError,
};
use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

const COLUMNS: &str = "e.organization_id, e.id, e.owner_user_id, e.slug, e.title, e.description, \
     e.duration_minutes, e.slot_interval_minutes, e.active, e.scheduling_type, e.hosts, e.color, \
     e.buffer_before_minutes, e.buffer_after_minutes, e.minimum_notice_hours, e.future_limit_days, \
     e.max_per_day, e.max_per_week, e.max_per_month, e.seats, e.requires_confirmation, \
     e.allow_reschedule, e.allow_cancel, e.locations, e.questions, e.version, e.created_at, \
     e.updated_at";

/// The event types of `org` whose first host uses schedule `id` (their zone is its zone),
/// oldest first.
pub(crate) async fn zoned_by(
    store: &PgStore,
    org: OrganizationId,
    id: ScheduleId,
) -> Result<Vec<EventType>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event_types e WHERE e.organization_id = $1 \
           AND e.hosts -> 0 ->> 'schedule_id' = $2::text ORDER BY e.created_at, e.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.0)
        .bind(id.0)
        .fetch_all(store.pool())
        .await
        .map_err(unknown)?;
    rows.iter().map(event_type_from_row).collect()
}

fn u32_col(r: &PgRow, col: &str) -> Result<u32, StoreError> {
    let v: i64 = r.try_get(col).map_err(unknown)?;
    u32::try_from(v).map_err(|_| unknown(anyhow!("{col} out of range: {v}")))
}

fn opt_u32_col(r: &PgRow, col: &str) -> Result<Option<u32>, StoreError> {
    let v: Option<i64> = r.try_get(col).map_err(unknown)?;
    v.map(|v| u32::try_from(v).map_err(|_| unknown(anyhow!("{col} out of range: {v}"))))
        .transpose()
}

fn instant(r: &PgRow, col: &str) -> Result<Timestamp, StoreError> {
    Ok(r.try_get::<jiff_sqlx::Timestamp, _>(col)
        .map_err(unknown)?
        .to_jiff())
}

fn event_type_from_row(r: &PgRow) -> Result<EventType, StoreError> {
    let st: String = r.try_get("scheduling_type").map_err(unknown)?;
    Ok(EventType {
        id: EventTypeId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        owner_user_id: UserId(r.try_get("owner_user_id").map_err(unknown)?),
        slug: r.try_get("slug").map_err(unknown)?,
        title: r.try_get("title").map_err(unknown)?,
        description: r.try_get("description").map_err(unknown)?,
        duration_minutes: u32_col(r, "duration_minutes")?,
        slot_interval_minutes: u32_col(r, "slot_interval_minutes")?,
        active: r.try_get("active").map_err(unknown)?,
        scheduling_type: SchedulingType::parse(&st)
            .ok_or_else(|| unknown(anyhow!("stored scheduling type {st:?}")))?,
        hosts: json::hosts_from_json(r.try_get("hosts").map_err(unknown)?).map_err(unknown)?,
        color: r.try_get("color").map_err(unknown)?,
        buffer_before_minutes: u32_col(r, "buffer_before_minutes")?,
        buffer_after_minutes: u32_col(r, "buffer_after_minutes")?,
        minimum_notice_hours: u32_col(r, "minimum_notice_hours")?,
        future_limit_days: u32_col(r, "future_limit_days")?,
        limits: BookingLimits {
            per_day: opt_u32_col(r, "max_per_day")?,
            per_week: opt_u32_col(r, "max_per_week")?,
            per_month: opt_u32_col(r, "max_per_month")?,
        },
        seats: u32_col(r, "seats")?,
        requires_confirmation: r.try_get("requires_confirmation").map_err(unknown)?,
        allow_reschedule: r.try_get("allow_reschedule").map_err(unknown)?,
        allow_cancel: r.try_get("allow_cancel").map_err(unknown)?,
        locations: json::locations_from_json(r.try_get("locations").map_err(unknown)?)
            .map_err(unknown)?,
        questions: json::questions_from_json(r.try_get("questions").map_err(unknown)?)
            .map_err(unknown)?,
        version: r.try_get("version").map_err(unknown)?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// Binds every column except the keys, in the order of the INSERT/UPDATE statements below.
fn push_values(b: &mut QueryBuilder<Postgres>, e: &EventType) {
    let mut s = b.separated(", ");
    s.push_bind(e.owner_user_id.0)
        .push_bind(e.slug.clone())
        .push_bind(e.title.clone())
        .push_bind(e.description.clone())
        .push_bind(i64::from(e.duration_minutes))
        .push_bind(i64::from(e.slot_interval_minutes))
        .push_bind(e.active)
        .push_bind(e.scheduling_type.as_str())
        .push_bind(json::hosts_to_json(&e.hosts))
        .push_bind(e.color.clone())
        .push_bind(i64::from(e.buffer_before_minutes))
        .push_bind(i64::from(e.buffer_after_minutes))
        .push_bind(i64::from(e.minimum_notice_hours))
        .push_bind(i64::from(e.future_limit_days))
        .push_bind(e.limits.per_day.map(i64::from))
        .push_bind(e.limits.per_week.map(i64::from))
        .push_bind(e.limits.per_month.map(i64::from))
        .push_bind(i64::from(e.seats))
        .push_bind(e.requires_confirmation)
        .push_bind(e.allow_reschedule)
        .push_bind(e.allow_cancel)
        .push_bind(json::locations_to_json(&e.locations))
        .push_bind(json::questions_to_json(&e.questions))
        .push_bind(e.version)
        .push_bind(ts(e.created_at))
        .push_bind(ts(e.updated_at));
}

const VALUE_COLUMNS: &str = "owner_user_id, slug, title, description, duration_minutes, \
     slot_interval_minutes, active, scheduling_type, hosts, color, buffer_before_minutes, \
     buffer_after_minutes, minimum_notice_hours, future_limit_days, max_per_day, max_per_week, \
     max_per_month, seats, requires_confirmation, allow_reschedule, allow_cancel, locations, \
     questions, version, created_at, updated_at";

fn cursor_of(sort: EventTypeSort, e: &EventType) -> Cursor {
    let value = match sort {
        EventTypeSort::TitleAsc => CursorValue::Text(e.title.clone()),
        EventTypeSort::CreatedAtAsc | EventTypeSort::CreatedAtDesc => {
            CursorValue::Int(e.created_at.as_millisecond())
        }
    };
    Cursor {
        sort: sort.as_str().to_owned(),
        value,
        id: e.id.0,
    }
}

#[async_trait]
impl EventTypeStore for PgStore {
    async fn create_event_type(&self, e: &EventType) -> Result<(), CreateError> {
        let mut b = QueryBuilder::<Postgres>::new(format!(
            "INSERT INTO event_types (organization_id, id, {VALUE_COLUMNS}) VALUES ("
        ));
        b.push_bind(e.organization_id.0);
        b.push(", ");
        b.push_bind(e.id.0);
        b.push(", ");
        push_values(&mut b, e);
        b.push(")");
        b.build()
            .execute(self.pool())
            .await
            .map_err(|err| match duplicate_field(&err) {
                Some(field) => CreateError::Duplicate { field },
                None => CreateError::Unknown(crate::classify(err)),
            })?;
        Ok(())
    }

    async fn get_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<Option<EventType>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM event_types e WHERE e.organization_id = $1 AND e.id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(event_type_from_row).transpose()
    }

    async fn find_event_type(
        &self,
        org: OrganizationId,
        username: &str,
        slug: &str,
    ) -> Result<Option<EventType>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM event_types e JOIN users u \
               ON u.organization_id = e.organization_id AND u.id = e.owner_user_id \
             WHERE e.organization_id = $1 AND u.username = $2 AND e.slug = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(username)
            .bind(slug)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(event_type_from_row).transpose()
    }

    async fn list_event_types(
        &self,
        org: OrganizationId,
        q: &EventTypeQuery,
    ) -> Result<Page<EventType>, StoreError> {
        let mut b = QueryBuilder::<Postgres>::new(format!(
            "SELECT {COLUMNS} FROM event_types e WHERE e.organization_id = "
        ));
        b.push_bind(org.0);
        if let Some(user) = q.user_id {
            b.push(" AND (e.owner_user_id = ");
            b.push_bind(user.0);
            b.push(" OR e.hosts @> jsonb_build_array(jsonb_build_object('user_id', ");
            b.push_bind(user.0.to_string());
            b.push("::text)))");
        }
        if let Some(slug) = &q.slug {
            b.push(" AND e.slug = ");
            b.push_bind(slug.clone());
        }
        if let Some(active) = q.active {
            b.push(" AND e.active = ");
            b.push_bind(active);
        }
        let (key, dir) = match q.sort {
            EventTypeSort::CreatedAtDesc => ("e.created_at", "DESC"),
            EventTypeSort::CreatedAtAsc => ("e.created_at", "ASC"),
            EventTypeSort::TitleAsc => ("(e.title COLLATE \"C\")", "ASC"),
        };
        if let Some(after) = &q.page.after {
            let op = if dir == "DESC" { "<" } else { ">" };
            b.push(format!(" AND ({key}, e.id) {op} ("));
            match &after.value {
                CursorValue::Int(ms) => {
                    let t = Timestamp::from_millisecond(*ms).map_err(unknown)?;
                    b.push_bind(ts(t));
                }
                CursorValue::Text(t) => {
                    b.push_bind(t.clone());
                    b.push(" COLLATE \"C\"");
                }
            }
            b.push(", ");
            b.push_bind(after.id);
            b.push(")");
        }
        b.push(format!(" ORDER BY {key} {dir}, e.id {dir} LIMIT "));
        b.push_bind(i64::from(q.page.limit.get()) + 1);
        let rows = b.build().fetch_all(self.pool()).await.map_err(unknown)?;
        let items = rows
            .iter()
            .map(event_type_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let sort = q.sort;
        Ok(Page::from_overfetch(items, q.page.limit, |e| {
            cursor_of(sort, e)
        }))
    }

    async fn update_event_type(
        &self,
        e: &EventType,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|x| UpdateError::Unknown(crate::classify(x)))?;
        let mut b = QueryBuilder::<Postgres>::new(format!(
            "UPDATE event_types SET ({VALUE_COLUMNS}) = ROW("
        ));
        push_values(&mut b, e);
        b.push(") WHERE organization_id = ");
        b.push_bind(e.organization_id.0);
        b.push(" AND id = ");
        b.push_bind(e.id.0);
        b.push(" AND version = ");
        b.push_bind(expected_version);
        let done =
            b.build()
                .execute(&mut *tx)
                .await
                .map_err(|err| match duplicate_field(&err) {
                    Some(field) => UpdateError::Duplicate { field },
                    None => UpdateError::Unknown(crate::classify(err)),
                })?;
        if done.rows_affected() != 1 {
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM event_types WHERE organization_id = $1 AND id = $2)",
            )
            .bind(e.organization_id.0)
            .bind(e.id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(|x| UpdateError::Unknown(crate::classify(x)))?;
            return Err(if exists {
                UpdateError::VersionConflict
            } else {
                UpdateError::NotFound
            });
        }
        for m in outbox {
            insert_outbox(&mut tx, m).await?;
        }
        tx.commit()
            .await
            .map_err(|x| UpdateError::Unknown(crate::classify(x)))?;
        Ok(())
    }

    async fn delete_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        outbox: &[OutboxMessage],
    ) -> Result<(), DeleteError> {
        let unk = |x: sqlx::Error| DeleteError::Unknown(crate::classify(x));
        let mut tx = self.pool().begin().await.map_err(unk)?;
        // Serialise with booking writers of this event type (they hold the same lock).
        crate::bookings::lock_event_type(&mut tx, org, id, self.lock_timeout)
            .await
            .map_err(|e| {
                DeleteError::Unknown(match e {
                    domain::ports::BookingWriteError::LockTimeout => {
                        anyhow::Error::new(domain::ports::StoreUnavailable::bare(
                            domain::ports::UnavailableKind::LockTimeout,
                        ))
                    }
                    domain::ports::BookingWriteError::Unknown(e) => e,
                    other => anyhow!("{other}"),
                })
            })?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM event_types WHERE organization_id = $1 AND id = $2)",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(unk)?;
        if !exists {
            return Err(DeleteError::NotFound);
        }
        let holding: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM bookings WHERE organization_id = $1 \
             AND event_type_id = $2 AND status IN ('confirmed', 'pending'))",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(unk)?;
        if holding {
            return Err(DeleteError::InUse(
                "bookings of this event type still hold time".into(),
            ));
        }
        sqlx::query("DELETE FROM event_types WHERE organization_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(unk)?;
        for m in outbox {
            insert_outbox(&mut tx, m)
                .await
                .map_err(|StoreError::Unknown(e)| DeleteError::Unknown(e))?;
        }
        tx.commit().await.map_err(unk)?;
        Ok(())
    }
}
