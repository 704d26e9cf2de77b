# Slotbook tasks. `just` lists them. Every recipe is plain cargo underneath, so a machine
# without `just` runs the same commands (see README.md).

default:
    @just --list

# Start the server on the embedded SQLite default, with demo data and a token on first start.
run:
    cargo run --release -p server --bin slotbook -- serve --demo

# The full test suite (SQLite and Postgres at 127.0.0.1:5432).
test:
    cargo nextest run --workspace

# Formatting, lints and dependency policy.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo deny check licenses bans sources

# In-process benchmarks (criterion): slot engine and store throughput.
bench:
    cargo bench -p domain --bench slots -- --warm-up-time 1 --measurement-time 5
    cargo bench -p store-sqlite --bench bookings -- --warm-up-time 1 --measurement-time 5
    cargo bench -p store-postgres --bench bookings -- --warm-up-time 1 --measurement-time 5

# Loopback HTTP load test: the release server and a bare hyper "hello" server measured in the
# same run (requests/s, p50, p99, ratios, resident memory). Bounded in time; 127.0.0.1 only.
bench-http:
    cargo build --release -p server -p loadtest --bins
    ${CARGO_TARGET_DIR:-target}/release/slotbook-loadtest --seconds 5 --connections 32

# Webhook delivery benchmark on SQLite and Postgres (127.0.0.1:5432): deliveries/s to a loopback
# receiver and the commit-to-first-attempt delay (median, p99). Bounded; 127.0.0.1 only.
bench-webhooks:
    cargo build --release -p server -p loadtest --bins
    ${CARGO_TARGET_DIR:-target}/release/slotbook-bench-webhooks

# Cost as history grows (issue 18 item 5): 10 k, 100 k and 1 M bookings (100 hosts, 4 years)
# bulk-loaded into SQLite and Postgres (127.0.0.1:5432, a `slotbook_bench_perf_…` database
# dropped afterwards); median and p99 of the booking list, a month of slots and booking writes
# at each size, and the query plans. `just bench-scale --sizes 10000,100000` for fewer sizes.
bench-scale *ARGS:
    cargo build --release -p server -p loadtest --bins
    ${CARGO_TARGET_DIR:-target}/release/slotbook-bench-scale {{ARGS}}

# The reliability scorecard (issue 17): hostile-input corpus, concurrency, resource bounds,
# schemathesis against the served OpenAPI and the slotbook-faults rows, on SQLite and Postgres
# (127.0.0.1:5432), printed as one table. Bounded; 127.0.0.1 only. `just reliability --fast`
# keeps the CI-cheap rows.
reliability *ARGS:
    cargo build --release -p server -p loadtest --bins
    ${CARGO_TARGET_DIR:-target}/release/slotbook-reliability {{ARGS}}

# What CI runs.
ci:
    bash .ci/run
