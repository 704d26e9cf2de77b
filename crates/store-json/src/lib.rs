//! The one persisted-JSON codec of the SQL stores: how schedule rules and overrides, event-type
//! hosts, locations and questions, booking attendees, guests, location and metadata are kept
//! as JSON — SQLite in TEXT columns ([`text`]), Postgres in `jsonb`
//! columns ([`value`]).
//!
//! Each shape is defined once (private serde structs in `shape`, converted to and from the
//! serde-free domain types); the two carriers only differ in what they hand the driver. The
//! format is the same on both backends. Decoding never guesses: a stored value that does not
//! parse is a [`StoreError`], never a default. Weekdays are written as `mon`…`sun`; ISO numbers
//! (Monday = 1, how Postgres stored them before this crate) are still read.
//!
//! This crate must not know about SQL or a driver, and must never interpret caller JSON
//! (`RawJson`, metadata values) beyond parsing and re-rendering it.

mod shape;
pub mod text;
pub mod value;

use domain::ports::StoreError;

/// A stored value that cannot be decoded (or a value that cannot be encoded).
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Unknown(anyhow::anyhow!("stored data is not valid: {what}"))
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use domain::availability::{DateOverride, LocalRange, TimeOfDay, WeeklyRule};
    use domain::booking::{Attendee, BookingLocation, Metadata, MetadataValue, RawJson};
    use domain::event_type::{Host, Location, Question};
    use jiff::civil::{Weekday, date};
    use uuid::Uuid;

    fn range(a: &str, b: &str) -> LocalRange {
        LocalRange::new(TimeOfDay::parse(a).unwrap(), TimeOfDay::parse(b).unwrap()).unwrap()
    }

    fn rules() -> Vec<WeeklyRule> {
        vec![WeeklyRule {
            days: vec![Weekday::Monday, Weekday::Sunday],
            range: range("09:00", "24:00"),
        }]
    }

    /// Both carriers write the same JSON, and each reads what the other wrote.
    fn same_on_both<T: PartialEq + std::fmt::Debug>(
        value: &T,
        to_text: impl Fn(&T) -> String,
        to_value: impl Fn(&T) -> serde_json::Value,
        from_text: impl Fn(&str) -> T,
        from_value: impl Fn(serde_json::Value) -> T,
    ) {
        let text = to_text(value);
        let v = to_value(value);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        assert_eq!(&from_text(&v.to_string()), value);
        assert_eq!(&from_value(serde_json::from_str(&text).unwrap()), value);
    }

    #[test]
    fn every_shape_is_one_format_on_both_carriers() {
        use crate::{text as t, value as v};
        same_on_both(
            &rules(),
            |x| t::rules_to_json(x).unwrap(),
            |x| v::rules_to_json(x),
            |s| t::rules_from_json(s).unwrap(),
            |j| v::rules_from_json(j).unwrap(),
        );
        let overrides = vec![DateOverride {
            date: date(2026, 3, 29),
            intervals: vec![range("10:00", "12:00"), range("13:00", "14:30")],
        }];
        same_on_both(
            &overrides,
            |x| t::overrides_to_json(x).unwrap(),
            |x| v::overrides_to_json(x),
            |s| t::overrides_from_json(s).unwrap(),
            |j| v::overrides_from_json(j).unwrap(),
        );
        let hosts = vec![Host {
            user_id: Uuid::from_u128(1).into(),
            schedule_id: Uuid::from_u128(2).into(),
        }];
        same_on_both(
            &hosts,
            |x| t::hosts_to_json(x).unwrap(),
            |x| v::hosts_to_json(x),
            |s| t::hosts_from_json(s).unwrap(),
            |j| v::hosts_from_json(j).unwrap(),
        );
        let locations = vec![Location {
            kind: "link".into(),
            label: "Video".into(),
            value: Some("https://example.com/m".into()),
        }];
        same_on_both(
            &locations,
            |x| t::locations_to_json(x).unwrap(),
            |x| v::locations_to_json(x),
            |s| t::locations_from_json(s).unwrap(),
            |j| v::locations_from_json(j).unwrap(),
        );
        let questions = vec![Question {
            id: "q1".into(),
            key: "company".into(),
            label: "Company".into(),
            kind: "text".into(),
            required: true,
        }];
        same_on_both(
            &questions,
            |x| t::questions_to_json(x).unwrap(),
            |x| v::questions_to_json(x),
            |s| t::questions_from_json(s).unwrap(),
            |j| v::questions_from_json(j).unwrap(),
        );
        let attendees = vec![Attendee {
            email: "a@example.com".into(),
            name: "Ada".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            phone: Some("+4930123456".into()),
            timezone: Some("Europe/Berlin".into()),
            sms_opt_in: true,
        }];
        same_on_both(
            &attendees,
            |x| t::attendees_to_json(x).unwrap(),
            |x| v::attendees_to_json(x),
            |s| t::attendees_from_json(s).unwrap(),
            |j| v::attendees_from_json(j).unwrap(),
        );
        let location = BookingLocation {
            kind: Some("link".into()),
            url: Some("https://example.com/m".into()),
            value: None,
        };
        same_on_both(
            &location,
            |x| t::location_to_json(&Some(x.clone())).unwrap().unwrap(),
            v::location_to_json,
            |s| t::location_from_json(Some(s)).unwrap().unwrap(),
            |j| v::location_from_json(j).unwrap(),
        );
        let guests = vec!["g@example.com".to_string()];
        same_on_both(
            &guests,
            |x| t::guests_to_json(x).unwrap(),
            |x| v::strings_to_json(x),
            |s| t::guests_from_json(s).unwrap(),
            |j| v::strings_from_json(j).unwrap(),
        );
        let metadata = Metadata(
            [
                ("a".to_string(), MetadataValue::Text("x".into())),
                (
                    "b".to_string(),
                    MetadataValue::Json(RawJson("[1,2]".into())),
                ),
            ]
            .into(),
        );
        same_on_both(
            &metadata,
            |x| t::metadata_to_json(&Some(x.clone())).unwrap().unwrap(),
            |x| v::metadata_to_json(x).unwrap(),
            |s| t::metadata_from_json(Some(s)).unwrap().unwrap(),
            |j| v::metadata_from_json(j).unwrap(),
        );
    }

    #[test]
    fn weekdays_are_written_as_names_and_iso_numbers_still_read() {
        let text = crate::text::rules_to_json(&rules()).unwrap();
        assert_eq!(
            text,
            r#"[{"days":["mon","sun"],"start":"09:00","end":"24:00"}]"#
        );
        let iso = serde_json::json!([{"days": [1, 7], "start": "09:00", "end": "24:00"}]);
        assert_eq!(crate::value::rules_from_json(iso).unwrap(), rules());
        let bad = serde_json::json!([{"days": [8], "start": "09:00", "end": "24:00"}]);
        assert!(crate::value::rules_from_json(bad).is_err());
        assert!(
            crate::text::rules_from_json(r#"[{"days":["xyz"],"start":"09:00","end":"10:00"}]"#)
                .is_err()
        );
    }

    #[test]
    fn text_metadata_round_trips_raw_json_verbatim() {
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
        let text = crate::text::metadata_to_json(&Some(m.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(
            crate::text::metadata_from_json(Some(&text)).unwrap(),
            Some(m)
        );
        assert!(crate::text::metadata_to_json(&None).unwrap().is_none());
    }

    #[test]
    fn invalid_raw_json_metadata_is_refused_by_both_carriers() {
        let m = Metadata([("a".to_string(), MetadataValue::Json(RawJson("{".into())))].into());
        assert!(crate::text::metadata_to_json(&Some(m.clone())).is_err());
        assert!(crate::value::metadata_to_json(&m).is_err());
    }

    #[test]
    fn undecodable_values_are_errors_never_defaults() {
        assert!(crate::text::hosts_from_json(r#"[{"user_id":"nope","schedule_id":"x"}]"#).is_err());
        assert!(crate::value::attendees_from_json(serde_json::json!({"email": 1})).is_err());
        assert!(crate::value::metadata_from_json(serde_json::json!([1])).is_err());
        assert!(
            crate::text::overrides_from_json(r#"[{"date":"2026-02-30","intervals":[]}]"#).is_err()
        );
    }
}
