//! [`ScheduleStore`]: availability schedules, stored with their zone *name* (rebuilt with
//! `Zone::parse` on read) and their rules and overrides as JSON text.
//!
//! Updates are optimistic (`WHERE version = expected`) and commit their outbox messages (a zone
//! change's `event_type.updated`) in the same transaction; a schedule an event type still names
//! for a host is never deleted.

use crate::codec::{
    Cols, Result, col, corrupt, ms, overrides_from_json, overrides_to_json, rules_from_json,
    rules_to_json, ts_col, uuid_col,
};
use crate::event_types::zoned_by;
use crate::outbox::insert_message;
use crate::{SqliteStore, db_err, duplicate_field};
use async_trait::async_trait;
use domain::availability::{Schedule, Zone};
use domain::event_type::EventType;
use domain::ids::{OrganizationId, ScheduleId, UserId};
use domain::ports::{CreateError, DeleteError, OutboxMessage, ScheduleStore, UpdateError};

pub(crate) const COLUMNS: &str =
    "organization_id, id, user_id, name, zone, rules, overrides, version, created_at, updated_at";

pub(crate) fn schedule_of(row: &impl Cols) -> Result<Schedule> {
    let zone: String = col(row, "zone")?;
    let rules: String = col(row, "rules")?;
    let overrides: String = col(row, "overrides")?;
    Ok(Schedule {
        id: uuid_col(row, "id")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        user_id: uuid_col(row, "user_id")?.into(),
        name: col(row, "name")?,
        zone: Zone::parse(&zone).map_err(|e| corrupt(format!("zone '{zone}': {e}")))?,
        rules: rules_from_json(&rules)?,
        overrides: overrides_from_json(&overrides)?,
        version: col(row, "version")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn create_schedule(&self, s: &Schedule) -> std::result::Result<(), CreateError> {
        let rules = rules_to_json(&s.rules)?;
        let overrides = overrides_to_json(&s.overrides)?;
        self.write_one(
            sqlx::query(
                "INSERT INTO schedules (organization_id, id, user_id, name, zone, rules, overrides, \
                 version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(s.organization_id.as_uuid())
            .bind(s.id.as_uuid())
            .bind(s.user_id.as_uuid())
            .bind(&s.name)
            .bind(s.zone.name())
            .bind(rules)
            .bind(overrides)
            .bind(s.version)
            .bind(ms(s.created_at))
            .bind(ms(s.updated_at)),
        )
        .await
        .map_err(|e| match duplicate_field(&e, &[]) {
            Some(field) => CreateError::Duplicate { field },
            None => CreateError::Unknown(crate::classify(e).context("inserting schedule")),
        })?;
        Ok(())
    }

    async fn get_schedule(&self, org: OrganizationId, id: ScheduleId) -> Result<Option<Schedule>> {
        let sql = format!("SELECT {COLUMNS} FROM schedules WHERE organization_id = ? AND id = ?");
        let key = (org.as_uuid(), id.as_uuid());
        self.sync_reads()
            .row("reading schedule", &sql, key, |r| schedule_of(r))
    }

    async fn list_schedules(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM schedules WHERE organization_id = ? \
             AND (? IS NULL OR user_id = ?) ORDER BY created_at, id"
        );
        let user = user.map(|u| u.as_uuid());
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(user)
            .bind(user)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing schedules"))?;
        rows.iter().map(schedule_of).collect()
    }

    async fn zoned_event_types(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Vec<EventType>> {
        let mut conn = self
            .pool()
            .acquire()
            .await
            .map_err(db_err("acquiring a connection"))?;
        zoned_by(&mut conn, org, id).await
    }

    async fn update_schedule(
        &self,
        s: &Schedule,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> std::result::Result<(), UpdateError> {
        let rules = rules_to_json(&s.rules)?;
        let overrides = overrides_to_json(&s.overrides)?;
        let mut w = self
            .begin_write()
            .await
            .map_err(crate::WriteBeginError::into_anyhow)?;
        let done = sqlx::query(
            "UPDATE schedules SET user_id = ?, name = ?, zone = ?, rules = ?, overrides = ?, \
             version = ?, updated_at = ? WHERE organization_id = ? AND id = ? AND version = ?",
        )
        .bind(s.user_id.as_uuid())
        .bind(&s.name)
        .bind(s.zone.name())
        .bind(rules)
        .bind(overrides)
        .bind(s.version)
        .bind(ms(s.updated_at))
        .bind(s.organization_id.as_uuid())
        .bind(s.id.as_uuid())
        .bind(expected_version)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("updating schedule"))?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM schedules WHERE organization_id = ? AND id = ?")
                    .bind(s.organization_id.as_uuid())
                    .bind(s.id.as_uuid())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(db_err("reading schedule"))?;
            return Err(if exists.is_some() {
                UpdateError::VersionConflict
            } else {
                UpdateError::NotFound
            });
        }
        for m in outbox {
            insert_message(&mut w.tx, m).await?;
        }
        w.commit().await.map_err(db_err("committing schedule"))?;
        Ok(())
    }

    async fn delete_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> std::result::Result<(), DeleteError> {
        let mut w = self
            .begin_write()
            .await
            .map_err(|e| DeleteError::Unknown(e.into_anyhow()))?;
        let used: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM event_type_hosts WHERE organization_id = ? AND schedule_id = ? LIMIT 1",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(|e| DeleteError::Unknown(crate::classify(e).context("checking schedule use")))?;
        if used.is_some() {
            return Err(DeleteError::InUse(
                "an event type uses this schedule for a host".into(),
            ));
        }
        let done = sqlx::query("DELETE FROM schedules WHERE organization_id = ? AND id = ?")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *w.tx)
            .await
            .map_err(|e| DeleteError::Unknown(crate::classify(e).context("deleting schedule")))?;
        if done.rows_affected() == 0 {
            return Err(DeleteError::NotFound);
        }
        w.commit()
            .await
            .map_err(|e| DeleteError::Unknown(crate::classify(e).context("commit")))?;
        Ok(())
    }
}
