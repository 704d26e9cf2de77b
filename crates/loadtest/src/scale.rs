//! The organization and the history of `slotbook-bench-scale` (`just bench-scale`, issue 18
//! item 5): [`seed`] creates, through `server::admin`, [`HOSTS`] hosts with a 24/7
//! Europe/Berlin schedule and a 30-minute individual event type each (`meet-<n>`), a 5-minute
//! event type of host 1 for booking writes, and a full-scope token. The history is then
//! bulk-loaded with SQL ([`HistoryPlan`]): every row is a copy of one *template* booking that
//! the real server wrote (`POST /v1/bookings`), with its uid, host, event type, times, status
//! and first attendee's e-mail replaced, so the columns are encoded exactly as the store encodes
//! them. On SQLite the `booking_attendees` rows come from the store's own insert trigger; the
//! outbox gets a delivered, notified message per booking created within the retention window
//! (older ones the worker's purge would already have deleted).
//!
//! The history grid: host `h` has slots `k = 0..max/HOSTS`, `step` apart over `years` years
//! ending a day before the run; size `s` holds the slots with `k % (max/s) == 0`, so every size
//! spans the same years at a different density, and growing from one size to the next inserts
//! only the missing slots. The slot window measured (the next 31 days) holds the same
//! [`UPCOMING`] bookings of host 0 at every size.

use domain::access::ACTIVE_AND_RESERVED_SCOPES;
use domain::organization::Role;
use secrecy::ExposeSecret as _;
use server::admin::{self, AdminContext, Expiry, NewEventType, NewSchedule, NewToken, NewUser};
use server::wiring::{SystemClock, UuidV7};
use std::sync::Arc;

/// Hosts of the organization.
pub const HOSTS: u64 = 100;
/// The zone of every schedule.
pub const ZONE: &str = "Europe/Berlin";
/// Upcoming bookings of host 0 in the measured slot window, at every size.
pub const UPCOMING: u64 = 100;
/// Minutes of a history booking (the `meet-<n>` duration).
pub const DURATION_MIN: i64 = 30;
/// Days outbox messages are kept (the server's default `retention_days`).
pub const RETENTION_DAYS: i64 = 30;

/// One host of the organization: (user id, event type id, event type slug).
#[derive(Debug, Clone)]
pub struct Host {
    pub user_id: uuid::Uuid,
    pub event_type_id: uuid::Uuid,
    pub slug: String,
}

/// What the benchmark needs to know about the seeded organization.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub org: uuid::Uuid,
    pub token: String,
    pub hosts: Vec<Host>,
    /// The 5-minute event type of host 1 the booking writes use.
    pub quick_event_type: String,
}

/// Opens and migrates `database_url`, seeds it, and closes it again.
pub async fn seed(database_url: &str, pepper: &str) -> anyhow::Result<Seeded> {
    let opened = server::wiring::open_store(database_url).await?;
    let ctx = AdminContext {
        store: opened.storage.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7),
        pepper: auth::Pepper::new(pepper.as_bytes().to_vec()),
    };
    let org = admin::create_org(&ctx, "Bench scale").await?;
    let rules = admin::parse_rule("mon-sun 00:00-24:00").map_err(anyhow::Error::msg)?;
    let mut hosts = Vec::new();
    let mut users = Vec::new();
    for i in 0..HOSTS {
        let username = format!("host{i}");
        let user = admin::create_user(
            &ctx,
            NewUser {
                org: org.id,
                email: format!("{username}@example.com"),
                username,
                role: if i == 0 { Role::Owner } else { Role::Member },
                first_name: Some("Host".to_owned()),
                last_name: Some(i.to_string()),
                timezone: Some(ZONE.to_owned()),
                password: None,
            },
        )
        .await?;
        admin::create_schedule(
            &ctx,
            NewSchedule {
                org: org.id,
                user: user.id,
                name: "Always".to_owned(),
                timezone: ZONE.to_owned(),
                rules: rules.clone(),
                overrides: Vec::new(),
            },
        )
        .await?;
        let slug = format!("meet-{i}");
        let mut et = NewEventType::individual(
            org.id,
            user.id,
            &slug,
            &format!("Meeting {i}"),
            u32::try_from(DURATION_MIN)?,
        );
        et.future_limit_days = 0;
        let et = admin::create_event_type(&ctx, et).await?;
        hosts.push(Host {
            user_id: user.id.as_uuid(),
            event_type_id: et.id.as_uuid(),
            slug,
        });
        users.push(user.id);
    }
    let (owner, writer) = match users.as_slice() {
        [a, b, ..] => (*a, *b),
        _ => anyhow::bail!("fewer than two hosts"),
    };
    let mut quick = NewEventType::individual(org.id, writer, "quick", "Quick call", 5);
    quick.interval_minutes = Some(5);
    quick.future_limit_days = 0;
    let quick = admin::create_event_type(&ctx, quick).await?;
    let (_, secret) = admin::create_token(
        &ctx,
        NewToken {
            org: org.id,
            user: owner,
            name: "bench-scale".to_owned(),
            scopes: ACTIVE_AND_RESERVED_SCOPES.join(" "),
            expiry: Expiry::Days(42),
        },
    )
    .await?;
    Ok(Seeded {
        org: org.id.as_uuid(),
        token: secret.expose_secret().to_owned(),
        hosts,
        quick_event_type: quick.id.to_string(),
    })
}

/// Where the history lies (all instants in epoch milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct HistoryPlan {
    /// Largest size: the grid has `max / HOSTS` slots per host.
    pub max: u64,
    /// Start of slot `k = 0` of host 0.
    pub base_ms: i64,
    /// Distance between a host's consecutive slots.
    pub step_ms: i64,
    /// Start of the measured slot window (the upcoming bookings lie in it).
    pub window_ms: i64,
    /// `now` of the run (the retention window ends here).
    pub now_ms: i64,
}

const DAY_MS: i64 = 86_400_000;
const MIN_MS: i64 = 60_000;

impl HistoryPlan {
    /// A grid of `max / HOSTS` slots per host over `years` years ending a day before `now_ms`.
    pub fn new(max: u64, years: i64, now_ms: i64, window_ms: i64) -> anyhow::Result<Self> {
        let per_host = i64::try_from(max / HOSTS)?;
        anyhow::ensure!(per_host > 0, "the largest size must be at least {HOSTS}");
        let span = years * 365 * DAY_MS;
        // whole minutes; host offsets (h × 7 min, < 12 h) must not reach the next slot's start
        let step_ms = (span / per_host) / MIN_MS * MIN_MS;
        anyhow::ensure!(
            step_ms >= (DURATION_MIN + 1) * MIN_MS,
            "{max} bookings over {years} years: slots closer than a booking; use more years"
        );
        let end = now_ms - DAY_MS - 12 * 60 * MIN_MS;
        Ok(Self {
            max,
            base_ms: end - per_host * step_ms,
            step_ms,
            window_ms,
            now_ms,
        })
    }

    /// The grid stride of `size`.
    pub fn stride(&self, size: u64) -> anyhow::Result<u64> {
        anyhow::ensure!(
            size > 0 && size.is_multiple_of(HOSTS) && self.max.is_multiple_of(size),
            "size {size}: every size must be a multiple of {HOSTS} dividing the largest ({})",
            self.max
        );
        Ok(self.max / size)
    }

    /// `SELECT i, h, start_ms, st` of the history rows that grow `prev` (0: nothing) to `size`:
    /// `i` numbers the row, `h` is the host index, `st` (0–19) picks the status (0–1
    /// canceled, 2 rescheduled, 3 pending, else confirmed). `series` is the store's
    /// `(SELECT … AS i)` row source over `0..max`.
    pub fn history_rows(&self, series: &str, prev: u64, size: u64) -> anyhow::Result<String> {
        let stride = self.stride(size)?;
        let prev_filter = if prev == 0 {
            String::new()
        } else {
            format!(" AND (s.i / {HOSTS}) % {} <> 0", self.stride(prev)?)
        };
        Ok(format!(
            "SELECT s.i AS i, s.i % {HOSTS} AS h, \
             {base} + (s.i / {HOSTS}) * {step} + (s.i % {HOSTS}) * {seven} AS start_ms, \
             (((s.i * 2654435761) % 4294967296) / 65536) % 20 AS st \
             FROM {series} WHERE (s.i / {HOSTS}) % {stride} = 0{prev_filter}",
            base = self.base_ms,
            step = self.step_ms,
            seven = 7 * MIN_MS,
        ))
    }

    /// The rows of the [`UPCOMING`] bookings of host 0 (confirmed, 7 h apart from an hour into
    /// the window); numbered from `max` so their e-mails differ from the history's.
    pub fn upcoming_rows(&self, series: &str) -> String {
        format!(
            "SELECT {max} + s.i AS i, 0 AS h, {w} + {hour} + s.i * {seven_h} AS start_ms, 19 AS st \
             FROM {series} WHERE s.i < {UPCOMING}",
            max = self.max,
            w = self.window_ms,
            hour = 60 * MIN_MS,
            seven_h = 7 * 60 * MIN_MS,
        )
    }

    /// Bookings created on or after this instant keep their outbox message.
    pub fn retention_cut_ms(&self) -> i64 {
        self.now_ms - RETENTION_DAYS * DAY_MS
    }
}

/// The column expressions shared by both stores, over `g` (the generated rows), `hs` (the host
/// map) and `t` (the template), with `$ms(x)` the store's instant of a millisecond expression.
/// Returns (status, version, cancelled_at ms, reason, rescheduled_at ms, created_at ms,
/// updated_at ms) as SQL expressions.
pub fn shared_exprs() -> [String; 7] {
    let day = DAY_MS;
    [
        "CASE WHEN g.st < 2 THEN 'canceled' WHEN g.st = 2 THEN 'rescheduled' \
         WHEN g.st = 3 THEN 'pending' ELSE 'confirmed' END"
            .to_owned(),
        "CASE WHEN g.st < 3 THEN 2 ELSE 1 END".to_owned(),
        format!("CASE WHEN g.st < 2 THEN g.start_ms - {day} END"),
        "CASE WHEN g.st < 2 THEN 'bench history' END".to_owned(),
        format!("CASE WHEN g.st = 2 THEN g.start_ms - 2 * {day} END"),
        format!("g.start_ms - (7 + g.i % 30) * {day}"),
        format!(
            "CASE WHEN g.st < 2 THEN g.start_ms - {day} WHEN g.st = 2 THEN g.start_ms - 2 * {day} \
             ELSE g.start_ms - (7 + g.i % 30) * {day} END"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_nest_and_slots_do_not_overlap() {
        let now = 1_800_000_000_000;
        let plan = HistoryPlan::new(1_000_000, 4, now, now + DAY_MS).unwrap();
        assert_eq!(plan.stride(10_000).unwrap(), 100);
        assert_eq!(plan.stride(1_000_000).unwrap(), 1);
        assert!(plan.stride(30_000).is_err());
        assert!(plan.stride(150).is_err());
        // the last slot of the last host ends before now, and a host's slots never overlap
        let last = plan.base_ms + (10_000 - 1) * plan.step_ms + 99 * 7 * MIN_MS;
        assert!(last + DURATION_MIN * MIN_MS < now);
        assert!(plan.step_ms > DURATION_MIN * MIN_MS);
        let sql = plan.history_rows("s", 10_000, 100_000).unwrap();
        assert!(sql.contains("% 10 = 0 AND (s.i / 100) % 100 <> 0"), "{sql}");
        assert!(HistoryPlan::new(1_000_000, 0, now, now).is_err());
    }
}
