//! Availability schedules: weekly rules and date overrides in civil time of an IANA zone, and
//! their expansion into absolute free time (§6.4 step 1 of the contract).
//!
//! Expansion works per *local date*: a date's intervals come from its override if there is one,
//! else from the weekly rules of its weekday. Each local endpoint becomes an instant with RFC 9557
//! "compatible" disambiguation (jiff's default): a time in a DST gap moves forward by the gap's
//! length, a time in a fold takes the earlier offset. A local date that does not exist at all
//! (Pacific/Apia skipped 2011-12-30) contributes nothing. We never add 24 hours to find "the
//! next day": we step civil dates.

use crate::ids::{OrganizationId, ScheduleId, UserId};
use crate::interval::{self, Interval};
use crate::validate::FieldErrors;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use std::fmt;

/// A time of day `HH:MM`, from `00:00` to `24:00` (`24:00` means the next local midnight and is
/// only meaningful as an interval end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// `24:00`, the end of the day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// From hours and minutes; `24:00` is allowed, nothing later.
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        let m = hour.checked_mul(60)?.checked_add(minute)?;
        (minute < 60 && m <= 24 * 60).then_some(Self(m))
    }

    /// Parses `HH:MM` (two digits each).
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("'{s}' is not a time of day; use HH:MM between 00:00 and 24:00");
        let (h, m) = s.split_once(':').ok_or_else(err)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(err());
        }
        let h: u16 = h.parse().map_err(|_| err())?;
        let m: u16 = m.parse().map_err(|_| err())?;
        Self::new(h, m).ok_or_else(err)
    }

    /// Minutes since local midnight.
    pub fn minutes(&self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A civil range `[start, end)` within one local date; `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalRange {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl LocalRange {
    /// A range, refused when `start >= end`.
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<Self, String> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(format!("start {start} must be before end {end}"))
        }
    }
}

/// Hours on a set of weekdays, e.g. mon–fri 09:00–17:00. Several rules may share a weekday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyRule {
    pub days: Vec<Weekday>,
    pub range: LocalRange,
}

/// Replaces one local date's weekly hours; no intervals means unavailable all day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateOverride {
    pub date: Date,
    pub intervals: Vec<LocalRange>,
}

/// An IANA zone with its name kept for display and storage.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Looks up an IANA name.
    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(Self {
            name: name.to_owned(),
            tz: crate::validate::parse_time_zone(name)?,
        })
    }

    /// UTC.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date of an instant in this zone.
    pub fn date_of(&self, t: Timestamp) -> Date {
        self.tz.to_datetime(t).date()
    }

    /// The instant a local date-time denotes, with "compatible" disambiguation.
    pub fn instant(&self, date: Date, time: TimeOfDay) -> Option<Timestamp> {
        let (date, minutes) = if time == TimeOfDay::END_OF_DAY {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, time.minutes())
        };
        let dt = date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
        self.tz.to_ambiguous_timestamp(dt).compatible().ok()
    }

    /// False for a local date that the zone skipped entirely (Pacific/Apia 2011-12-30).
    pub fn date_exists(&self, date: Date) -> bool {
        match self.instant(date, TimeOfDay::MIDNIGHT) {
            Some(t) => self.date_of(t) == date,
            None => false,
        }
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

/// One local date's merged free intervals, in absolute time. The slot grid is anchored at the
/// start of each of these intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFree {
    pub date: Date,
    pub intervals: Vec<Interval>,
}

/// An availability schedule of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: ScheduleId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub name: String,
    pub zone: Zone,
    pub rules: Vec<WeeklyRule>,
    pub overrides: Vec<DateOverride>,
    /// Starts at 1; bumped by every update (ETag source).
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A time range as requested, `HH:MM`–`HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRequest {
    pub start: String,
    pub end: String,
}

/// Weekly hours as requested: weekday names `mon` … `sun` and a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRequest {
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
}

impl From<&WeeklyRule> for RuleRequest {
    fn from(r: &WeeklyRule) -> Self {
        Self {
            days: r.days.iter().map(|d| weekday_name(*d).to_owned()).collect(),
            start: r.range.start.to_string(),
            end: r.range.end.to_string(),
        }
    }
}

/// A date override as requested: `YYYY-MM-DD` and its ranges (none = unavailable all day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRequest {
    pub date: String,
    pub intervals: Vec<RangeRequest>,
}

impl From<&DateOverride> for OverrideRequest {
    fn from(o: &DateOverride) -> Self {
        Self {
            date: o.date.to_string(),
            intervals: o
                .intervals
                .iter()
                .map(|r| RangeRequest {
                    start: r.start.to_string(),
                    end: r.end.to_string(),
                })
                .collect(),
        }
    }
}

/// Input of [`crate::schedule_service::ScheduleService::create`]. Required: `name`,
/// `timezone`; `user_id` defaults to the caller. Every failing field is reported at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSchedule {
    pub user_id: Option<UserId>,
    pub name: Option<String>,
    /// IANA zone name.
    pub timezone: Option<String>,
    pub rules: Vec<RuleRequest>,
    pub overrides: Vec<OverrideRequest>,
}

/// Input of [`crate::schedule_service::ScheduleService::update`]: written fields only; `rules`
/// and `overrides` replace the stored lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulePatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub rules: Option<Vec<RuleRequest>>,
    pub overrides: Option<Vec<OverrideRequest>>,
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

/// Requested rules → weekly rules, errors named `rules[i].days[j]`, `rules[i].start`, ….
fn rules(e: &mut FieldErrors, rules: &[RuleRequest]) -> Vec<WeeklyRule> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let mut days = Vec::new();
        for (j, d) in r.days.iter().enumerate() {
            match parse_weekday(d) {
                Some(w) => days.push(w),
                None => e.push(format!("rules[{i}].days[{j}]"), "must be one of mon … sun"),
            }
        }
        if let Some(range) = local_range(e, &format!("rules[{i}]"), &r.start, &r.end) {
            out.push(WeeklyRule { days, range });
        }
    }
    out
}

/// Requested overrides → date overrides, errors named `overrides[i].date`,
/// `overrides[i].intervals[j].end`.
fn overrides(e: &mut FieldErrors, overrides: &[OverrideRequest]) -> Vec<DateOverride> {
    let mut out = Vec::new();
    for (i, o) in overrides.iter().enumerate() {
        let date = match (o.date.len() == 10).then(|| o.date.parse::<Date>()) {
            Some(Ok(d)) => match crate::validate::check_date_range(d) {
                Ok(d) => Some(d),
                Err(m) => {
                    e.push(format!("overrides[{i}].date"), m);
                    None
                }
            },
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
            if let Some(range) = local_range(e, &field, &r.start, &r.end) {
                intervals.push(range);
            }
        }
        if let Some(date) = date {
            out.push(DateOverride { date, intervals });
        }
    }
    out
}

fn zone(e: &mut FieldErrors, name: &str) -> Option<Zone> {
    Zone::parse(name).map_err(|m| e.push("timezone", m)).ok()
}

impl Schedule {
    /// Builds a new schedule of `user`: every field checked, every failure reported at once
    /// together with `e` from the caller (e.g. an unknown user).
    pub(crate) fn create(
        id: ScheduleId,
        org: OrganizationId,
        user: UserId,
        now: Timestamp,
        new: NewSchedule,
        mut e: FieldErrors,
    ) -> Result<Schedule, FieldErrors> {
        let name = new.name.unwrap_or_else(|| {
            e.push("name", "is required");
            String::new()
        });
        let zone = match &new.timezone {
            Some(z) => zone(&mut e, z),
            None => {
                e.push("timezone", "is required");
                None
            }
        };
        let s = Schedule {
            id,
            organization_id: org,
            user_id: user,
            name,
            zone: zone.unwrap_or_else(Zone::utc),
            rules: rules(&mut e, &new.rules),
            overrides: overrides(&mut e, &new.overrides),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        s.check(&mut e);
        e.finish(s)
    }

    /// The schedule after `patch`, its version bumped and `updated_at` touched; every failing
    /// field at once.
    pub(crate) fn patched(
        &self,
        patch: SchedulePatch,
        now: Timestamp,
    ) -> Result<Schedule, FieldErrors> {
        let mut e = FieldErrors::default();
        let mut s = self.clone();
        if let Some(z) = &patch.timezone
            && let Some(z) = zone(&mut e, z)
        {
            s.zone = z;
        }
        if let Some(r) = &patch.rules {
            s.rules = rules(&mut e, r);
        }
        if let Some(o) = &patch.overrides {
            s.overrides = overrides(&mut e, o);
        }
        if let Some(n) = patch.name {
            s.name = n;
        }
        s.check(&mut e);
        s.version += 1;
        s.updated_at = now;
        e.finish(s)
    }

    /// Checks the invariants a stored schedule must hold into `errors`.
    fn check(&self, errors: &mut FieldErrors) {
        if (self.name.trim().is_empty() || self.name.chars().count() > 255) && !errors.has("name") {
            errors.push("name", "must be 1-255 characters");
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.days.is_empty() {
                errors.push(format!("rules[{i}].days"), "must name at least one weekday");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, o) in self.overrides.iter().enumerate() {
            if !seen.insert(o.date) {
                errors.push(
                    format!("overrides[{i}].date"),
                    "each date may be overridden once",
                );
            }
        }
    }

    /// The civil ranges that apply on a local date.
    pub fn ranges_on(&self, date: Date) -> Vec<LocalRange> {
        if let Some(o) = self.overrides.iter().find(|o| o.date == date) {
            return o.intervals.clone();
        }
        let wd = date.weekday();
        self.rules
            .iter()
            .filter(|r| r.days.contains(&wd))
            .map(|r| r.range)
            .collect()
    }

    /// Free intervals per local date, for every date in `[first, last]` (inclusive).
    pub fn expand(&self, first: Date, last: Date) -> Vec<DayFree> {
        let mut out = Vec::new();
        let mut date = first;
        while date <= last {
            if self.zone.date_exists(date) {
                let intervals: Vec<Interval> = self
                    .ranges_on(date)
                    .into_iter()
                    .filter_map(|r| {
                        let start = self.zone.instant(date, r.start)?;
                        let end = self.zone.instant(date, r.end)?;
                        Interval::new(start, end)
                    })
                    .collect();
                let intervals = interval::merge(intervals);
                if !intervals.is_empty() {
                    out.push(DayFree { date, intervals });
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        out
    }
}

/// Parses `mon`..`sun`.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// `mon`..`sun`.
pub fn weekday_name(d: Weekday) -> &'static str {
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

/// A query bound that is either an absolute instant or a civil date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrInstant {
    Instant(Timestamp),
    Date(Date),
}

impl DateOrInstant {
    /// Parses an RFC 3339 date-time or a plain `YYYY-MM-DD` date.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 10
            && let Ok(d) = s.parse::<Date>()
        {
            return crate::validate::check_date_range(d)
                .map(Self::Date)
                .map_err(|m| format!("'{s}' {m}"));
        }
        let t = s.parse::<Timestamp>().map_err(|_| {
            format!(
                "'{s}' is neither an ISO 8601 date-time (2026-05-20T10:00:00Z) nor a date (2026-05-20)"
            )
        })?;
        crate::validate::check_instant_range(t)
            .map(Self::Instant)
            .map_err(|m| format!("'{s}' {m}"))
    }

    /// The instant this bound denotes: a date means local midnight in `zone` (`None` when that
    /// local date does not exist or is out of range).
    pub fn at_start_of_day(&self, zone: &Zone) -> Option<Timestamp> {
        match self {
            Self::Instant(t) => Some(*t),
            Self::Date(d) => {
                let mut date = *d;
                // A skipped local date (Pacific/Apia 2011-12-30) starts when the next one does.
                for _ in 0..3 {
                    if zone.date_exists(date) {
                        return zone.instant(date, TimeOfDay::MIDNIGHT);
                    }
                    date = date.tomorrow().ok()?;
                }
                None
            }
        }
    }

    /// The last instant of this bound used inclusively: a date means its last millisecond in
    /// `zone`, an instant itself.
    pub fn at_end_of_day(&self, zone: &Zone) -> Option<Timestamp> {
        match self {
            Self::Instant(t) => Some(*t),
            Self::Date(d) => {
                let next = Self::Date(d.tomorrow().ok()?).at_start_of_day(zone)?;
                next.checked_sub(jiff::SignedDuration::from_millis(1)).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn sched(zone: &str, rules: Vec<WeeklyRule>, overrides: Vec<DateOverride>) -> Schedule {
        Schedule {
            id: ScheduleId(uuid::Uuid::nil()),
            organization_id: OrganizationId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            name: "Working hours".into(),
            zone: Zone::parse(zone).unwrap(),
            rules,
            overrides,
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn rule(days: &[Weekday], a: &str, b: &str) -> WeeklyRule {
        WeeklyRule {
            days: days.to_vec(),
            range: LocalRange::new(TimeOfDay::parse(a).unwrap(), TimeOfDay::parse(b).unwrap())
                .unwrap(),
        }
    }

    const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    fn render(days: &[DayFree]) -> Vec<String> {
        days.iter()
            .flat_map(|d| {
                d.intervals
                    .iter()
                    .map(move |i| format!("{} {}..{}", d.date, i.start(), i.end()))
            })
            .collect()
    }

    #[test]
    fn times_of_day_parse_and_print() {
        assert_eq!(TimeOfDay::parse("09:30").unwrap().to_string(), "09:30");
        assert_eq!(TimeOfDay::parse("24:00").unwrap(), TimeOfDay::END_OF_DAY);
        for bad in ["24:01", "9:30", "09:60", "ab:cd", "0930"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn override_replaces_weekday_rules_and_empty_override_blocks_the_day() {
        let s = sched(
            "UTC",
            vec![rule(&ALL, "09:00", "17:00")],
            vec![
                DateOverride {
                    date: date(2026, 5, 5),
                    intervals: vec![],
                },
                DateOverride {
                    date: date(2026, 5, 6),
                    intervals: vec![
                        LocalRange::new(
                            TimeOfDay::parse("10:00").unwrap(),
                            TimeOfDay::parse("11:00").unwrap(),
                        )
                        .unwrap(),
                    ],
                },
            ],
        );
        assert_eq!(
            render(&s.expand(date(2026, 5, 4), date(2026, 5, 6))),
            vec![
                "2026-05-04 2026-05-04T09:00:00Z..2026-05-04T17:00:00Z",
                "2026-05-06 2026-05-06T10:00:00Z..2026-05-06T11:00:00Z",
            ]
        );
    }

    #[test]
    fn berlin_spring_forward_skips_the_missing_hour() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        let s = sched(
            "Europe/Berlin",
            vec![rule(&ALL, "01:00", "04:00"), rule(&ALL, "02:00", "02:30")],
            vec![],
        );
        assert_eq!(
            render(&s.expand(date(2026, 3, 29), date(2026, 3, 29))),
            // 01:00 CET = 00:00Z, 04:00 CEST = 02:00Z: two real hours; the 02:00-02:30 rule lies in the gap.
            vec!["2026-03-29 2026-03-29T00:00:00Z..2026-03-29T02:00:00Z"]
        );
    }

    #[test]
    fn new_york_fall_back_fold_takes_the_earlier_offset() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 occurs twice.
        let s = sched(
            "America/New_York",
            vec![rule(&ALL, "01:30", "03:00")],
            vec![],
        );
        assert_eq!(
            render(&s.expand(date(2026, 11, 1), date(2026, 11, 1))),
            // 01:30 EDT = 05:30Z (earlier offset), 03:00 EST = 08:00Z.
            vec!["2026-11-01 2026-11-01T05:30:00Z..2026-11-01T08:00:00Z"]
        );
    }

    #[test]
    fn lord_howe_half_hour_shift() {
        // 2026-10-04: 02:00 +10:30 jumps to 02:30 +11:00.
        let s = sched(
            "Australia/Lord_Howe",
            vec![rule(&ALL, "01:00", "04:00")],
            vec![],
        );
        let out = s.expand(date(2026, 10, 4), date(2026, 10, 4));
        let iv = out[0].intervals[0];
        assert_eq!(iv.end().duration_since(iv.start()).as_secs(), 150 * 60);
    }

    #[test]
    fn apia_skipped_date_contributes_nothing() {
        let s = sched("Pacific/Apia", vec![rule(&ALL, "09:00", "17:00")], vec![]);
        assert!(!s.zone.date_exists(date(2011, 12, 30)));
        let out = s.expand(date(2011, 12, 29), date(2011, 12, 31));
        let dates: Vec<Date> = out.iter().map(|d| d.date).collect();
        assert_eq!(dates, vec![date(2011, 12, 29), date(2011, 12, 31)]);
    }

    #[test]
    fn end_of_day_is_next_local_midnight() {
        let s = sched("Europe/Berlin", vec![rule(&ALL, "22:00", "24:00")], vec![]);
        assert_eq!(
            render(&s.expand(date(2026, 7, 1), date(2026, 7, 1))),
            vec!["2026-07-01 2026-07-01T20:00:00Z..2026-07-01T22:00:00Z"]
        );
    }
}
