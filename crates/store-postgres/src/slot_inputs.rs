//! Loading [`SlotInputs`]: the hosts' schedules, their busy blocks (GiST range overlap on
//! `blocked`) and the event type's counted bookings, per [`slots::input_ranges`].
//!
//! Runs on whatever connection it is given, so inside a booking transaction it sees that
//! transaction's own writes. Never guesses a missing schedule: that is an error.

use crate::schedules::load_schedules;
use crate::{ts, ts_ceil, unknown};
use anyhow::anyhow;
use domain::event_type::EventType;
use domain::ids::{EventTypeId, ScheduleId, UserId};
use domain::interval::Interval;
use domain::ports::StoreError;
use domain::slots::{BusyBlock, CountedBooking, HostInput, InputRanges, SlotInputs};
use jiff::Timestamp;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

pub(crate) async fn load(
    conn: &mut PgConnection,
    event_type: &EventType,
    ranges: InputRanges,
    now: Timestamp,
) -> Result<SlotInputs, StoreError> {
    let org = event_type.organization_id;
    let schedule_ids: Vec<ScheduleId> = event_type.hosts.iter().map(|h| h.schedule_id).collect();
    let schedules = load_schedules(conn, org, &schedule_ids).await?;
    let host_ids: Vec<Uuid> = event_type.hosts.iter().map(|h| h.user_id.0).collect();

    let rows = sqlx::query(
        "SELECT host_user_id, lower(blocked) AS bs, upper(blocked) AS be, event_type_id, start_at \
         FROM bookings \
         WHERE organization_id = $1 AND host_user_id = ANY($2) \
           AND status IN ('confirmed', 'pending') \
           AND blocked && tstzrange($3, $4, '[)')",
    )
    .bind(org.0)
    .bind(&host_ids)
    .bind(ts(ranges.busy.start()))
    .bind(ts_ceil(ranges.busy.end()))
    .fetch_all(&mut *conn)
    .await
    .map_err(unknown)?;
    let mut busy: Vec<(UserId, BusyBlock)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let bs: jiff_sqlx::Timestamp = r.try_get("bs").map_err(unknown)?;
        let be: jiff_sqlx::Timestamp = r.try_get("be").map_err(unknown)?;
        let start: jiff_sqlx::Timestamp = r.try_get("start_at").map_err(unknown)?;
        let blocked = Interval::new(bs.to_jiff(), be.to_jiff())
            .ok_or_else(|| unknown(anyhow!("stored blocked range is empty")))?;
        busy.push((
            UserId(r.try_get("host_user_id").map_err(unknown)?),
            BusyBlock {
                blocked,
                event_type_id: EventTypeId(r.try_get("event_type_id").map_err(unknown)?),
                start: start.to_jiff(),
            },
        ));
    }

    let mut hosts = Vec::with_capacity(event_type.hosts.len());
    for h in &event_type.hosts {
        let schedule = schedules
            .iter()
            .find(|s| s.id == h.schedule_id)
            .cloned()
            .ok_or_else(|| StoreError::missing_host_schedule(event_type, h))?;
        hosts.push(HostInput {
            user_id: h.user_id,
            schedule,
            busy: busy
                .iter()
                .filter(|(u, _)| *u == h.user_id)
                .map(|(_, b)| *b)
                .collect(),
        });
    }

    let counted = match ranges.counted {
        None => Vec::new(),
        Some(range) => {
            let rows = sqlx::query(
                "SELECT start_at, host_user_id FROM bookings \
                 WHERE organization_id = $1 AND event_type_id = $2 \
                   AND status IN ('confirmed', 'pending') \
                   AND start_at >= $3 AND start_at < $4 \
                 ORDER BY start_at, uid",
            )
            .bind(org.0)
            .bind(event_type.id.0)
            .bind(ts(range.start()))
            .bind(ts_ceil(range.end()))
            .fetch_all(&mut *conn)
            .await
            .map_err(unknown)?;
            rows.iter()
                .map(|r| {
                    let start: jiff_sqlx::Timestamp = r.try_get("start_at").map_err(unknown)?;
                    Ok(CountedBooking {
                        start: start.to_jiff(),
                        host_user_id: UserId(r.try_get("host_user_id").map_err(unknown)?),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        }
    };

    Ok(SlotInputs {
        event_type: event_type.clone(),
        hosts,
        counted,
        now,
    })
}
