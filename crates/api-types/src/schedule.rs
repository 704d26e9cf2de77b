//! Availability schedules (§7.1): `{id, user_id, name, timezone, rules, overrides, version,
//! created_at, updated_at}` with rules `{days:["mon",…], start:"09:00", end:"17:00"}` and
//! overrides `{date:"2026-12-24", intervals:[{start,end}]}` (no intervals = unavailable).

use crate::WireFields;
use crate::time::ts;
use domain::availability::{
    self as dom, DateOverride, LocalRange, TimeOfDay, WeeklyRule, Zone, weekday_name,
};
use domain::ids::{OrganizationId, ScheduleId, UserId};
use domain::validate::FieldErrors;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A local time range `HH:MM`–`HH:MM` (`24:00` allowed as an end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "17:00")]
    pub end: String,
}

/// Weekly hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRule {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "17:00")]
    pub end: String,
}

/// One date's replacement hours; no intervals = unavailable all day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleOverride {
    #[schema(format = Date, example = "2026-12-24")]
    pub date: String,
    #[serde(default)]
    pub intervals: Vec<TimeRange>,
}

/// An availability schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// IANA zone.
    pub timezone: String,
    pub rules: Vec<ScheduleRule>,
    pub overrides: Vec<ScheduleOverride>,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Schedule {
    /// Renders a schedule.
    pub fn from_domain(s: &dom::Schedule) -> Self {
        let range = |r: &LocalRange| TimeRange {
            start: r.start.to_string(),
            end: r.end.to_string(),
        };
        Self {
            id: s.id.0,
            user_id: s.user_id.0,
            name: s.name.clone(),
            timezone: s.zone.name().to_owned(),
            rules: s
                .rules
                .iter()
                .map(|r| ScheduleRule {
                    days: r.days.iter().map(|d| weekday_name(*d).to_owned()).collect(),
                    start: r.range.start.to_string(),
                    end: r.range.end.to_string(),
                })
                .collect(),
            overrides: s
                .overrides
                .iter()
                .map(|o| ScheduleOverride {
                    date: o.date.to_string(),
                    intervals: o.intervals.iter().map(range).collect(),
                })
                .collect(),
            version: s.version,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

fn local_range(e: &mut FieldErrors, field: &str, start: &str, end: &str) -> Option<LocalRange> {
    let s = TimeOfDay::parse(start).map_err(|m| e.push(format!("{field}.start"), m));
    let t = TimeOfDay::parse(end).map_err(|m| e.push(format!("{field}.end"), m));
    let (Ok(s), Ok(t)) = (s, t) else {
        return None;
    };
    LocalRange::new(s, t)
        .map_err(|m| e.push(format!("{field}.end"), m))
        .ok()
}

/// Wire rules → domain, errors named `rules[i].days[j]`, `rules[i].start`, ….
pub fn rules_to_domain(rules: &[ScheduleRule]) -> Result<Vec<WeeklyRule>, FieldErrors> {
    let mut e = FieldErrors::default();
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let mut days = Vec::new();
        for (j, d) in r.days.iter().enumerate() {
            match dom::parse_weekday(d) {
                Some(w) => days.push(w),
                None => e.push(format!("rules[{i}].days[{j}]"), "must be one of mon … sun"),
            }
        }
        if let Some(range) = local_range(&mut e, &format!("rules[{i}]"), &r.start, &r.end) {
            out.push(WeeklyRule { days, range });
        }
    }
    e.finish(out)
}

/// Wire overrides → domain, errors named `overrides[i].date`, `overrides[i].intervals[j].end`.
pub fn overrides_to_domain(
    overrides: &[ScheduleOverride],
) -> Result<Vec<DateOverride>, FieldErrors> {
    let mut e = FieldErrors::default();
    let mut out = Vec::new();
    for (i, o) in overrides.iter().enumerate() {
        let date = match (o.date.len() == 10).then(|| o.date.parse::<Date>()) {
            Some(Ok(d)) => Some(d),
            _ => {
                e.push(
                    format!("overrides[{i}].date"),
                    "must be a date like 2026-12-24",
                );
                None
            }
        };
        let mut intervals = Vec::new();
        for (j, r) in o.intervals.iter().enumerate() {
            let field = format!("overrides[{i}].intervals[{j}]");
            if let Some(range) = local_range(&mut e, &field, &r.start, &r.end) {
                intervals.push(range);
            }
        }
        if let Some(date) = date {
            out.push(DateOverride { date, intervals });
        }
    }
    e.finish(out)
}

fn zone(e: &mut FieldErrors, name: &str) -> Option<Zone> {
    Zone::parse(name).map_err(|m| e.push("timezone", m)).ok()
}

/// `POST /v1/schedules`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CreateScheduleRequest {
    /// Defaults to the caller; must be a user of the organization.
    pub user_id: Option<Uuid>,
    /// Required.
    pub name: Option<String>,
    /// Required IANA zone.
    pub timezone: Option<String>,
    #[serde(default)]
    pub rules: Vec<ScheduleRule>,
    #[serde(default)]
    pub overrides: Vec<ScheduleOverride>,
}

impl WireFields for CreateScheduleRequest {
    const FIELDS: &'static [&'static str] = &["user_id", "name", "timezone", "rules", "overrides"];
}

impl CreateScheduleRequest {
    /// Builds the schedule (validated with [`dom::Schedule::validate`] too).
    pub fn into_domain(
        self,
        id: ScheduleId,
        org: OrganizationId,
        user: UserId,
        now: Timestamp,
    ) -> Result<dom::Schedule, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.unwrap_or_else(|| {
            e.push("name", "is required");
            String::new()
        });
        let zone = match &self.timezone {
            Some(z) => zone(&mut e, z),
            None => {
                e.push("timezone", "is required");
                None
            }
        };
        let rules = rules_to_domain(&self.rules)
            .map_err(|x| e.0.extend(x.0))
            .ok();
        let overrides = overrides_to_domain(&self.overrides)
            .map_err(|x| e.0.extend(x.0))
            .ok();
        let (Some(zone), Some(rules), Some(overrides)) = (zone, rules, overrides) else {
            return Err(e);
        };
        e.finish(())?;
        let s = dom::Schedule {
            id,
            organization_id: org,
            user_id: user,
            name,
            zone,
            rules,
            overrides,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        s.validate()?;
        Ok(s)
    }
}

/// `PATCH /v1/schedules/{id}`: any subset; `rules` and `overrides` replace the stored lists.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PatchScheduleRequest {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub rules: Option<Vec<ScheduleRule>>,
    pub overrides: Option<Vec<ScheduleOverride>>,
}

impl WireFields for PatchScheduleRequest {
    const FIELDS: &'static [&'static str] = &["name", "timezone", "rules", "overrides"];
}

impl PatchScheduleRequest {
    /// Applies the written fields, bumps the version and validates the result.
    pub fn apply(self, s: &mut dom::Schedule, now: Timestamp) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if let Some(z) = &self.timezone
            && let Some(z) = zone(&mut e, z)
        {
            s.zone = z;
        }
        if let Some(r) = &self.rules {
            match rules_to_domain(r) {
                Ok(r) => s.rules = r,
                Err(x) => e.0.extend(x.0),
            }
        }
        if let Some(o) = &self.overrides {
            match overrides_to_domain(o) {
                Ok(o) => s.overrides = o,
                Err(x) => e.0.extend(x.0),
            }
        }
        if let Some(n) = self.name {
            s.name = n;
        }
        e.finish(())?;
        s.validate()?;
        s.version += 1;
        s.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(v: serde_json::Value) -> Result<dom::Schedule, FieldErrors> {
        let r: CreateScheduleRequest = serde_json::from_value(v).unwrap();
        r.into_domain(
            ScheduleId(Uuid::from_u128(1)),
            OrganizationId(Uuid::from_u128(2)),
            UserId(Uuid::from_u128(3)),
            Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn round_trips_through_the_domain() {
        let s = create(json!({
            "name": "Work", "timezone": "Europe/Berlin",
            "rules": [{"days": ["mon", "fri"], "start": "09:00", "end": "24:00"}],
            "overrides": [{"date": "2026-12-24", "intervals": []},
                          {"date": "2026-12-31", "intervals": [{"start": "10:00", "end": "12:00"}]}]
        }))
        .unwrap();
        let v = serde_json::to_value(Schedule::from_domain(&s)).unwrap();
        assert_eq!(v["timezone"], "Europe/Berlin");
        assert_eq!(
            v["rules"],
            json!([{"days": ["mon", "fri"], "start": "09:00", "end": "24:00"}])
        );
        assert_eq!(
            v["overrides"][0],
            json!({"date": "2026-12-24", "intervals": []})
        );
        assert_eq!(v["overrides"][1]["intervals"][0]["end"], "12:00");
        assert_eq!(v["version"], 1);
        assert_eq!(v["created_at"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn bad_input_names_wire_fields() {
        let e = create(json!({
            "name": "W", "timezone": "Mars/Base",
            "rules": [{"days": ["mon", "funday"], "start": "9:00", "end": "17:00"},
                      {"days": ["tue"], "start": "17:00", "end": "09:00"}],
            "overrides": [{"date": "24.12.2026"}]
        }))
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "timezone",
                "rules[0].days[1]",
                "rules[0].start",
                "rules[1].end",
                "overrides[0].date"
            ]
        );
        let e = create(json!({})).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "timezone"]);
    }

    #[test]
    fn patch_replaces_lists_and_bumps_version() {
        let mut s = create(json!({"name": "W", "timezone": "UTC",
            "rules": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}))
        .unwrap();
        let p: PatchScheduleRequest =
            serde_json::from_value(json!({"rules": [], "timezone": "Asia/Tokyo"})).unwrap();
        p.apply(&mut s, Timestamp::UNIX_EPOCH).unwrap();
        assert!(s.rules.is_empty());
        assert_eq!(s.zone.name(), "Asia/Tokyo");
        assert_eq!(s.version, 2);
        let bad: PatchScheduleRequest =
            serde_json::from_value(json!({"timezone": "Nowhere/Land"})).unwrap();
        assert_eq!(
            bad.apply(&mut s, Timestamp::UNIX_EPOCH).unwrap_err().0[0].field,
            "timezone"
        );
        assert_eq!(s.version, 2);
    }
}
