//! Loading [`SlotInputs`]: what the slot engine needs to decide a window of one event type, per
//! [`domain::slots::input_ranges`]. Shared by the store (a plain read) and the booking
//! transaction (a read that sees the transaction's own writes).
//!
//! It loads each host's schedule (a missing schedule is an error, never an empty availability),
//! each host's time-holding bookings of any event type whose blocked range overlaps the busy
//! range, and — when counting is needed — the event type's time-holding bookings starting in the
//! counted range.

use crate::bookings::HOLDS_TIME;
use crate::codec::{Cols, Result, col, corrupt, ms, ts, uuid_col};
use crate::db_err;
use crate::schedules::{COLUMNS as SCHEDULE_COLUMNS, schedule_of};
use crate::sync_read::{Arg, rows};
use domain::availability::Schedule;
use domain::event_type::{EventType, Host};
use domain::ids::UserId;
use domain::interval::Interval;
use domain::ports::StoreError;
use domain::slots::{BusyBlock, CountedBooking, HostInput, InputRanges, SlotInputs};
use futures::TryStreamExt;
use jiff::Timestamp;
use rusqlite::params_from_iter;
use sqlx::sqlite::SqliteRow;
use sqlx::{Either, Executor, SqliteConnection};
use std::collections::HashMap;

const WHAT: &str = "reading slot inputs";

/// One statement and its arguments.
struct Statement {
    sql: String,
    args: Vec<Arg>,
}

impl Statement {
    /// Runs it on a synchronous read connection, decoding every row with `decode`.
    fn rows<T>(
        &self,
        conn: &rusqlite::Connection,
        decode: impl FnMut(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        rows(conn, &self.sql, params_from_iter(&self.args), WHAT, decode)
    }
}

/// The statements of one load: every host's schedule, every host's time-holding bookings
/// whose blocked range overlaps the busy range, and — when counting is needed — the event
/// type's time-holding bookings starting in the counted range.
struct Statements {
    schedules: Statement,
    busy: Statement,
    counted: Option<Statement>,
}

impl Statements {
    fn new(event_type: &EventType, ranges: InputRanges) -> Self {
        let org = Arg::Uuid(event_type.organization_id.as_uuid());
        let hosts = &event_type.hosts;
        let marks = vec!["?"; hosts.len()].join(", ");
        // The organization, then one id of each host.
        let org_and = |id: fn(&Host) -> uuid::Uuid| -> Vec<Arg> {
            std::iter::once(org)
                .chain(hosts.iter().map(|h| Arg::Uuid(id(h))))
                .collect()
        };
        let mut busy = org_and(|h| h.user_id.as_uuid());
        busy.extend([
            Arg::Int(ms(ranges.busy.start())),
            Arg::Int(ms(ranges.busy.end())),
        ]);
        Self {
            schedules: Statement {
                sql: format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE organization_id = ? \
                     AND id IN ({marks})"
                ),
                args: org_and(|h| h.schedule_id.as_uuid()),
            },
            busy: Statement {
                sql: format!(
                    "SELECT host_user_id, blocked_start, blocked_end, event_type_id, start_at \
                     FROM bookings WHERE organization_id = ? AND host_user_id IN ({marks}) \
                     AND status IN {HOLDS_TIME} AND blocked_end > ? AND blocked_start < ?"
                ),
                args: busy,
            },
            counted: ranges.counted.map(|range| Statement {
                sql: format!(
                    "SELECT start_at, host_user_id FROM bookings WHERE organization_id = ? \
                     AND event_type_id = ? AND status IN {HOLDS_TIME} AND start_at >= ? \
                     AND start_at < ? ORDER BY start_at"
                ),
                args: vec![
                    org,
                    Arg::Uuid(event_type.id.as_uuid()),
                    Arg::Int(ms(range.start())),
                    Arg::Int(ms(range.end())),
                ],
            }),
        }
    }

    /// The statements in order.
    fn all(&self) -> impl Iterator<Item = &Statement> {
        [&self.schedules, &self.busy]
            .into_iter()
            .chain(self.counted.as_ref())
    }
}

fn busy_of(r: &impl Cols) -> Result<(UserId, BusyBlock)> {
    Ok((
        uuid_col(r, "host_user_id")?.into(),
        BusyBlock {
            blocked: Interval::new(ts(col(r, "blocked_start")?)?, ts(col(r, "blocked_end")?)?)
                .ok_or_else(|| corrupt("empty blocked interval"))?,
            event_type_id: uuid_col(r, "event_type_id")?.into(),
            start: ts(col(r, "start_at")?)?,
        },
    ))
}

fn counted_of(r: &impl Cols) -> Result<CountedBooking> {
    Ok(CountedBooking {
        start: ts(col(r, "start_at")?)?,
        host_user_id: uuid_col(r, "host_user_id")?.into(),
    })
}

/// Loads the inputs on a sqlx connection (the booking transaction's): the statements in one
/// batch, one trip to the connection's thread whatever the number of hosts.
pub(crate) async fn load(
    conn: &mut SqliteConnection,
    event_type: &EventType,
    ranges: InputRanges,
    now: Timestamp,
) -> Result<SlotInputs> {
    let statements = Statements::new(event_type, ranges);
    let sql = statements
        .all()
        .map(|s| s.sql.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for arg in statements.all().flat_map(|s| &s.args) {
        query = arg.bind(query);
    }
    let results: Vec<_> = conn
        .fetch_many(query)
        .try_collect()
        .await
        .map_err(db_err(WHAT))?;
    // The rows of each statement, in statement order (each statement ends with its result).
    let mut per_statement: Vec<Vec<SqliteRow>> = vec![Vec::new()];
    for r in results {
        match r {
            Either::Left(_) => per_statement.push(Vec::new()),
            Either::Right(row) => {
                if let Some(rows) = per_statement.last_mut() {
                    rows.push(row);
                }
            }
        }
    }
    let mut per_statement = per_statement.into_iter();
    let mut next = || per_statement.next().unwrap_or_default();
    let schedules = next().iter().map(schedule_of).collect::<Result<_>>()?;
    let busy = next().iter().map(busy_of).collect::<Result<_>>()?;
    let counted = match statements.counted {
        None => Vec::new(),
        Some(_) => next().iter().map(counted_of).collect::<Result<_>>()?,
    };
    assemble(event_type, schedules, busy, counted, now)
}

/// Loads the inputs on a synchronous read connection ([`crate::sync_read`]): the same
/// statements, one after the other on this thread.
pub(crate) fn read(
    conn: &rusqlite::Connection,
    event_type: &EventType,
    ranges: InputRanges,
    now: Timestamp,
) -> Result<SlotInputs> {
    let statements = Statements::new(event_type, ranges);
    let schedules = statements.schedules.rows(conn, |r| schedule_of(r))?;
    let busy = statements.busy.rows(conn, |r| busy_of(r))?;
    let counted = match &statements.counted {
        None => Vec::new(),
        Some(counted) => counted.rows(conn, |r| counted_of(r))?,
    };
    assemble(event_type, schedules, busy, counted, now)
}

fn assemble(
    event_type: &EventType,
    schedules: Vec<Schedule>,
    busy_rows: Vec<(UserId, BusyBlock)>,
    counted: Vec<CountedBooking>,
    now: Timestamp,
) -> Result<SlotInputs> {
    let schedules: HashMap<_, _> = schedules.into_iter().map(|s| (s.id, s)).collect();
    let mut busy: HashMap<UserId, Vec<BusyBlock>> = HashMap::new();
    for (host, block) in busy_rows {
        busy.entry(host).or_default().push(block);
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
    Ok(SlotInputs {
        event_type: event_type.clone(),
        hosts,
        counted,
        now,
    })
}
