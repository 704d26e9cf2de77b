//! [`ScheduleStore`] on PostgreSQL: availability schedules with rules and overrides in `jsonb`
//! and the zone kept by name (rebuilt with `Zone::parse`).
//!
//! Never deletes a schedule an event type still names for a host.

use crate::event_types::zoned_by;
use crate::json;
use crate::outbox::insert_outbox;
use crate::{PgStore, duplicate_field, ts, unknown};
use anyhow::anyhow;
use async_trait::async_trait;
use domain::availability::{Schedule, Zone};
use domain::event_type::EventType;
use domain::ids::{OrganizationId, ScheduleId, UserId};
use domain::ports::{
    CreateError, DeleteError, OutboxMessage, ScheduleStore, StoreError, UpdateError,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

pub(crate) const SCHEDULE_COLUMNS: &str = "organization_id, id, user_id, name, time_zone, rules, \
     overrides, version, created_at, updated_at";

pub(crate) fn schedule_from_row(r: &PgRow) -> Result<Schedule, StoreError> {
    let zone: String = r.try_get("time_zone").map_err(unknown)?;
    Ok(Schedule {
        id: ScheduleId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        user_id: UserId(r.try_get("user_id").map_err(unknown)?),
        name: r.try_get("name").map_err(unknown)?,
        zone: Zone::parse(&zone).map_err(|e| unknown(anyhow!("stored zone {zone:?}: {e}")))?,
        rules: json::rules_from_json(r.try_get("rules").map_err(unknown)?).map_err(unknown)?,
        overrides: json::overrides_from_json(r.try_get("overrides").map_err(unknown)?)
            .map_err(unknown)?,
        version: r.try_get("version").map_err(unknown)?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(unknown)?
            .to_jiff(),
        updated_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("updated_at")
            .map_err(unknown)?
            .to_jiff(),
    })
}

/// The schedules with these ids, in any order.
pub(crate) async fn load_schedules(
    conn: &mut PgConnection,
    org: OrganizationId,
    ids: &[ScheduleId],
) -> Result<Vec<Schedule>, StoreError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE organization_id = $1 AND id = ANY($2)"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.0)
        .bind(ids)
        .fetch_all(conn)
        .await
        .map_err(unknown)?;
    rows.iter().map(schedule_from_row).collect()
}

#[async_trait]
impl ScheduleStore for PgStore {
    async fn create_schedule(&self, s: &Schedule) -> Result<(), CreateError> {
        sqlx::query(
            "INSERT INTO schedules (organization_id, id, user_id, name, time_zone, rules, \
             overrides, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(s.organization_id.0)
        .bind(s.id.0)
        .bind(s.user_id.0)
        .bind(&s.name)
        .bind(s.zone.name())
        .bind(json::rules_to_json(&s.rules))
        .bind(json::overrides_to_json(&s.overrides))
        .bind(s.version)
        .bind(ts(s.created_at))
        .bind(ts(s.updated_at))
        .execute(self.pool())
        .await
        .map_err(|e| match duplicate_field(&e) {
            Some(field) => CreateError::Duplicate { field },
            None => CreateError::Unknown(crate::classify(e)),
        })?;
        Ok(())
    }

    async fn get_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Option<Schedule>, StoreError> {
        let sql = format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE organization_id = $1 AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(schedule_from_row).transpose()
    }

    async fn list_schedules(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<Schedule>, StoreError> {
        let sql = format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE organization_id = $1 \
             AND ($2::uuid IS NULL OR user_id = $2) ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(user.map(|u| u.0))
            .fetch_all(self.pool())
            .await
            .map_err(unknown)?;
        rows.iter().map(schedule_from_row).collect()
    }

    async fn zoned_event_types(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<Vec<EventType>, StoreError> {
        zoned_by(self, org, id).await
    }

    async fn update_schedule(
        &self,
        s: &Schedule,
        expected_version: i64,
        outbox: &[OutboxMessage],
    ) -> Result<(), UpdateError> {
        let mut tx = self
            .pool()
            .begin()
            .await
            .map_err(|e| UpdateError::Unknown(crate::classify(e)))?;
        let done = sqlx::query(
            "UPDATE schedules SET user_id = $3, name = $4, time_zone = $5, rules = $6, \
             overrides = $7, version = $8, updated_at = $9 \
             WHERE organization_id = $1 AND id = $2 AND version = $10",
        )
        .bind(s.organization_id.0)
        .bind(s.id.0)
        .bind(s.user_id.0)
        .bind(&s.name)
        .bind(s.zone.name())
        .bind(json::rules_to_json(&s.rules))
        .bind(json::overrides_to_json(&s.overrides))
        .bind(s.version)
        .bind(ts(s.updated_at))
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(|e| match duplicate_field(&e) {
            Some(field) => UpdateError::Duplicate { field },
            None => UpdateError::Unknown(crate::classify(e)),
        })?;
        if done.rows_affected() != 1 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM schedules WHERE organization_id = $1 AND id = $2",
            )
            .bind(s.organization_id.0)
            .bind(s.id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| UpdateError::Unknown(crate::classify(e)))?;
            return Err(match exists {
                Some(_) => UpdateError::VersionConflict,
                None => UpdateError::NotFound,
            });
        }
        for m in outbox {
            insert_outbox(&mut tx, m).await?;
        }
        tx.commit()
            .await
            .map_err(|e| UpdateError::Unknown(crate::classify(e)))?;
        Ok(())
    }

    async fn delete_schedule(
        &self,
        org: OrganizationId,
        id: ScheduleId,
    ) -> Result<(), DeleteError> {
        // One statement: the in-use check and the delete see the same snapshot.
        let row: Option<(bool, bool)> = sqlx::query_as(
            "WITH used AS ( \
                SELECT EXISTS (SELECT 1 FROM event_types WHERE organization_id = $1 \
                    AND hosts @> jsonb_build_array(jsonb_build_object('schedule_id', $2::text))) AS in_use \
             ), gone AS ( \
                DELETE FROM schedules WHERE organization_id = $1 AND id = $2 \
                    AND NOT (SELECT in_use FROM used) RETURNING 1 \
             ) \
             SELECT (SELECT in_use FROM used), EXISTS (SELECT 1 FROM gone)",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| DeleteError::Unknown(crate::classify(e)))?;
        match row {
            Some((false, true)) => Ok(()),
            Some((true, _)) => {
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM schedules WHERE organization_id = $1 AND id = $2)",
                )
                .bind(org.0)
                .bind(id.0)
                .fetch_one(self.pool())
                .await
                .map_err(|e| DeleteError::Unknown(crate::classify(e)))?;
                if exists {
                    Err(DeleteError::InUse(
                        "an event type uses this schedule for a host".into(),
                    ))
                } else {
                    Err(DeleteError::NotFound)
                }
            }
            _ => Err(DeleteError::NotFound),
        }
    }
}
