//! Availability schedules from compact command-line specs: weekly rules like
//! `mon-fri 09:00-17:00` or `mon,wed 09:00-12:00,13:00-17:00`, and date overrides like
//! `2026-12-24 off` or `2026-12-24 10:00-12:00`.

use super::{AdminContext, AdminError, field_errors};
use domain::availability::{
    DateOverride, LocalRange, OverrideRequest, RuleRequest, Schedule, TimeOfDay, WeeklyRule, Zone,
    parse_weekday,
};
use domain::schedule_service::CreateScheduleError;
use domain::{OrganizationId, UserId};
use jiff::civil::{Date, Weekday};

/// A schedule to create.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub org: OrganizationId,
    pub user: UserId,
    pub name: String,
    /// IANA zone name.
    pub timezone: String,
    pub rules: Vec<WeeklyRule>,
    pub overrides: Vec<DateOverride>,
}

/// Creates a schedule for a user of `org`.
pub async fn create_schedule(ctx: &AdminContext, new: NewSchedule) -> anyhow::Result<Schedule> {
    ctx.user(new.org, new.user).await?;
    if let Err(e) = Zone::parse(&new.timezone) {
        return Err(AdminError::Invalid(format!("--timezone {e}")).into());
    }
    let input = domain::availability::NewSchedule {
        user_id: Some(new.user),
        name: Some(new.name.trim().to_owned()),
        timezone: Some(new.timezone),
        rules: new.rules.iter().map(RuleRequest::from).collect(),
        overrides: new.overrides.iter().map(OverrideRequest::from).collect(),
    };
    ctx.services()
        .schedules
        .create(new.org, new.user, input)
        .await
        .map_err(|e| match e {
            CreateScheduleError::Invalid(e) => field_errors("schedule", &e),
            CreateScheduleError::Duplicate { field } => {
                AdminError::Invalid(format!("{field} is already taken")).into()
            }
            CreateScheduleError::Unknown(e) => e,
        })
}

/// Schedules of one organization, oldest first.
pub async fn list_schedules(
    ctx: &AdminContext,
    org: OrganizationId,
) -> anyhow::Result<Vec<Schedule>> {
    ctx.organization(org).await?;
    Ok(ctx.services().schedules.list(org, None).await?)
}

/// Parses `DAYS RANGES`: days are comma-separated weekdays or weekday ranges (`mon-fri`,
/// `sat,sun`, `fri-mon` wraps around), ranges are comma-separated `HH:MM-HH:MM`. One rule per
/// range.
pub fn parse_rule(spec: &str) -> Result<Vec<WeeklyRule>, String> {
    let (days, ranges) = split_spec(spec, "rule", "\"mon-fri 09:00-17:00\"")?;
    let days = parse_days(days)?;
    let ranges = parse_ranges(ranges)?;
    Ok(ranges
        .into_iter()
        .map(|range| WeeklyRule {
            days: days.clone(),
            range,
        })
        .collect())
}

/// Parses `YYYY-MM-DD off` (unavailable all day) or `YYYY-MM-DD HH:MM-HH:MM[,…]`.
pub fn parse_override(spec: &str) -> Result<DateOverride, String> {
    let (date, ranges) = split_spec(spec, "override", "\"2026-12-24 off\"")?;
    let date: Date = date
        .parse()
        .map_err(|_| format!("override '{spec}': '{date}' is not a date (YYYY-MM-DD)"))?;
    let intervals = if ranges.eq_ignore_ascii_case("off") {
        Vec::new()
    } else {
        parse_ranges(ranges)?
    };
    Ok(DateOverride { date, intervals })
}

fn split_spec<'a>(spec: &'a str, what: &str, example: &str) -> Result<(&'a str, &'a str), String> {
    let mut parts = spec.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => Ok((a, b)),
        _ => Err(format!(
            "{what} '{spec}' must have two parts separated by a space, e.g. {example}"
        )),
    }
}

fn parse_days(s: &str) -> Result<Vec<Weekday>, String> {
    let day = |d: &str| {
        parse_weekday(&d.to_ascii_lowercase())
            .ok_or_else(|| format!("'{d}' is not a weekday; use mon, tue, wed, thu, fri, sat, sun"))
    };
    let mut out: Vec<Weekday> = Vec::new();
    for item in s.split(',') {
        match item.split_once('-') {
            Some((from, to)) => {
                let (mut d, to) = (day(from)?, day(to)?);
                loop {
                    if !out.contains(&d) {
                        out.push(d);
                    }
                    if d == to {
                        break;
                    }
                    d = d.next();
                }
            }
            None => {
                let d = day(item)?;
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    out.sort_by_key(|d| d.to_monday_zero_offset());
    Ok(out)
}

fn parse_ranges(s: &str) -> Result<Vec<LocalRange>, String> {
    s.split(',')
        .map(|r| {
            let (a, b) = r
                .split_once('-')
                .ok_or_else(|| format!("'{r}' is not a time range; use HH:MM-HH:MM"))?;
            LocalRange::new(TimeOfDay::parse(a)?, TimeOfDay::parse(b)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u16, m: u16) -> TimeOfDay {
        TimeOfDay::new(h, m).unwrap()
    }

    #[test]
    fn rules() {
        let r = parse_rule("mon-fri 09:00-17:00").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].days,
            vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday
            ]
        );
        assert_eq!(r[0].range, LocalRange::new(t(9, 0), t(17, 0)).unwrap());

        let r = parse_rule("sat,sun 09:00-12:00,13:00-24:00").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].days, vec![Weekday::Saturday, Weekday::Sunday]);
        assert_eq!(r[1].range.end, TimeOfDay::END_OF_DAY);

        let r = parse_rule("fri-mon 10:00-11:00").unwrap();
        assert_eq!(
            r[0].days,
            vec![
                Weekday::Monday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday
            ]
        );

        for bad in [
            "",
            "mon-fri",
            "mon-fri 09:00-17:00 extra",
            "funday 09:00-17:00",
            "mon 17:00-09:00",
            "mon 9-17",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn overrides() {
        let o = parse_override("2026-12-24 off").unwrap();
        assert_eq!(o.date, jiff::civil::date(2026, 12, 24));
        assert!(o.intervals.is_empty());
        let o = parse_override("2026-12-31 10:00-12:00").unwrap();
        assert_eq!(
            o.intervals,
            vec![LocalRange::new(t(10, 0), t(12, 0)).unwrap()]
        );
        assert!(parse_override("2026-13-01 off").is_err());
        assert!(parse_override("2026-12-24").is_err());
    }
}
