//! Availability schedules (§7.1): `{id, user_id, name, timezone, rules, overrides, version,
//! created_at, updated_at}` with rules `{days:["mon",…], start:"09:00", end:"17:00"}` and
//! overrides `{date:"2026-12-24", intervals:[{start,end}]}` (no intervals = unavailable).

use crate::WireFields;
use crate::time::ts;
use domain::availability::{self as dom, LocalRange, weekday_name};
use domain::ids::UserId;
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
#[schema(as = Schedule)]
pub struct ScheduleDto {
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

impl ScheduleDto {
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

fn range(r: &TimeRange) -> dom::RangeRequest {
    dom::RangeRequest {
        start: r.start.clone(),
        end: r.end.clone(),
    }
}

fn rules(rules: &[ScheduleRule]) -> Vec<dom::RuleRequest> {
    rules
        .iter()
        .map(|r| dom::RuleRequest {
            days: r.days.clone(),
            start: r.start.clone(),
            end: r.end.clone(),
        })
        .collect()
}

fn overrides(overrides: &[ScheduleOverride]) -> Vec<dom::OverrideRequest> {
    overrides
        .iter()
        .map(|o| dom::OverrideRequest {
            date: o.date.clone(),
            intervals: o.intervals.iter().map(range).collect(),
        })
        .collect()
}

/// `POST /v1/schedules`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
    /// The domain input, as written (checked by `domain::schedule_service`).
    pub fn into_domain(self) -> dom::NewSchedule {
        dom::NewSchedule {
            user_id: self.user_id.map(UserId),
            name: self.name,
            timezone: self.timezone,
            rules: rules(&self.rules),
            overrides: overrides(&self.overrides),
        }
    }
}

/// `PATCH /v1/schedules/{id}`: any subset; `rules` and `overrides` replace the stored lists.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
    /// The domain input, as written.
    pub fn into_domain(self) -> dom::SchedulePatch {
        dom::SchedulePatch {
            name: self.name,
            timezone: self.timezone,
            rules: self.rules.as_deref().map(rules),
            overrides: self.overrides.as_deref().map(overrides),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::availability::{DateOverride, TimeOfDay, WeeklyRule, Zone};
    use jiff::Timestamp;
    use serde_json::json;

    #[test]
    fn renders_the_domain_shape() {
        let s = dom::Schedule {
            id: domain::ids::ScheduleId(Uuid::from_u128(1)),
            organization_id: domain::ids::OrganizationId(Uuid::from_u128(2)),
            user_id: UserId(Uuid::from_u128(3)),
            name: "Work".into(),
            zone: Zone::parse("Europe/Berlin").unwrap(),
            rules: vec![WeeklyRule {
                days: vec![jiff::civil::Weekday::Monday, jiff::civil::Weekday::Friday],
                range: LocalRange::new(TimeOfDay::new(9, 0).unwrap(), TimeOfDay::END_OF_DAY)
                    .unwrap(),
            }],
            overrides: vec![DateOverride {
                date: jiff::civil::date(2026, 12, 24),
                intervals: vec![],
            }],
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let v = serde_json::to_value(ScheduleDto::from_domain(&s)).unwrap();
        assert_eq!(v["timezone"], "Europe/Berlin");
        assert_eq!(
            v["rules"],
            json!([{"days": ["mon", "fri"], "start": "09:00", "end": "24:00"}])
        );
        assert_eq!(
            v["overrides"][0],
            json!({"date": "2026-12-24", "intervals": []})
        );
        assert_eq!(v["version"], 1);
        assert_eq!(v["created_at"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn requests_map_as_written() {
        let r: CreateScheduleRequest = serde_json::from_value(json!({
            "name": "W", "timezone": "Mars/Base",
            "rules": [{"days": ["mon", "funday"], "start": "9:00", "end": "17:00"}],
            "overrides": [{"date": "24.12.2026"}]
        }))
        .unwrap();
        let n = r.into_domain();
        assert_eq!(n.timezone.as_deref(), Some("Mars/Base"));
        assert_eq!(n.rules[0].days, vec!["mon", "funday"]);
        assert_eq!(n.overrides[0].date, "24.12.2026");
        let p: PatchScheduleRequest = serde_json::from_value(json!({"rules": []})).unwrap();
        assert_eq!(p.into_domain().rules, Some(vec![]));
    }
}
