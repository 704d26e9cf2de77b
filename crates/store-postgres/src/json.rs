//! Private JSON shapes of the nested data kept in `jsonb` columns, and their conversions to and
//! from the serde-free domain types. Only this module knows these shapes; it never interprets
//! caller JSON (`RawJson`, metadata values) beyond parsing and re-rendering it.

use anyhow::{Context, anyhow};
use domain::availability::{DateOverride, LocalRange, TimeOfDay, WeeklyRule};
use domain::booking::{Attendee, BookingLocation, Metadata, MetadataValue, RawJson};
use domain::event_type::{Host, Location, Question};
use domain::ids::{ScheduleId, UserId};
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Serialize, Deserialize)]
struct RangeJson {
    start: String,
    end: String,
}

#[derive(Serialize, Deserialize)]
struct RuleJson {
    /// ISO weekday numbers, Monday = 1.
    days: Vec<i8>,
    start: String,
    end: String,
}

#[derive(Serialize, Deserialize)]
struct OverrideJson {
    date: String,
    intervals: Vec<RangeJson>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HostJson {
    pub user_id: String,
    pub schedule_id: String,
}

#[derive(Serialize, Deserialize)]
struct LocationJson {
    kind: String,
    label: String,
    value: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct QuestionJson {
    id: String,
    key: String,
    label: String,
    kind: String,
    required: bool,
}

#[derive(Serialize, Deserialize)]
struct AttendeeJson {
    email: String,
    name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    timezone: Option<String>,
    sms_opt_in: bool,
}

#[derive(Serialize, Deserialize)]
struct BookingLocationJson {
    kind: Option<String>,
    url: Option<String>,
    value: Option<String>,
}

fn range(start: &str, end: &str) -> anyhow::Result<LocalRange> {
    let s = TimeOfDay::parse(start).map_err(|e| anyhow!(e))?;
    let e = TimeOfDay::parse(end).map_err(|e| anyhow!(e))?;
    LocalRange::new(s, e).map_err(|e| anyhow!(e))
}

pub(crate) fn rules_to_json(rules: &[WeeklyRule]) -> Value {
    let v: Vec<RuleJson> = rules
        .iter()
        .map(|r| RuleJson {
            days: r.days.iter().map(|d| d.to_monday_one_offset()).collect(),
            start: r.range.start.to_string(),
            end: r.range.end.to_string(),
        })
        .collect();
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn rules_from_json(v: Value) -> anyhow::Result<Vec<WeeklyRule>> {
    let rules: Vec<RuleJson> = serde_json::from_value(v).context("schedule rules")?;
    rules
        .into_iter()
        .map(|r| {
            let days = r
                .days
                .into_iter()
                .map(|d| Weekday::from_monday_one_offset(d).map_err(anyhow::Error::from))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(WeeklyRule {
                days,
                range: range(&r.start, &r.end)?,
            })
        })
        .collect()
}

pub(crate) fn overrides_to_json(overrides: &[DateOverride]) -> Value {
    let v: Vec<OverrideJson> = overrides
        .iter()
        .map(|o| OverrideJson {
            date: o.date.to_string(),
            intervals: o
                .intervals
                .iter()
                .map(|r| RangeJson {
                    start: r.start.to_string(),
                    end: r.end.to_string(),
                })
                .collect(),
        })
        .collect();
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn overrides_from_json(v: Value) -> anyhow::Result<Vec<DateOverride>> {
    let list: Vec<OverrideJson> = serde_json::from_value(v).context("schedule overrides")?;
    list.into_iter()
        .map(|o| {
            let date: Date = o.date.parse()?;
            let intervals = o
                .intervals
                .iter()
                .map(|r| range(&r.start, &r.end))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(DateOverride { date, intervals })
        })
        .collect()
}

pub(crate) fn hosts_to_json(hosts: &[Host]) -> Value {
    let v: Vec<HostJson> = hosts
        .iter()
        .map(|h| HostJson {
            user_id: h.user_id.0.to_string(),
            schedule_id: h.schedule_id.0.to_string(),
        })
        .collect();
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn hosts_from_json(v: Value) -> anyhow::Result<Vec<Host>> {
    let list: Vec<HostJson> = serde_json::from_value(v).context("event type hosts")?;
    list.into_iter()
        .map(|h| {
            Ok(Host {
                user_id: UserId(Uuid::parse_str(&h.user_id)?),
                schedule_id: ScheduleId(Uuid::parse_str(&h.schedule_id)?),
            })
        })
        .collect()
}

pub(crate) fn locations_to_json(locations: &[Location]) -> Value {
    let v: Vec<LocationJson> = locations
        .iter()
        .map(|l| LocationJson {
            kind: l.kind.clone(),
            label: l.label.clone(),
            value: l.value.clone(),
        })
        .collect();
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn locations_from_json(v: Value) -> anyhow::Result<Vec<Location>> {
    let list: Vec<LocationJson> = serde_json::from_value(v).context("event type locations")?;
    Ok(list
        .into_iter()
        .map(|l| Location {
            kind: l.kind,
            label: l.label,
            value: l.value,
        })
        .collect())
}

pub(crate) fn questions_to_json(questions: &[Question]) -> Value {
    let v: Vec<QuestionJson> = questions
        .iter()
        .map(|q| QuestionJson {
            id: q.id.clone(),
            key: q.key.clone(),
            label: q.label.clone(),
            kind: q.kind.clone(),
            required: q.required,
        })
        .collect();
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn questions_from_json(v: Value) -> anyhow::Result<Vec<Question>> {
    let list: Vec<QuestionJson> = serde_json::from_value(v).context("event type questions")?;
    Ok(list
        .into_iter()
        .map(|q| Question {
            id: q.id,
            key: q.key,
            label: q.label,
            kind: q.kind,
            required: q.required,
        })
        .collect())
}

pub(crate) fn attendees_to_json(attendees: &[Attendee]) -> Value {
    let v: Vec<AttendeeJson> = attendees
        .iter()
        .map(|a| AttendeeJson {
            email: a.email.clone(),
            name: a.name.clone(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            phone: a.phone.clone(),
            timezone: a.timezone.clone(),
            sms_opt_in: a.sms_opt_in,
        })
        .collect();
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn attendees_from_json(v: Value) -> anyhow::Result<Vec<Attendee>> {
    let list: Vec<AttendeeJson> = serde_json::from_value(v).context("booking attendees")?;
    Ok(list
        .into_iter()
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

pub(crate) fn location_to_json(l: &BookingLocation) -> Value {
    serde_json::to_value(BookingLocationJson {
        kind: l.kind.clone(),
        url: l.url.clone(),
        value: l.value.clone(),
    })
    .unwrap_or(Value::Null)
}

pub(crate) fn location_from_json(v: Value) -> anyhow::Result<BookingLocation> {
    let l: BookingLocationJson = serde_json::from_value(v).context("booking location")?;
    Ok(BookingLocation {
        kind: l.kind,
        url: l.url,
        value: l.value,
    })
}

/// Parses caller JSON text into a value for a `jsonb` column.
pub(crate) fn raw_to_json(raw: &RawJson) -> anyhow::Result<Value> {
    serde_json::from_str(&raw.0).context("stored JSON text is not valid JSON")
}

/// Renders a `jsonb` value back into (compact) JSON text.
pub(crate) fn raw_from_json(v: &Value) -> RawJson {
    RawJson(v.to_string())
}

/// Metadata as a JSON object: `Text` values become JSON strings, `Json` values are embedded.
pub(crate) fn metadata_to_json(m: &Metadata) -> anyhow::Result<Value> {
    let mut map = serde_json::Map::new();
    for (k, v) in &m.0 {
        let value = match v {
            MetadataValue::Text(s) => Value::String(s.clone()),
            MetadataValue::Json(raw) => raw_to_json(raw)?,
        };
        map.insert(k.clone(), value);
    }
    Ok(Value::Object(map))
}

pub(crate) fn metadata_from_json(v: Value) -> anyhow::Result<Metadata> {
    let Value::Object(map) = v else {
        return Err(anyhow!("booking metadata is not a JSON object"));
    };
    Ok(Metadata(
        map.into_iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => MetadataValue::Text(s),
                    other => MetadataValue::Json(raw_from_json(&other)),
                };
                (k, value)
            })
            .collect(),
    ))
}

pub(crate) fn strings_to_json(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

pub(crate) fn strings_from_json(v: Value) -> anyhow::Result<Vec<String>> {
    serde_json::from_value(v).context("list of strings")
}

pub(crate) fn headers_to_json(headers: &[(String, String)]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(k, v)| Value::Array(vec![Value::String(k.clone()), Value::String(v.clone())]))
            .collect(),
    )
}

pub(crate) fn headers_from_json(v: Value) -> anyhow::Result<Vec<(String, String)>> {
    serde_json::from_value(v).context("stored response headers")
}
