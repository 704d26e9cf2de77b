//! The codec over JSON text, for TEXT columns (SQLite). Metadata and caller JSON are kept
//! verbatim: a `Json` metadata value reads back byte for byte as it was written.

use crate::shape::*;
use crate::{Result, corrupt};
use domain::availability::{DateOverride, WeeklyRule};
use domain::booking::{Attendee, BookingLocation, Metadata, MetadataValue, RawJson};
use domain::event_type::{Host, Location, Question};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

fn encode<S: Serialize>(shape: &S) -> Result<String> {
    serde_json::to_string(shape).map_err(|e| corrupt(format!("encoding JSON: {e}")))
}

fn decode<S: Shape>(text: &str) -> Result<S::Domain> {
    serde_json::from_str::<S>(text)
        .map_err(|e| corrupt(format!("{}: {e}", S::WHAT)))?
        .into_domain()
}

pub fn rules_to_json(rules: &[WeeklyRule]) -> Result<String> {
    encode(&Rules::of(rules))
}

pub fn rules_from_json(text: &str) -> Result<Vec<WeeklyRule>> {
    decode::<Rules>(text)
}

pub fn overrides_to_json(overrides: &[DateOverride]) -> Result<String> {
    encode(&Overrides::of(overrides))
}

pub fn overrides_from_json(text: &str) -> Result<Vec<DateOverride>> {
    decode::<Overrides>(text)
}

pub fn hosts_to_json(hosts: &[Host]) -> Result<String> {
    encode(&Hosts::of(hosts))
}

pub fn hosts_from_json(text: &str) -> Result<Vec<Host>> {
    decode::<Hosts>(text)
}

pub fn locations_to_json(locations: &[Location]) -> Result<String> {
    encode(&Locations::of(locations))
}

pub fn locations_from_json(text: &str) -> Result<Vec<Location>> {
    decode::<Locations>(text)
}

pub fn questions_to_json(questions: &[Question]) -> Result<String> {
    encode(&Questions::of(questions))
}

pub fn questions_from_json(text: &str) -> Result<Vec<Question>> {
    decode::<Questions>(text)
}

pub fn attendees_to_json(attendees: &[Attendee]) -> Result<String> {
    encode(&Attendees::of(attendees))
}

pub fn attendees_from_json(text: &str) -> Result<Vec<Attendee>> {
    decode::<Attendees>(text)
}

pub fn location_to_json(l: &Option<BookingLocation>) -> Result<Option<String>> {
    l.as_ref()
        .map(|l| encode(&BookingLocationJson::of(l)))
        .transpose()
}

pub fn location_from_json(text: Option<&str>) -> Result<Option<BookingLocation>> {
    text.map(decode::<BookingLocationJson>).transpose()
}

pub fn guests_to_json(guests: &[String]) -> Result<String> {
    encode(&Strings::of(guests))
}

pub fn guests_from_json(text: &str) -> Result<Vec<String>> {
    decode::<Strings>(text)
}

/// Metadata as a JSON object: `Text(s)` is stored as the JSON string `s`, `Json(raw)` as the
/// raw text itself (verbatim); on reading, a string is `Text` and anything else `Json` (the same
/// rule as [`crate::value`]).
pub fn metadata_to_json(m: &Option<Metadata>) -> Result<Option<String>> {
    let Some(m) = m else { return Ok(None) };
    let mut out: BTreeMap<&str, Box<RawValue>> = BTreeMap::new();
    for (k, v) in &m.0 {
        let raw = match v {
            MetadataValue::Text(s) => RawValue::from_string(encode(s)?),
            MetadataValue::Json(RawJson(text)) => RawValue::from_string(text.clone()),
        }
        .map_err(|e| corrupt(format!("metadata.{k} is not valid JSON: {e}")))?;
        out.insert(k, raw);
    }
    encode(&out).map(Some)
}

pub fn metadata_from_json(text: Option<&str>) -> Result<Option<Metadata>> {
    let Some(text) = text else { return Ok(None) };
    let raw: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(text).map_err(|e| corrupt(format!("booking metadata: {e}")))?;
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let value = if v.get().starts_with('"') {
            MetadataValue::Text(
                serde_json::from_str(v.get()).map_err(|e| corrupt(format!("metadata.{k}: {e}")))?,
            )
        } else {
            MetadataValue::Json(RawJson(v.get().to_owned()))
        };
        out.insert(k, value);
    }
    Ok(Some(Metadata(out)))
}
