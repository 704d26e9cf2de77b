//! Loading [`SlotInputs`]: the hosts' schedules, their busy blocks (GiST range overlap on
//! `blocked`) and the event type's counted bookings, per [`slots::input_ranges`].
//!
//! One statement, one round trip ([`INPUTS_SQL`]). Runs on whatever connection it is given, so inside a booking transaction it sees that
//! transaction's own writes. Never guesses a missing schedule: that is an error.

use crate::schedules::schedule_from_row;
use crate::{ts, ts_ceil, unknown};
use anyhow::anyhow;
use domain::event_type::EventType;
use domain::ids::{EventTypeId, UserId};
use domain::interval::Interval;
use domain::ports::StoreError;
use domain::slots::{BusyBlock, CountedBooking, HostInput, InputRanges, SlotInputs};
use jiff::Timestamp;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

/// The three reads in one statement (one round trip): part 0 the hosts' schedules, part 1
/// their busy blocks, part 2 the counted bookings (none unless `$8`), ordered so that part 2
/// comes in `(start_at, uid)` order as the engine's round-robin tie-break expects. Columns a
/// part does not use are typed NULLs (typed in the first branch, as a UNION's types are).
const INPUTS_SQL: &str = "\
    SELECT 0 AS part, organization_id, id, user_id, name, time_zone, rules, overrides, version, \
           created_at, updated_at, NULL::uuid AS host_user_id, NULL::timestamptz AS bs, \
           NULL::timestamptz AS be, NULL::uuid AS event_type_id, NULL::timestamptz AS start_at, \
           NULL::uuid AS uid \
    FROM schedules WHERE organization_id = $1 AND id = ANY($2) \
    UNION ALL \
    SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
           host_user_id, lower(blocked), upper(blocked), event_type_id, start_at, uid \
    FROM bookings \
    WHERE organization_id = $1 AND host_user_id = ANY($3) \
      AND status IN ('confirmed', 'pending') \
      AND blocked && tstzrange($4, $5, '[)') \
    UNION ALL \
    SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
           host_user_id, NULL, NULL, NULL, start_at, uid \
    FROM bookings \
    WHERE $8 AND organization_id = $1 AND event_type_id = $9 \
      AND status IN ('confirmed', 'pending') \
      AND start_at >= $6 AND start_at < $7 \
    ORDER BY part, start_at, uid";

pub(crate) async fn load(
    conn: &mut PgConnection,
    event_type: &EventType,
    ranges: InputRanges,
    now: Timestamp,
) -> Result<SlotInputs, StoreError> {
    let org = event_type.organization_id;
    let schedule_ids: Vec<Uuid> = event_type.hosts.iter().map(|h| h.schedule_id.0).collect();
    let host_ids: Vec<Uuid> = event_type.hosts.iter().map(|h| h.user_id.0).collect();
    // Without a counted range the third part is switched off by `$8`; its bounds are unused.
    let counted_range = ranges.counted.unwrap_or(ranges.busy);
    let rows = sqlx::query(INPUTS_SQL)
        .bind(org.0)
        .bind(&schedule_ids)
        .bind(&host_ids)
        .bind(ts(ranges.busy.start()))
        .bind(ts_ceil(ranges.busy.end()))
        .bind(ts(counted_range.start()))
        .bind(ts_ceil(counted_range.end()))
        .bind(ranges.counted.is_some())
        .bind(event_type.id.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(unknown)?;

    let mut schedules = Vec::new();
    let mut busy: Vec<(UserId, BusyBlock)> = Vec::with_capacity(rows.len());
    let mut counted = Vec::new();
    for r in &rows {
        let part: i32 = r.try_get("part").map_err(unknown)?;
        let host = || -> Result<UserId, StoreError> {
            Ok(UserId(r.try_get("host_user_id").map_err(unknown)?))
        };
        let instant = |column: &str| -> Result<Timestamp, StoreError> {
            let t: jiff_sqlx::Timestamp = r.try_get(column).map_err(unknown)?;
            Ok(t.to_jiff())
        };
        match part {
            0 => schedules.push(schedule_from_row(r)?),
            1 => {
                let blocked = Interval::new(instant("bs")?, instant("be")?)
                    .ok_or_else(|| unknown(anyhow!("stored blocked range is empty")))?;
                busy.push((
                    host()?,
                    BusyBlock {
                        blocked,
                        event_type_id: EventTypeId(r.try_get("event_type_id").map_err(unknown)?),
                        start: instant("start_at")?,
                    },
                ));
            }
            _ => counted.push(CountedBooking {
                start: instant("start_at")?,
                host_user_id: host()?,
            }),
        }
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

    Ok(SlotInputs {
        event_type: event_type.clone(),
        hosts,
        counted,
        now,
    })
}
