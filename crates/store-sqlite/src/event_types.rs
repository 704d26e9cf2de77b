//! [`EventTypeStore`]: event types, with their hosts mirrored into `event_type_hosts` (for the
//! "owned or hosted by" filter and the schedule-in-use check) in the same transaction.
//!
//! Lists use keyset pagination: ORDER BY the sort key then the id, both in one direction, and the
//! cursor condition `(key, id) > (value, id)` (or `<` for descending sorts).

use crate::codec::{
    Cols, Result, col, corrupt, hosts_from_json, hosts_to_json, locations_from_json,
    locations_to_json, ms, questions_from_json, questions_to_json, ts_col, u32_col, uuid_col,
};
use crate::outbox::insert_message;
use crate::{SqliteStore, db_err, duplicate_field, push_keyset};
use async_trait::async_trait;
use domain::event_type::{BookingLimits, EventType, SchedulingType};
use domain::ids::{EventTypeId, OrganizationId, ScheduleId};
use domain::pagination::{Cursor, CursorValue, Page};
use domain::ports::{
    CreateError, DeleteError, EventTypeQuery, EventTypeSort, EventTypeStore, OutboxMessage,
    UpdateError,
};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

const COLUMNS: &str = "e.organization_id, e.id, e.owner_user_id, e.slug, e.title, e.description, \
     e.duration_minutes, e.slot_interval_minutes, e.active, e.scheduling_type, e.hosts, e.color, \
     e.buffer_before_minutes, e.buffer_after_minutes, e.minimum_notice_hours, \
     e.future_limit_days, e.max_per_day, e.max_per_week, e.max_per_month, e.seats, \
     e.requires_confirmation, e.allow_reschedule, e.allow_cancel, e.locations, e.questions, \
     e.version, e.created_at, e.updated_at";

fn opt_u32(row: &impl Cols, name: &str) -> Result<Option<u32>> {
    let v: Option<i64> = col(row, name)?;
    v.map(|v| u32::try_from(v).map_err(|_| corrupt(format!("{name} = {v}"))))
        .transpose()
}

pub(crate) fn event_type_of(row: &impl Cols) -> Result<EventType> {
    let kind: String = col(row, "scheduling_type")?;
    let hosts: String = col(row, "hosts")?;
    let locations: String = col(row, "locations")?;
    let questions: String = col(row, "questions")?;
    Ok(EventType {
        id: uuid_col(row, "id")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        owner_user_id: uuid_col(row, "owner_user_id")?.into(),
        slug: col(row, "slug")?,
        title: col(row, "title")?,
        description: col(row, "description")?,
        duration_minutes: u32_col(row, "duration_minutes")?,
        slot_interval_minutes: u32_col(row, "slot_interval_minutes")?,
        active: col(row, "active")?,
        scheduling_type: SchedulingType::parse(&kind)
            .ok_or_else(|| corrupt(format!("scheduling type '{kind}'")))?,
        hosts: hosts_from_json(&hosts)?,
        color: col(row, "color")?,
        buffer_before_minutes: u32_col(row, "buffer_before_minutes")?,
        buffer_after_minutes: u32_col(row, "buffer_after_minutes")?,
        minimum_notice_hours: u32_col(row, "minimum_notice_hours")?,
        future_limit_days: u32_col(row, "future_limit_days")?,
        limits: BookingLimits {
            per_day: opt_u32(row, "max_per_day")?,
            per_week: opt_u32(row, "max_per_week")?,
            per_month: opt_u32(row, "max_per_month")?,
        },
        seats: u32_col(row, "seats")?,
        requires_confirmation: col(row, "requires_confirmation")?,
        allow_reschedule: col(row, "allow_reschedule")?,
        allow_cancel: col(row, "allow_cancel")?,
        locations: locations_from_json(&locations)?,
        questions: questions_from_json(&questions)?,
        version: col(row, "version")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

/// The event types of `org` whose first host uses schedule `id` (their zone is its zone),
/// oldest first.
pub(crate) async fn zoned_by(
    conn: &mut SqliteConnection,
    org: OrganizationId,
    id: ScheduleId,
) -> Result<Vec<EventType>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM event_types e WHERE e.organization_id = ? AND e.id IN ( \
           SELECT event_type_id FROM event_type_hosts \
           WHERE organization_id = ? AND schedule_id = ? AND position = 0) \
         ORDER BY e.created_at, e.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_uuid())
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err("reading the event types a schedule zones"))?;
    rows.iter().map(event_type_of).collect()
}

/// Rewrites the host rows of one event type.
async fn write_hosts(conn: &mut SqliteConnection, et: &EventType) -> Result<()> {
    sqlx::query("DELETE FROM event_type_hosts WHERE organization_id = ? AND event_type_id = ?")
        .bind(et.organization_id.as_uuid())
        .bind(et.id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(db_err("clearing event type hosts"))?;
    for (i, h) in et.hosts.iter().enumerate() {
        sqlx::query(
            "INSERT INTO event_type_hosts (organization_id, event_type_id, position, user_id, \
             schedule_id) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(et.organization_id.as_uuid())
        .bind(et.id.as_uuid())
        .bind(i as i64)
        .bind(h.user_id.as_uuid())
        .bind(h.schedule_id.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(db_err("writing event type hosts"))?;
    }
    Ok(())
}

/// The encoded JSON columns of an event type.
struct Encoded {
    hosts: String,
    locations: String,
    questions: String,
}

fn encode(et: &EventType) -> Result<Encoded> {
    Ok(Encoded {
        hosts: hosts_to_json(&et.hosts)?,
        locations: locations_to_json(&et.locations)?,
        questions: questions_to_json(&et.questions)?,
    })
}

/// Binds the columns both `create_event_type` and `update_event_type` write, in the order both
/// statements list them: `owner_user_id` … `version`.
fn bind_columns<'q>(
    q: Query<'q, Sqlite, SqliteArguments>,
    et: &'q EventType,
    enc: Encoded,
) -> Query<'q, Sqlite, SqliteArguments> {
    q.bind(et.owner_user_id.as_uuid())
        .bind(&et.slug)
        .bind(&et.title)
        .bind(&et.description)
        .bind(et.duration_minutes)
        .bind(et.slot_interval_minutes)
        .bind(et.active)
        .bind(et.scheduling_type.as_str())
        .bind(enc.hosts)
        .bind(&et.color)
        .bind(et.buffer_before_minutes)
        .bind(et.buffer_after_minutes)
        .bind(et.minimum_notice_hours)
        .bind(et.future_limit_days)
        .bind(et.limits.per_day)
        .bind(et.limits.per_week)
        .bind(et.limits.per_month)
        .bind(et.seats)
        .bind(et.requires_confirmation)
        .bind(et.allow_reschedule)
        .bind(et.allow_cancel)
        .bind(enc.locations)
        .bind(enc.questions)
        .bind(et.version)
}

const SLUG: &[(&str, &str)] = &[("event_types.slug", "slug")];

#[async_trait]
impl EventTypeStore for SqliteStore {
    async fn create_event_type(&self, et: &EventType) -> std::result::Result<(), CreateError> {
        let enc = encode(et)?;
        let mut w = self
            .begin_write()
            .await
            .map_err(crate::WriteBeginError::into_anyhow)?;
        let insert = sqlx::query(
            "INSERT INTO event_types (organization_id, id, owner_user_id, slug, title, description, \
             duration_minutes, slot_interval_minutes, active, scheduling_type, hosts, color, \
             buffer_before_minutes, buffer_after_minutes, minimum_notice_hours, future_limit_days, \
             max_per_day, max_per_week, max_per_month, seats, requires_confirmation, \
             allow_reschedule, allow_cancel, locations, questions, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(et.organization_id.as_uuid())
        .bind(et.id.as_uuid());
        bind_columns(insert, et, enc)
            .bind(ms(et.created_at))
            .bind(ms(et.updated_at))
            .execute(&mut *w.tx)
            .await
            .map_err(|e| match duplicate_field(&e, SLUG) {
                Some(field) => CreateError::Duplicate { field },
                None => CreateError::Unknown(crate::classify(e).context("inserting event type")),
            })?;
        write_hosts(&mut w.tx, et).await?;
        w.commit()
            .await
            .map_err(|e| CreateError::Unknown(crate::classify(e).context("commit")))?;
        Ok(())
    }

    async fn get_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
    ) -> Result<Option<EventType>> {
        let sql =
            format!("SELECT {COLUMNS} FROM event_types e WHERE e.organization_id = ? AND e.id = ?");
        let key = (org.as_uuid(), id.as_uuid());
        self.sync_reads()
            .row("reading event type", &sql, key, |r| event_type_of(r))
    }

    async fn find_event_type(
        &self,
        org: OrganizationId,
        username: &str,
        slug: &str,
    ) -> Result<Option<EventType>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM event_types e JOIN users u \
               ON u.organization_id = e.organization_id AND u.id = e.owner_user_id \
             WHERE e.organization_id = ? AND u.username = ? AND e.slug = ?"
        );
        let key = (org.as_uuid(), username, slug);
        self.sync_reads()
            .row("finding event type", &sql, key, |r| event_type_of(r))
    }

    async fn list_event_types(
        &self,
        org: OrganizationId,
        query: &EventTypeQuery,
    ) -> Result<Page<EventType>> {
        let (key, desc) = match query.sort {
            EventTypeSort::CreatedAtDesc => ("e.created_at", true),
            EventTypeSort::CreatedAtAsc => ("e.created_at", false),
            EventTypeSort::TitleAsc => ("e.title", false),
        };
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM event_types e WHERE e.organization_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(user) = query.user_id {
            qb.push(" AND (e.owner_user_id = ")
                .push_bind(user.as_uuid())
                .push(
                    " OR EXISTS (SELECT 1 FROM event_type_hosts h \
                     WHERE h.organization_id = e.organization_id AND h.event_type_id = e.id \
                     AND h.user_id = ",
                )
                .push_bind(user.as_uuid())
                .push("))");
        }
        if let Some(slug) = &query.slug {
            qb.push(" AND e.slug = ").push_bind(slug.clone());
        }
        if let Some(active) = query.active {
            qb.push(" AND e.active = ").push_bind(active);
        }
        push_keyset(&mut qb, key, "e.id", desc, &query.page);
        let rows = qb
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing event types"))?;
        let items = rows.iter().map(event_type_of).collect::<Result<Vec<_>>>()?;
        let sort = query.sort;
        Ok(Page::from_overfetch(items, query.page.limit, |et| Cursor {
            sort: sort.as_str().to_owned(),
            value: match sort {
                EventTypeSort::TitleAsc => CursorValue::Text(et.title.clone()),
                _ => CursorValue::Int(ms(et.created_at)),
            },
            id: et.id.as_uuid(),
        }))
    }

    async fn update_event_type(
        &self,
        et: &EventType,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> std::result::Result<(), UpdateError> {
        let enc = encode(et)?;
        let mut w = self
            .begin_write()
            .await
            .map_err(crate::WriteBeginError::into_anyhow)?;
        let update = sqlx::query(
            "UPDATE event_types SET owner_user_id = ?, slug = ?, title = ?, description = ?, \
             duration_minutes = ?, slot_interval_minutes = ?, active = ?, scheduling_type = ?, \
             hosts = ?, color = ?, buffer_before_minutes = ?, buffer_after_minutes = ?, \
             minimum_notice_hours = ?, future_limit_days = ?, max_per_day = ?, max_per_week = ?, \
             max_per_month = ?, seats = ?, requires_confirmation = ?, allow_reschedule = ?, \
             allow_cancel = ?, locations = ?, questions = ?, version = ?, updated_at = ? \
             WHERE organization_id = ? AND id = ? AND version = ?",
        );
        let done = bind_columns(update, et, enc)
            .bind(ms(et.updated_at))
            .bind(et.organization_id.as_uuid())
            .bind(et.id.as_uuid())
            .bind(expected_version)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| match duplicate_field(&e, SLUG) {
                Some(field) => UpdateError::Duplicate { field },
                None => UpdateError::Unknown(crate::classify(e).context("updating event type")),
            })?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM event_types WHERE organization_id = ? AND id = ?",
            )
            .bind(et.organization_id.as_uuid())
            .bind(et.id.as_uuid())
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(db_err("reading event type"))?;
            return Err(if exists.is_some() {
                UpdateError::VersionConflict
            } else {
                UpdateError::NotFound
            });
        }
        write_hosts(&mut w.tx, et).await?;
        for m in outbox {
            insert_message(&mut w.tx, m).await?;
        }
        w.commit().await.map_err(db_err("committing event type"))?;
        Ok(())
    }

    async fn delete_event_type(
        &self,
        org: OrganizationId,
        id: EventTypeId,
        outbox: &[OutboxMessage],
    ) -> std::result::Result<(), DeleteError> {
        let fail = |what: &'static str| {
            move |e: sqlx::Error| DeleteError::Unknown(crate::classify(e).context(what))
        };
        let mut w = self
            .begin_write()
            .await
            .map_err(|e| DeleteError::Unknown(e.into_anyhow()))?;
        let held: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM bookings WHERE organization_id = ? AND event_type_id = ? \
             AND status IN ('confirmed', 'pending') LIMIT 1",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(fail("checking bookings of event type"))?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM event_types WHERE organization_id = ? AND id = ?")
                .bind(org.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *w.tx)
                .await
                .map_err(fail("reading event type"))?;
        if exists.is_none() {
            return Err(DeleteError::NotFound);
        }
        if held.is_some() {
            return Err(DeleteError::InUse(
                "bookings of this event type still hold time".into(),
            ));
        }
        sqlx::query("DELETE FROM event_types WHERE organization_id = ? AND id = ?")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *w.tx)
            .await
            .map_err(fail("deleting event type"))?;
        for m in outbox {
            insert_message(&mut w.tx, m)
                .await
                .map_err(|e| DeleteError::Unknown(anyhow::anyhow!(e)))?;
        }
        w.commit()
            .await
            .map_err(fail("committing event type delete"))?;
        Ok(())
    }
}
