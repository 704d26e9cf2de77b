//! Conversions between domain values and their SQLite columns: instants as epoch milliseconds,
//! nested values as JSON text through small private serde structs (the domain stays serde-free).
//!
//! Decoding never guesses: a stored value that does not parse is reported as an error, never
//! replaced by a default.

use anyhow::{Context as _, anyhow};
use domain::access::ScopeSet;
use domain::availability::{DateOverride, LocalRange, TimeOfDay, WeeklyRule, parse_weekday};
use domain::booking::{Attendee, BookingLocation, Metadata, MetadataValue, RawJson};
use domain::event_type::{Host, Location, Question};
use domain::ports::StoreError;
use jiff::Timestamp;
use jiff::civil::Weekday;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use std::collections::BTreeMap;
use uuid::Uuid;

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

/// A typed column read with the column named in the error.
pub(crate) fn col<'r, T>(row: &'r SqliteRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Unknown(anyhow::Error::new(e).context(format!("column {name}"))))
}

pub(crate) fn uuid_col(row: &SqliteRow, name: &str) -> Result<Uuid> {
    col::<Uuid>(row, name)
}

pub(crate) fn u32_col(row: &SqliteRow, name: &str) -> Result<u32> {
    let v: i64 = col(row, name)?;
    u32::try_from(v).map_err(|_| corrupt(format!("{name} = {v}")))
}

pub(crate) fn ts_col(row: &SqliteRow, name: &str) -> Result<Timestamp> {
    ts(col(row, name)?)
}

pub(crate) fn opt_ts_col(row: &SqliteRow, name: &str) -> Result<Option<Timestamp>> {
    opt_ts(col(row, name)?)
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .context("encoding JSON column")
        .map_err(StoreError::Unknown)
}

pub(crate) fn from_json<'a, T: Deserialize<'a>>(what: &str, text: &'a str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("{what}: {e}")))
}

fn parse_uuid(what: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt(format!("{what} '{s}': {e}")))
}

// ---- schedules ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct RangeJ {
    start: String,
    end: String,
}

#[derive(Serialize, Deserialize)]
struct RuleJ {
    days: Vec<String>,
    #[serde(flatten)]
    range: RangeJ,
}

#[derive(Serialize, Deserialize)]
struct OverrideJ {
    date: String,
    intervals: Vec<RangeJ>,
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

fn range_j(r: &LocalRange) -> RangeJ {
    RangeJ {
        start: r.start.to_string(),
        end: r.end.to_string(),
    }
}

fn range_of(r: &RangeJ) -> Result<LocalRange> {
    let start = TimeOfDay::parse(&r.start).map_err(corrupt)?;
    let end = TimeOfDay::parse(&r.end).map_err(corrupt)?;
    LocalRange::new(start, end).map_err(corrupt)
}

pub(crate) fn rules_to_json(rules: &[WeeklyRule]) -> Result<String> {
    let v: Vec<RuleJ> = rules
        .iter()
        .map(|r| RuleJ {
            days: r.days.iter().map(|d| weekday_name(*d).to_owned()).collect(),
            range: range_j(&r.range),
        })
        .collect();
    to_json(&v)
}

pub(crate) fn rules_from_json(text: &str) -> Result<Vec<WeeklyRule>> {
    let v: Vec<RuleJ> = from_json("schedule rules", text)?;
    v.iter()
        .map(|r| {
            let days = r
                .days
                .iter()
                .map(|d| parse_weekday(d).ok_or_else(|| corrupt(format!("weekday '{d}'"))))
                .collect::<Result<Vec<_>>>()?;
            Ok(WeeklyRule {
                days,
                range: range_of(&r.range)?,
            })
        })
        .collect()
}

pub(crate) fn overrides_to_json(overrides: &[DateOverride]) -> Result<String> {
    let v: Vec<OverrideJ> = overrides
        .iter()
        .map(|o| OverrideJ {
            date: o.date.to_string(),
            intervals: o.intervals.iter().map(range_j).collect(),
        })
        .collect();
    to_json(&v)
}

pub(crate) fn overrides_from_json(text: &str) -> Result<Vec<DateOverride>> {
    let v: Vec<OverrideJ> = from_json("schedule overrides", text)?;
    v.iter()
        .map(|o| {
            Ok(DateOverride {
                date: o
                    .date
                    .parse()
                    .map_err(|e| corrupt(format!("date '{}': {e}", o.date)))?,
                intervals: o.intervals.iter().map(range_of).collect::<Result<_>>()?,
            })
        })
        .collect()
}

// ---- event types -------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct HostJ {
    user_id: String,
    schedule_id: String,
}

#[derive(Serialize, Deserialize)]
struct LocationJ {
    kind: String,
    label: String,
    value: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct QuestionJ {
    id: String,
    key: String,
    label: String,
    kind: String,
    required: bool,
}

pub(crate) fn hosts_to_json(hosts: &[Host]) -> Result<String> {
    let v: Vec<HostJ> = hosts
        .iter()
        .map(|h| HostJ {
            user_id: h.user_id.to_string(),
            schedule_id: h.schedule_id.to_string(),
        })
        .collect();
    to_json(&v)
}

pub(crate) fn hosts_from_json(text: &str) -> Result<Vec<Host>> {
    let v: Vec<HostJ> = from_json("event type hosts", text)?;
    v.iter()
        .map(|h| {
            Ok(Host {
                user_id: parse_uuid("host user id", &h.user_id)?.into(),
                schedule_id: parse_uuid("host schedule id", &h.schedule_id)?.into(),
            })
        })
        .collect()
}

pub(crate) fn locations_to_json(locations: &[Location]) -> Result<String> {
    let v: Vec<LocationJ> = locations
        .iter()
        .map(|l| LocationJ {
            kind: l.kind.clone(),
            label: l.label.clone(),
            value: l.value.clone(),
        })
        .collect();
    to_json(&v)
}

pub(crate) fn locations_from_json(text: &str) -> Result<Vec<Location>> {
    let v: Vec<LocationJ> = from_json("event type locations", text)?;
    Ok(v.into_iter()
        .map(|l| Location {
            kind: l.kind,
            label: l.label,
            value: l.value,
        })
        .collect())
}

pub(crate) fn questions_to_json(questions: &[Question]) -> Result<String> {
    let v: Vec<QuestionJ> = questions
        .iter()
        .map(|q| QuestionJ {
            id: q.id.clone(),
            key: q.key.clone(),
            label: q.label.clone(),
            kind: q.kind.clone(),
            required: q.required,
        })
        .collect();
    to_json(&v)
}

pub(crate) fn questions_from_json(text: &str) -> Result<Vec<Question>> {
    let v: Vec<QuestionJ> = from_json("event type questions", text)?;
    Ok(v.into_iter()
        .map(|q| Question {
            id: q.id,
            key: q.key,
            label: q.label,
            kind: q.kind,
            required: q.required,
        })
        .collect())
}

// ---- bookings ----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct AttendeeJ {
    email: String,
    name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    timezone: Option<String>,
    sms_opt_in: bool,
}

#[derive(Serialize, Deserialize)]
struct BookingLocationJ {
    kind: Option<String>,
    url: Option<String>,
    value: Option<String>,
}

pub(crate) fn attendees_to_json(attendees: &[Attendee]) -> Result<String> {
    let v: Vec<AttendeeJ> = attendees
        .iter()
        .map(|a| AttendeeJ {
            email: a.email.clone(),
            name: a.name.clone(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            phone: a.phone.clone(),
            timezone: a.timezone.clone(),
            sms_opt_in: a.sms_opt_in,
        })
        .collect();
    to_json(&v)
}

pub(crate) fn attendees_from_json(text: &str) -> Result<Vec<Attendee>> {
    let v: Vec<AttendeeJ> = from_json("booking attendees", text)?;
    Ok(v.into_iter()
        .map(|a| Attendee {
            email: a.email,
            name: a.name,
            first_name: a.first_name,
            last_name: a.last_name,
            phone: a.phone,
            timezone: a.timezone,
            sms_opt_in: a.sms_opt_in,
        })
        .collect())
}

pub(crate) fn location_to_json(l: &Option<BookingLocation>) -> Result<Option<String>> {
    l.as_ref()
        .map(|l| {
            to_json(&BookingLocationJ {
                kind: l.kind.clone(),
                url: l.url.clone(),
                value: l.value.clone(),
            })
        })
        .transpose()
}

pub(crate) fn location_from_json(text: Option<&str>) -> Result<Option<BookingLocation>> {
    text.map(|t| {
        let l: BookingLocationJ = from_json("booking location", t)?;
        Ok(BookingLocation {
            kind: l.kind,
            url: l.url,
            value: l.value,
        })
    })
    .transpose()
}

/// `Text(s)` is stored as the JSON string `s`; `Json(raw)` as the raw JSON text itself
/// (verbatim, so it reads back unchanged).
pub(crate) fn metadata_to_json(m: &Option<Metadata>) -> Result<Option<String>> {
    let Some(m) = m else { return Ok(None) };
    let mut out: BTreeMap<&str, Box<RawValue>> = BTreeMap::new();
    for (k, v) in &m.0 {
        let raw = match v {
            MetadataValue::Text(s) => RawValue::from_string(
                serde_json::to_string(s)
                    .context("encoding metadata")
                    .map_err(StoreError::Unknown)?,
            ),
            MetadataValue::Json(RawJson(text)) => RawValue::from_string(text.clone()),
        }
        .map_err(|e| StoreError::Unknown(anyhow!("metadata.{k} is not valid JSON: {e}")))?;
        out.insert(k, raw);
    }
    to_json(&out).map(Some)
}

pub(crate) fn metadata_from_json(text: Option<&str>) -> Result<Option<Metadata>> {
    let Some(text) = text else { return Ok(None) };
    let raw: BTreeMap<String, Box<RawValue>> = from_json("booking metadata", text)?;
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let value = if v.get().starts_with('"') {
            MetadataValue::Text(from_json("metadata string", v.get())?)
        } else {
            MetadataValue::Json(RawJson(v.get().to_owned()))
        };
        out.insert(k, value);
    }
    Ok(Some(Metadata(out)))
}

pub(crate) fn guests_to_json(guests: &[String]) -> Result<String> {
    to_json(&guests)
}

pub(crate) fn guests_from_json(text: &str) -> Result<Vec<String>> {
    from_json("booking guests", text)
}

// ---- tokens and idempotency --------------------------------------------------------------

pub(crate) fn scopes_to_text(s: &ScopeSet) -> String {
    s.to_string()
}

pub(crate) fn scopes_from_text(s: &str) -> ScopeSet {
    ScopeSet::from_stored(s.split_whitespace())
}

pub(crate) fn headers_to_json(h: &[(String, String)]) -> Result<String> {
    to_json(&h)
}

pub(crate) fn headers_from_json(text: &str) -> Result<Vec<(String, String)>> {
    from_json("stored response headers", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_text_and_raw_json_verbatim() {
        let m = Metadata(
            [
                ("a".to_string(), MetadataValue::Text("x \"y\"".into())),
                (
                    "b".to_string(),
                    MetadataValue::Json(RawJson("{ \"n\": [1, 2.50] }".into())),
                ),
                ("c".to_string(), MetadataValue::Json(RawJson("null".into()))),
            ]
            .into(),
        );
        let text = metadata_to_json(&Some(m.clone())).unwrap().unwrap();
        assert_eq!(metadata_from_json(Some(&text)).unwrap(), Some(m));
        assert!(metadata_to_json(&None).unwrap().is_none());
    }

    #[test]
    fn invalid_raw_json_metadata_is_refused() {
        let m = Metadata([("a".to_string(), MetadataValue::Json(RawJson("{".into())))].into());
        assert!(metadata_to_json(&Some(m)).is_err());
    }

    #[test]
    fn rules_round_trip() {
        let rules = vec![WeeklyRule {
            days: vec![Weekday::Monday, Weekday::Sunday],
            range: LocalRange::new(
                TimeOfDay::parse("09:00").unwrap(),
                TimeOfDay::parse("24:00").unwrap(),
            )
            .unwrap(),
        }];
        let text = rules_to_json(&rules).unwrap();
        assert_eq!(rules_from_json(&text).unwrap(), rules);
    }
}
