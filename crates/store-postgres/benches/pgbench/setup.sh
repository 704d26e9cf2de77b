#!/usr/bin/env bash
# A scratch database `slotbook_pgbench` with the schema of migrations/postgres, one
# organization and the baseline's table, for the pgbench scripts beside this file
# (BENCHMARKS.md, "Booking writes": where a Postgres booking's time goes). Run from the
# repository root; then e.g.
#   pgbench -h 127.0.0.1 -U postgres -n -M prepared -f crates/store-postgres/benches/pgbench/booking.sql -t 2000 slotbook_pgbench
set -euo pipefail
db=slotbook_pgbench
dropdb -h 127.0.0.1 -U postgres --if-exists "$db"
createdb -h 127.0.0.1 -U postgres "$db"
for f in migrations/postgres/*.sql; do
    psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$db" -f "$f" >/dev/null
done
psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$db" -c "
INSERT INTO organizations VALUES ('00000000-0000-0000-0000-000000000001', 'o', NULL, now());
CREATE TABLE bench_baseline (id bigint PRIMARY KEY, payload text NOT NULL);
CREATE SEQUENCE s; CREATE SEQUENCE b;"
