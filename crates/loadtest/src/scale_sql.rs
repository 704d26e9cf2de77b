//! The store-specific SQL of `slotbook-bench-scale`: bulk-loading the history of
//! [`crate::scale::HistoryPlan`] as copies of the template booking, and the query plans of the
//! list and slot-busy queries (the same statement shapes the stores build; the values are
//! literals so the plans can be printed).

use crate::scale::{DURATION_MIN, HistoryPlan, Seeded, shared_exprs};
use anyhow::Context as _;
use sqlx::{Connection as _, PgConnection, Row as _, SqliteConnection};

/// A direct connection to the benchmark database, next to the running server.
pub enum Db {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// The list queries whose plans are shown, by name.
pub struct PlanInputs {
    pub org: uuid::Uuid,
    pub host0: uuid::Uuid,
    /// The deep cursor's instant (ms) and the `start_date`/`end_date` bounds (ms).
    pub deep_ms: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    /// The slot window (ms).
    pub window: (i64, i64),
}

const BOOKING_COLS_SQLITE: &str = "organization_id, uid, version, event_type_id, event_type_slug, \
     title, status, start_at, end_at, blocked_start, blocked_end, timezone, host_user_id, \
     shares_seats, attendees, guests, location, metadata, responses, utm_source, utm_medium, \
     utm_campaign, calendar_sync_status, calendar_event_id, rescheduled_from_uid, \
     reschedule_generation, cancelled_at, cancellation_reason, no_show_at, no_show_reason, \
     rescheduled_at, created_at, updated_at";

const BOOKING_COLS_PG: &str = "organization_id, uid, slot_key, version, event_type_id, \
     event_type_slug, title, status, start_at, end_at, blocked, timezone, host_user_id, \
     attendees, guests, location, metadata, responses, utm_source, utm_medium, utm_campaign, \
     calendar_sync_status, calendar_event_id, rescheduled_from_uid, reschedule_generation, \
     cancelled_at, cancellation_reason, no_show_at, no_show_reason, rescheduled_at, created_at, \
     updated_at";

fn pg_ts(ms: &str) -> String {
    format!("(timestamptz 'epoch' + ({ms}) * interval '1 millisecond')")
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(if url.starts_with("sqlite:") {
            let mut c = SqliteConnection::connect(url).await?;
            sqlx::query("PRAGMA busy_timeout = 30000")
                .execute(&mut c)
                .await?;
            Self::Sqlite(c)
        } else {
            Self::Postgres(PgConnection::connect(url).await?)
        })
    }

    async fn exec(&mut self, sql: String) -> anyhow::Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(match self {
            Self::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await?.rows_affected(),
            Self::Postgres(c) => sqlx::raw_sql(sql).execute(c).await?.rows_affected(),
        })
    }

    /// The host map `bench_hosts (h, user_id, event_type_id, slug)` (a temporary table of this
    /// connection).
    pub async fn prepare(&mut self, seeded: &Seeded) -> anyhow::Result<()> {
        let values: Vec<String> = seeded
            .hosts
            .iter()
            .enumerate()
            .map(|(h, host)| match self {
                Self::Sqlite(_) => format!(
                    "({h}, X'{}', X'{}', '{}')",
                    host.user_id.simple(),
                    host.event_type_id.simple(),
                    host.slug
                ),
                Self::Postgres(_) => format!(
                    "({h}, '{}'::uuid, '{}'::uuid, '{}')",
                    host.user_id, host.event_type_id, host.slug
                ),
            })
            .collect();
        self.exec(format!(
            "CREATE TEMPORARY TABLE bench_hosts (h BIGINT PRIMARY KEY, user_id {t}, \
             event_type_id {t}, slug TEXT); INSERT INTO bench_hosts VALUES {}",
            values.join(", "),
            t = if matches!(self, Self::Sqlite(_)) {
                "BLOB"
            } else {
                "uuid"
            }
        ))
        .await?;
        Ok(())
    }

    /// Inserts copies of booking `template` for the rows of `rows` (over the series `s`), and
    /// the outbox messages of those created on or after the retention cut. Returns the
    /// bookings inserted.
    pub async fn load(
        &mut self,
        plan: &HistoryPlan,
        org: uuid::Uuid,
        template: uuid::Uuid,
        rows: impl Fn(&str) -> anyhow::Result<String>,
    ) -> anyhow::Result<u64> {
        let [
            status,
            version,
            cancelled,
            reason,
            rescheduled,
            created,
            updated,
        ] = shared_exprs();
        let dur = DURATION_MIN * 60_000;
        let cut = plan.retention_cut_ms();
        let max = plan.max.max(crate::scale::UPCOMING);
        match self {
            Self::Sqlite(_) => {
                let series = "s";
                let g = rows(series)?;
                let with = format!(
                    "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < {max}), \
                     g AS ({g})"
                );
                let tmpl = format!(
                    "(SELECT * FROM bookings WHERE organization_id = X'{}' AND uid = X'{}')",
                    org.simple(),
                    template.simple()
                );
                let n = self
                    .exec(format!(
                        "{with} INSERT INTO bookings ({BOOKING_COLS_SQLITE}) SELECT \
                         t.organization_id, randomblob(16), {version}, hs.event_type_id, hs.slug, \
                         t.title, {status}, g.start_ms, g.start_ms + {dur}, g.start_ms, \
                         g.start_ms + {dur}, t.timezone, hs.user_id, t.shares_seats, \
                         json_set(t.attendees, '$[0].email', 'guest' || g.i || '@example.com'), \
                         t.guests, t.location, t.metadata, t.responses, t.utm_source, \
                         t.utm_medium, t.utm_campaign, t.calendar_sync_status, \
                         t.calendar_event_id, NULL, 0, {cancelled}, {reason}, NULL, NULL, \
                         {rescheduled}, {created}, {updated} \
                         FROM g JOIN bench_hosts hs ON hs.h = g.h CROSS JOIN {tmpl} t"
                    ))
                    .await
                    .context("bulk-loading bookings (SQLite)")?;
                self.exec(format!(
                    "{with} INSERT INTO outbox (organization_id, id, event, payload, created_at, \
                     done_at, notified_at) SELECT o.organization_id, randomblob(16), o.event, \
                     o.payload, {created}, {created}, {created} FROM g CROSS JOIN \
                     (SELECT * FROM outbox WHERE organization_id = X'{}' ORDER BY created_at LIMIT 1) o \
                     WHERE {created} >= {cut}",
                    org.simple()
                ))
                .await
                .context("bulk-loading outbox messages (SQLite)")?;
                Ok(n)
            }
            Self::Postgres(_) => {
                let series = format!("generate_series(0::bigint, {}) AS s(i)", max - 1);
                let g = rows(&series)?;
                let tmpl = format!(
                    "(SELECT * FROM bookings WHERE organization_id = '{org}' AND uid = '{template}')"
                );
                let ts = |e: &str| pg_ts(e);
                let n = self
                    .exec(format!(
                        "INSERT INTO bookings ({BOOKING_COLS_PG}) SELECT t.organization_id, g.uid, \
                         g.uid::text, {version}, hs.event_type_id, hs.slug, t.title, {status}, \
                         {s}, {e}, tstzrange({s}, {e}, '[)'), t.timezone, hs.user_id, \
                         jsonb_set(t.attendees, '{{0,email}}', to_jsonb('guest' || g.i || '@example.com')), \
                         t.guests, t.location, t.metadata, t.responses, t.utm_source, \
                         t.utm_medium, t.utm_campaign, t.calendar_sync_status, \
                         t.calendar_event_id, NULL, 0, {c}, {reason}, NULL, NULL, {r}, {cr}, {u} \
                         FROM (SELECT x.*, gen_random_uuid() AS uid FROM ({g}) x) g \
                         JOIN bench_hosts hs ON hs.h = g.h CROSS JOIN {tmpl} t",
                        s = ts("g.start_ms"),
                        e = ts(&format!("g.start_ms + {dur}")),
                        c = ts(&cancelled),
                        r = ts(&rescheduled),
                        cr = ts(&created),
                        u = ts(&updated),
                    ))
                    .await
                    .context("bulk-loading bookings (Postgres)")?;
                self.exec(format!(
                    "INSERT INTO outbox (organization_id, id, event, payload, created_at, \
                     done_at, notified_at) SELECT o.organization_id, gen_random_uuid(), o.event, \
                     o.payload, {cr}, {cr}, {cr} FROM ({g}) g CROSS JOIN \
                     (SELECT * FROM outbox WHERE organization_id = '{org}' ORDER BY created_at LIMIT 1) o \
                     WHERE {created} >= {cut}",
                    cr = ts(&created),
                ))
                .await
                .context("bulk-loading outbox messages (Postgres)")?;
                Ok(n)
            }
        }
    }

    /// Postgres: `VACUUM (ANALYZE)` and a `CHECKPOINT` — the steady state autovacuum and the
    /// checkpointer reach after a bulk load (statistics, hint bits and the visibility map
    /// set, dirty pages written), so the measured requests neither set hint bits on a
    /// million fresh rows nor compete with the checkpoint of the load. SQLite: nothing — the
    /// server never runs `ANALYZE`, so its plans are measured without statistics.
    pub async fn after_load(&mut self) -> anyhow::Result<()> {
        if matches!(self, Self::Postgres(_)) {
            self.exec("VACUUM (ANALYZE)".to_owned()).await?;
            self.exec("CHECKPOINT".to_owned()).await?;
        }
        Ok(())
    }

    /// Rows of `bookings`, `booking_attendees` (SQLite) and `outbox`.
    pub async fn counts(&mut self) -> anyhow::Result<String> {
        let tables: &[&str] = match self {
            Self::Sqlite(_) => &["bookings", "booking_attendees", "outbox"],
            Self::Postgres(_) => &["bookings", "outbox"],
        };
        let mut parts = Vec::new();
        for t in tables {
            let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) AS n FROM {t}"));
            let n: i64 = match self {
                Self::Sqlite(c) => sqlx::query(sql).fetch_one(c).await?.try_get("n")?,
                Self::Postgres(c) => sqlx::query(sql).fetch_one(c).await?.try_get("n")?,
            };
            parts.push(format!("{t} {n}"));
        }
        Ok(parts.join(", "))
    }

    /// The plans of the list queries and the slot-busy query, as text.
    pub async fn plans(&mut self, p: &PlanInputs) -> anyhow::Result<Vec<(String, String)>> {
        let queries = match self {
            Self::Sqlite(_) => sqlite_queries(p),
            Self::Postgres(_) => pg_queries(p),
        };
        let mut out = Vec::new();
        for (name, sql) in queries {
            let text = match self {
                Self::Sqlite(c) => {
                    let rows =
                        sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                            .fetch_all(&mut *c)
                            .await
                            .with_context(|| format!("plan of {name}"))?;
                    rows.iter()
                        .map(|r| r.try_get::<String, _>("detail"))
                        .collect::<Result<Vec<_>, _>>()?
                        .join("\n")
                }
                Self::Postgres(c) => {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}"
                    )))
                    .fetch_all(&mut *c)
                    .await
                    .with_context(|| format!("plan of {name}"))?;
                    rows.iter()
                        .map(|r| r.try_get::<String, _>(0))
                        .collect::<Result<Vec<_>, _>>()?
                        .join("\n")
                }
            };
            out.push((name.to_owned(), text));
        }
        Ok(out)
    }
}

fn sqlite_queries(p: &PlanInputs) -> Vec<(&'static str, String)> {
    let org = format!("X'{}'", p.org.simple());
    let head = format!("SELECT b.* FROM bookings b WHERE b.organization_id = {org}");
    let order = "ORDER BY b.start_at DESC, b.uid DESC LIMIT 101";
    vec![
        ("list: first page", format!("{head} {order}")),
        (
            "list: deep cursor",
            format!(
                "{head} AND (b.start_at, b.uid) < ({}, X'ffffffffffffffffffffffffffffffff') {order}",
                p.deep_ms
            ),
        ),
        (
            "list: status=canceled",
            format!("{head} AND b.status = 'canceled' {order}"),
        ),
        (
            "list: status=confirmed,pending + start_date/end_date",
            format!(
                "{head} AND b.status IN ('confirmed', 'pending') AND b.start_at >= {} \
                 AND b.start_at <= {} {order}",
                p.from_ms, p.to_ms
            ),
        ),
        (
            "slots: busy blocks of one host",
            format!(
                "SELECT host_user_id, blocked_start, blocked_end, event_type_id, start_at \
                 FROM bookings WHERE organization_id = {org} AND host_user_id IN (X'{}') \
                 AND status IN ('confirmed', 'pending') AND blocked_end > {} AND blocked_start < {}",
                p.host0.simple(),
                p.window.0,
                p.window.1
            ),
        ),
    ]
}

fn pg_queries(p: &PlanInputs) -> Vec<(&'static str, String)> {
    let org = format!("'{}'", p.org);
    let head = format!("SELECT * FROM bookings WHERE organization_id = {org}");
    let order = "ORDER BY start_at DESC, uid DESC LIMIT 101";
    let t = |ms: i64| pg_ts(&ms.to_string());
    vec![
        ("list: first page", format!("{head} {order}")),
        (
            "list: deep cursor",
            format!(
                "{head} AND (start_at, uid) < ({}, 'ffffffff-ffff-ffff-ffff-ffffffffffff') {order}",
                t(p.deep_ms)
            ),
        ),
        (
            "list: status=canceled",
            format!("{head} AND status = 'canceled' {order}"),
        ),
        (
            "list: status=confirmed,pending + start_date/end_date",
            format!(
                "{head} AND status = ANY(ARRAY['confirmed', 'pending']) AND start_at >= {} \
                 AND start_at <= {} {order}",
                t(p.from_ms),
                t(p.to_ms)
            ),
        ),
        (
            "slots: busy blocks of one host",
            format!(
                "SELECT host_user_id, lower(blocked), upper(blocked), event_type_id, start_at \
                 FROM bookings WHERE organization_id = {org} AND host_user_id = ANY(ARRAY['{}'::uuid]) \
                 AND status IN ('confirmed', 'pending') AND blocked && tstzrange({}, {}, '[)')",
                p.host0,
                t(p.window.0),
                t(p.window.1)
            ),
        ),
    ]
}

/// Bench databases on the shared Postgres: `slotbook_bench_perf_<epoch>_<pid>`, created and
/// dropped by the run (a prefix the test suites' stale-database sweep never touches).
pub struct BenchPgDatabase {
    pub name: String,
    pub url: String,
    server: String,
}

impl BenchPgDatabase {
    pub async fn create(server: &str) -> anyhow::Result<Self> {
        let name = format!(
            "slotbook_bench_perf_{}_{}",
            jiff::Timestamp::now().as_second(),
            std::process::id()
        );
        let mut admin = PgConnection::connect(server)
            .await
            .with_context(|| format!("connecting to {server}"))?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await.ok();
        let url = store_postgres::testing::with_database(server, &name);
        Ok(Self {
            name,
            url,
            server: server.to_owned(),
        })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&self.server).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await?;
        Ok(())
    }
}
