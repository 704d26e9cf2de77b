//! The persisted shapes, once: a serde struct per nested value and its conversions to and from
//! the domain type. [`Shape`] ties a shape to its domain type and to the name errors use.

use crate::{Result, corrupt};
use domain::availability::{
    DateOverride, LocalRange, TimeOfDay, WeeklyRule, parse_weekday, weekday_name,
};
use domain::booking::{Attendee, BookingLocation};
use domain::event_type::{Host, Location, Question};
use jiff::civil::Weekday;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A persisted JSON shape of a domain value (each shape also has an inherent `of`, from the
/// domain value or a slice of them).
pub(crate) trait Shape: Serialize + DeserializeOwned {
    type Domain;
    /// What the value is, for error messages (`schedule rules`).
    const WHAT: &'static str;
    fn into_domain(self) -> Result<Self::Domain>;
}

/// A list of shapes is the shape of a list.
macro_rules! list_shape {
    ($list:ident, $item:ty, $domain:ty, $what:literal) => {
        #[derive(Serialize, Deserialize)]
        #[serde(transparent)]
        pub(crate) struct $list(Vec<$item>);

        impl $list {
            pub(crate) fn of(values: &[$domain]) -> Self {
                Self(values.iter().map(<$item>::of).collect())
            }
        }

        impl Shape for $list {
            type Domain = Vec<$domain>;
            const WHAT: &'static str = $what;
            fn into_domain(self) -> Result<Self::Domain> {
                self.0.into_iter().map(<$item>::into_domain).collect()
            }
        }
    };
}

// ---- schedules ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
pub(crate) struct RangeJson {
    start: String,
    end: String,
}

impl RangeJson {
    fn of(r: &LocalRange) -> Self {
        Self {
            start: r.start.to_string(),
            end: r.end.to_string(),
        }
    }

    fn into_domain(self) -> Result<LocalRange> {
        let start = TimeOfDay::parse(&self.start).map_err(corrupt)?;
        let end = TimeOfDay::parse(&self.end).map_err(corrupt)?;
        LocalRange::new(start, end).map_err(corrupt)
    }
}

/// A weekday: written as its name, read as a name or an ISO number.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum DayJson {
    Name(String),
    Iso(i8),
}

impl DayJson {
    fn into_domain(self) -> Result<Weekday> {
        match self {
            DayJson::Name(n) => parse_weekday(&n).ok_or_else(|| corrupt(format!("weekday '{n}'"))),
            DayJson::Iso(n) => {
                Weekday::from_monday_one_offset(n).map_err(|e| corrupt(format!("weekday {n}: {e}")))
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct RuleJson {
    days: Vec<DayJson>,
    #[serde(flatten)]
    range: RangeJson,
}

impl RuleJson {
    fn of(r: &WeeklyRule) -> Self {
        Self {
            days: r
                .days
                .iter()
                .map(|d| DayJson::Name(weekday_name(*d).to_owned()))
                .collect(),
            range: RangeJson::of(&r.range),
        }
    }

    fn into_domain(self) -> Result<WeeklyRule> {
        Ok(WeeklyRule {
            days: self
                .days
                .into_iter()
                .map(DayJson::into_domain)
                .collect::<Result<_>>()?,
            range: self.range.into_domain()?,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct OverrideJson {
    date: String,
    intervals: Vec<RangeJson>,
}

impl OverrideJson {
    fn of(o: &DateOverride) -> Self {
        Self {
            date: o.date.to_string(),
            intervals: o.intervals.iter().map(RangeJson::of).collect(),
        }
    }

    fn into_domain(self) -> Result<DateOverride> {
        Ok(DateOverride {
            date: self
                .date
                .parse()
                .map_err(|e| corrupt(format!("date '{}': {e}", self.date)))?,
            intervals: self
                .intervals
                .into_iter()
                .map(RangeJson::into_domain)
                .collect::<Result<_>>()?,
        })
    }
}

list_shape!(Rules, RuleJson, WeeklyRule, "schedule rules");
list_shape!(Overrides, OverrideJson, DateOverride, "schedule overrides");

// ---- event types -------------------------------------------------------------------------

fn parse_uuid(what: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt(format!("{what} '{s}': {e}")))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HostJson {
    user_id: String,
    schedule_id: String,
}

impl HostJson {
    fn of(h: &Host) -> Self {
        Self {
            user_id: h.user_id.to_string(),
            schedule_id: h.schedule_id.to_string(),
        }
    }

    fn into_domain(self) -> Result<Host> {
        Ok(Host {
            user_id: parse_uuid("host user id", &self.user_id)?.into(),
            schedule_id: parse_uuid("host schedule id", &self.schedule_id)?.into(),
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct LocationJson {
    kind: String,
    label: String,
    value: Option<String>,
}

impl LocationJson {
    fn of(l: &Location) -> Self {
        Self {
            kind: l.kind.clone(),
            label: l.label.clone(),
            value: l.value.clone(),
        }
    }

    fn into_domain(self) -> Result<Location> {
        Ok(Location {
            kind: self.kind,
            label: self.label,
            value: self.value,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct QuestionJson {
    id: String,
    key: String,
    label: String,
    kind: String,
    required: bool,
}

impl QuestionJson {
    fn of(q: &Question) -> Self {
        Self {
            id: q.id.clone(),
            key: q.key.clone(),
            label: q.label.clone(),
            kind: q.kind.clone(),
            required: q.required,
        }
    }

    fn into_domain(self) -> Result<Question> {
        Ok(Question {
            id: self.id,
            key: self.key,
            label: self.label,
            kind: self.kind,
            required: self.required,
        })
    }
}

list_shape!(Hosts, HostJson, Host, "event type hosts");
list_shape!(Locations, LocationJson, Location, "event type locations");
list_shape!(Questions, QuestionJson, Question, "event type questions");

// ---- bookings ----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
pub(crate) struct AttendeeJson {
    email: String,
    name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    timezone: Option<String>,
    sms_opt_in: bool,
}

impl AttendeeJson {
    fn of(a: &Attendee) -> Self {
        Self {
            email: a.email.clone(),
            name: a.name.clone(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            phone: a.phone.clone(),
            timezone: a.timezone.clone(),
            sms_opt_in: a.sms_opt_in,
        }
    }

    fn into_domain(self) -> Result<Attendee> {
        Ok(Attendee {
            email: self.email,
            name: self.name,
            first_name: self.first_name,
            last_name: self.last_name,
            phone: self.phone,
            timezone: self.timezone,
            sms_opt_in: self.sms_opt_in,
        })
    }
}

list_shape!(Attendees, AttendeeJson, Attendee, "booking attendees");

#[derive(Serialize, Deserialize)]
pub(crate) struct BookingLocationJson {
    kind: Option<String>,
    url: Option<String>,
    value: Option<String>,
}

impl BookingLocationJson {
    pub(crate) fn of(l: &BookingLocation) -> Self {
        Self {
            kind: l.kind.clone(),
            url: l.url.clone(),
            value: l.value.clone(),
        }
    }
}

impl Shape for BookingLocationJson {
    type Domain = BookingLocation;
    const WHAT: &'static str = "booking location";
    fn into_domain(self) -> Result<BookingLocation> {
        Ok(BookingLocation {
            kind: self.kind,
            url: self.url,
            value: self.value,
        })
    }
}

/// Guests (e-mail addresses) and other plain string lists.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Strings(Vec<String>);

impl Strings {
    pub(crate) fn of(v: &[String]) -> Self {
        Self(v.to_vec())
    }
}

impl Shape for Strings {
    type Domain = Vec<String>;
    const WHAT: &'static str = "list of strings";
    fn into_domain(self) -> Result<Vec<String>> {
        Ok(self.0)
    }
}
