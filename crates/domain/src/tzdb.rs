//! Where IANA zones come from: the system time zone database first (`/usr/share/zoneinfo` or
//! `TZDIR`, so operators keep control of tzdata updates), then the copy of the IANA database
//! bundled into the binary (jiff's `tzdb-bundle-always` feature). A scratch or distroless image,
//! or a host whose tzdata lacks a zone, still resolves every IANA name.
//!
//! jiff itself falls back to its bundle only when no system database is found at all; the
//! per-name fallback here also covers a system database that is present but incomplete.

use jiff::tz::{TimeZone, TimeZoneDatabase};

/// Looks `name` up in the system database, then in the bundled one.
pub fn lookup(name: &str) -> Result<TimeZone, jiff::Error> {
    jiff::tz::db()
        .get(name)
        .or_else(|system| TimeZoneDatabase::bundled().get(name).map_err(|_| system))
}
