//! Free-form JSON on the wire ↔ the domain's opaque forms: booking `metadata` (strings stay
//! visible to the limits, anything else is kept as JSON text) and `responses` (text, ticks and
//! numbers visible to the question rules, anything else JSON text).
//! Also the "absent vs null" helper that PATCH bodies need.

use domain::answers::{ResponseValue, Responses};
use domain::booking::{Metadata, MetadataValue, RawJson};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Wire metadata → domain: JSON strings become `Text`, every other value `Json`.
pub fn metadata_from_wire(map: &Map<String, Value>) -> Metadata {
    Metadata(
        map.iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => MetadataValue::Text(s.clone()),
                    other => MetadataValue::Json(RawJson(other.to_string())),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// Wire `responses` → domain answers.
pub fn responses_from_wire(map: &Map<String, Value>) -> Responses {
    Responses(
        map.iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => ResponseValue::Text(s.clone()),
                    Value::Bool(b) => ResponseValue::Bool(*b),
                    Value::Number(n) => ResponseValue::Number(n.to_string()),
                    Value::Null => ResponseValue::Null,
                    other => ResponseValue::Json(RawJson(other.to_string())),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// Domain metadata → a JSON object, echoing what the caller sent.
pub fn metadata_to_wire(m: &Metadata) -> Value {
    Value::Object(
        m.0.iter()
            .map(|(k, v)| {
                let value = match v {
                    MetadataValue::Text(s) => Value::String(s.clone()),
                    MetadataValue::Json(raw) => raw_to_value(raw),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// A JSON value kept as text by the domain.
pub fn value_to_raw(v: &Value) -> RawJson {
    RawJson(v.to_string())
}

/// Stored JSON text back to a value (text that somehow is not JSON comes back as a string).
pub fn raw_to_value(raw: &RawJson) -> Value {
    serde_json::from_str(&raw.0).unwrap_or_else(|_| Value::String(raw.0.clone()))
}

/// Deserializes a field that distinguishes "absent" (`None`, with `#[serde(default)]`) from
/// "null" (`Some(None)`).
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_round_trips_strings_and_other_json() {
        let wire = json!({"crm_id": "abc", "n": 3, "nested": {"a": [1, null]}, "flag": false});
        let Value::Object(map) = &wire else {
            unreachable!()
        };
        let m = metadata_from_wire(map);
        assert_eq!(m.0["crm_id"], MetadataValue::Text("abc".into()));
        assert_eq!(m.0["n"], MetadataValue::Json(RawJson("3".into())));
        assert_eq!(metadata_to_wire(&m), wire);
    }

    #[test]
    fn responses_round_trip_through_the_domain() {
        let wire = json!({"a": "x\u{1}\"", "b": true, "c": 1.5e3, "d": null, "e": [1, {"f": 2}]});
        let Value::Object(map) = &wire else {
            unreachable!()
        };
        let r = responses_from_wire(map);
        assert_eq!(r.0["b"], ResponseValue::Bool(true));
        assert_eq!(raw_to_value(&r.to_json()), wire);
    }

    #[test]
    fn double_option_distinguishes_absent_and_null() {
        #[derive(Deserialize)]
        struct P {
            #[serde(default, deserialize_with = "double_option")]
            x: Option<Option<u32>>,
        }
        let absent: P = serde_json::from_value(json!({})).unwrap();
        let null: P = serde_json::from_value(json!({"x": null})).unwrap();
        let some: P = serde_json::from_value(json!({"x": 4})).unwrap();
        assert_eq!(
            (absent.x, null.x, some.x),
            (None, Some(None), Some(Some(4)))
        );
    }
}
