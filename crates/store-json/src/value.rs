//! The codec over `serde_json::Value`, for `jsonb` columns (Postgres). Encoding cannot fail
//! for these shapes (every map key is a string); decoding reports what did not parse.

use crate::shape::*;
use crate::{Result, corrupt};
use domain::availability::{DateOverride, WeeklyRule};
use domain::booking::{Attendee, BookingLocation, Metadata, MetadataValue, RawJson};
use domain::event_type::{Host, Location, Question};
use serde::Serialize;
use serde_json::Value;

fn encode<S: Serialize>(shape: &S) -> Value {
    serde_json::to_value(shape).unwrap_or(Value::Null)
}

fn decode<S: Shape>(v: Value) -> Result<S::Domain> {
    serde_json::from_value::<S>(v)
        .map_err(|e| corrupt(format!("{}: {e}", S::WHAT)))?
        .into_domain()
}

pub fn rules_to_json(rules: &[WeeklyRule]) -> Value {
    encode(&Rules::of(rules))
}

pub fn rules_from_json(v: Value) -> Result<Vec<WeeklyRule>> {
    decode::<Rules>(v)
}

pub fn overrides_to_json(overrides: &[DateOverride]) -> Value {
    encode(&Overrides::of(overrides))
}

pub fn overrides_from_json(v: Value) -> Result<Vec<DateOverride>> {
    decode::<Overrides>(v)
}

pub fn hosts_to_json(hosts: &[Host]) -> Value {
    encode(&Hosts::of(hosts))
}

pub fn hosts_from_json(v: Value) -> Result<Vec<Host>> {
    decode::<Hosts>(v)
}

pub fn locations_to_json(locations: &[Location]) -> Value {
    encode(&Locations::of(locations))
}

pub fn locations_from_json(v: Value) -> Result<Vec<Location>> {
    decode::<Locations>(v)
}

pub fn questions_to_json(questions: &[Question]) -> Value {
    encode(&Questions::of(questions))
}

pub fn questions_from_json(v: Value) -> Result<Vec<Question>> {
    decode::<Questions>(v)
}

pub fn attendees_to_json(attendees: &[Attendee]) -> Value {
    encode(&Attendees::of(attendees))
}

pub fn attendees_from_json(v: Value) -> Result<Vec<Attendee>> {
    decode::<Attendees>(v)
}

pub fn location_to_json(l: &BookingLocation) -> Value {
    encode(&BookingLocationJson::of(l))
}

pub fn location_from_json(v: Value) -> Result<BookingLocation> {
    decode::<BookingLocationJson>(v)
}

/// Guests and other string lists.
pub fn strings_to_json(items: &[String]) -> Value {
    encode(&Strings::of(items))
}

pub fn strings_from_json(v: Value) -> Result<Vec<String>> {
    decode::<Strings>(v)
}

/// Parses caller JSON text (invitee responses, a metadata value) into a value.
pub fn raw_to_json(raw: &RawJson) -> Result<Value> {
    serde_json::from_str(&raw.0).map_err(|e| corrupt(format!("JSON text: {e}")))
}

/// Renders a value back into (compact) JSON text.
pub fn raw_from_json(v: &Value) -> RawJson {
    RawJson(v.to_string())
}

/// Metadata as a JSON object: `Text` values are JSON strings, `Json` values are embedded; on
/// reading, a string is `Text` and anything else `Json` (the same rule as [`crate::text`]).
pub fn metadata_to_json(m: &Metadata) -> Result<Value> {
    let mut map = serde_json::Map::new();
    for (k, v) in &m.0 {
        let value = match v {
            MetadataValue::Text(s) => Value::String(s.clone()),
            MetadataValue::Json(raw) => {
                raw_to_json(raw).map_err(|_| corrupt(format!("metadata.{k} is not valid JSON")))?
            }
        };
        map.insert(k.clone(), value);
    }
    Ok(Value::Object(map))
}

pub fn metadata_from_json(v: Value) -> Result<Metadata> {
    let Value::Object(map) = v else {
        return Err(corrupt("booking metadata is not a JSON object"));
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
