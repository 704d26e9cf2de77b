//! Conversions between domain values and their SQLite columns: instants as epoch milliseconds,
//! scopes as space-separated text, nested values as JSON text through the one codec both SQL
//! stores share (`store_json::text`, re-exported here).
//!
//! Decoding never guesses: a stored value that does not parse is reported as an error, never
//! replaced by a default.

use anyhow::anyhow;
use domain::access::ScopeSet;
use domain::ports::StoreError;
use jiff::Timestamp;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

pub(crate) use store_json::text::{
    attendees_from_json, attendees_to_json, guests_from_json, guests_to_json, hosts_from_json,
    hosts_to_json, location_from_json, location_to_json, locations_from_json, locations_to_json,
    metadata_from_json, metadata_to_json, overrides_from_json, overrides_to_json,
    questions_from_json, questions_to_json, rules_from_json, rules_to_json,
};

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// A stored value that cannot be decoded.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Unknown(anyhow!("stored data is not valid: {what}"))
}

/// Epoch milliseconds of an instant (sub-millisecond precision is dropped).
pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| corrupt(format!("instant {ms}: {e}")))
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(ts).transpose()
}

/// A value one column decodes to, through either driver (sqlx's rows, `rusqlite`'s rows of
/// [`crate::sync_read`]): owned values only.
pub(crate) trait ColumnValue:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + rusqlite::types::FromSql
{
}

impl<T> ColumnValue for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + rusqlite::types::FromSql
{
}

/// A row of either driver, read by column name: the decoders of the rows both read paths
/// return (event types, schedules, users, organizations, slot inputs) take any `Cols`.
pub(crate) trait Cols {
    /// The column `name` decoded as `T`, the column named in the error.
    fn column<T: ColumnValue>(&self, name: &str) -> Result<T>;
}

impl Cols for SqliteRow {
    fn column<T: ColumnValue>(&self, name: &str) -> Result<T> {
        self.try_get(name)
            .map_err(|e| StoreError::Unknown(crate::classify(e).context(format!("column {name}"))))
    }
}

impl Cols for rusqlite::Row<'_> {
    fn column<T: ColumnValue>(&self, name: &str) -> Result<T> {
        self.get(name).map_err(|e| {
            StoreError::Unknown(anyhow::Error::new(e).context(format!("column {name}")))
        })
    }
}

/// A typed column read with the column named in the error.
pub(crate) fn col<T: ColumnValue>(row: &impl Cols, name: &str) -> Result<T> {
    row.column(name)
}

pub(crate) fn uuid_col(row: &impl Cols, name: &str) -> Result<Uuid> {
    col::<Uuid>(row, name)
}

pub(crate) fn u32_col(row: &impl Cols, name: &str) -> Result<u32> {
    let v: i64 = col(row, name)?;
    u32::try_from(v).map_err(|_| corrupt(format!("{name} = {v}")))
}

pub(crate) fn ts_col(row: &impl Cols, name: &str) -> Result<Timestamp> {
    ts(col(row, name)?)
}

pub(crate) fn opt_ts_col(row: &impl Cols, name: &str) -> Result<Option<Timestamp>> {
    opt_ts(col(row, name)?)
}

// ---- tokens ------------------------------------------------------------------------------

pub(crate) fn scopes_to_text(s: &ScopeSet) -> String {
    s.to_string()
}

pub(crate) fn scopes_from_text(s: &str) -> ScopeSet {
    ScopeSet::from_stored(s.split_whitespace())
}
