//! Loading [`SlotInputs`]: what the slot engine needs to decide a window of one event type, per
//! [`domain::slots::input_ranges`]. Shared by the store (a plain read) and the booking
//! transaction (a read that sees the transaction's own writes).
//!
//! It loads each host's schedule (a missing schedule is an error, never an empty availability),
//! each host's time-holding bookings of any event type whose blocked range overlaps the busy
//! range, and — when counting is needed — the event type's time-holding bookings starting in the
//! counted range.

use crate::bookings::HOLDS_TIME;
use crate::codec::{Result, col, corrupt, ms, ts, uuid_col};
use crate::db_err;
use crate::schedules::{push_schedules, schedule_of};
use domain::event_type::EventType;
use domain::ids::UserId;
use domain::interval::Interval;
use domain::ports::StoreError;
use domain::slots::{BusyBlock, CountedBooking, HostInput, InputRanges, SlotInputs};
use futures::TryStreamExt;
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Either, Executor, SqliteConnection};
use std::collections::HashMap;

pub(crate) async fn load(
    conn: &mut SqliteConnection,
    event_type: &EventType,
    ranges: InputRanges,
    now: Timestamp,
) -> Result<SlotInputs> {
    let org = event_type.organization_id;
    // One batch, one trip to the connection's thread whatever the number of hosts: every
    // host's schedule, every host's busy blocks and (when counting) the counted bookings.
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new("");
    push_schedules(&mut qb, org, event_type.hosts.iter().map(|h| h.schedule_id));
    qb.push(
        "; SELECT host_user_id, blocked_start, blocked_end, event_type_id, start_at \
         FROM bookings WHERE organization_id = ",
    );
    qb.push_bind(org.as_uuid()).push(" AND host_user_id IN (");
    let mut sep = qb.separated(", ");
    for host in &event_type.hosts {
        sep.push_bind(host.user_id.as_uuid());
    }
    qb.push(format!(") AND status IN {HOLDS_TIME} AND blocked_end > "))
        .push_bind(ms(ranges.busy.start()))
        .push(" AND blocked_start < ")
        .push_bind(ms(ranges.busy.end()));
    if let Some(range) = ranges.counted {
        qb.push("; SELECT start_at, host_user_id FROM bookings WHERE organization_id = ")
            .push_bind(org.as_uuid())
            .push(" AND event_type_id = ")
            .push_bind(event_type.id.as_uuid())
            .push(format!(" AND status IN {HOLDS_TIME} AND start_at >= "))
            .push_bind(ms(range.start()))
            .push(" AND start_at < ")
            .push_bind(ms(range.end()))
            .push(" ORDER BY start_at");
    }
    let results: Vec<_> = conn
        .fetch_many(qb.build())
        .try_collect()
        .await
        .map_err(db_err("reading slot inputs"))?;
    // The rows of each statement, in statement order (each statement ends with its result).
    let mut statements: Vec<Vec<SqliteRow>> = vec![Vec::new()];
    for r in results {
        match r {
            Either::Left(_) => statements.push(Vec::new()),
            Either::Right(row) => {
                if let Some(rows) = statements.last_mut() {
                    rows.push(row);
                }
            }
        }
    }
    let mut statements = statements.into_iter();
    let mut next = || statements.next().unwrap_or_default();
    let schedules: HashMap<_, _> = next()
        .iter()
        .map(|r| schedule_of(r).map(|s| (s.id, s)))
        .collect::<Result<_>>()?;
    let mut busy: HashMap<UserId, Vec<BusyBlock>> = HashMap::new();
    for r in &next() {
        busy.entry(uuid_col(r, "host_user_id")?.into())
            .or_default()
            .push(BusyBlock {
                blocked: Interval::new(ts(col(r, "blocked_start")?)?, ts(col(r, "blocked_end")?)?)
                    .ok_or_else(|| corrupt("empty blocked interval"))?,
                event_type_id: uuid_col(r, "event_type_id")?.into(),
                start: ts(col(r, "start_at")?)?,
            });
    }
    let mut hosts = Vec::with_capacity(event_type.hosts.len());
    for host in &event_type.hosts {
        let schedule = schedules
            .get(&host.schedule_id)
            .cloned()
            .ok_or_else(|| StoreError::missing_host_schedule(event_type, host))?;
        hosts.push(HostInput {
            user_id: host.user_id,
            schedule,
            busy: busy.remove(&host.user_id).unwrap_or_default(),
        });
    }
    let counted = match ranges.counted {
        None => Vec::new(),
        Some(_) => next()
            .iter()
            .map(|r| {
                Ok(CountedBooking {
                    start: ts(col(r, "start_at")?)?,
                    host_user_id: uuid_col(r, "host_user_id")?.into(),
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    Ok(SlotInputs {
        event_type: event_type.clone(),
        hosts,
        counted,
        now,
    })
}
