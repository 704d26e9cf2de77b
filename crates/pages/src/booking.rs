//! The public booking pages: a host's event types, an event type's month calendar with the
//! chosen day's free times, and the "not found" page. Views are built here from what the domain
//! services answer (`domain::booking_page`); dates and times are written in the invitee's zone.
//!
//! Pages link one stylesheet and at most one small script from `/_assets/` (see
//! [`crate::assets`]) and never carry inline script or style, so they run under a CSP without
//! `'unsafe-inline'`.

use crate::assets;
use askama::Template;
use domain::availability::Zone;
use domain::booking_page::{EventTypePage, HostPage, MonthSlots};
use domain::event_type::{EventType, Location, SchedulingType};
use domain::organization::User;
use jiff::Timestamp;
use jiff::civil::Date;
use std::sync::OnceLock;

/// What every booking page's frame shows and links.
pub struct Chrome {
    pub org_name: String,
    /// The zone times are shown in (`data-zone`, read by the optional script).
    pub zone: String,
    pub css_url: &'static str,
    pub accent_url: Option<String>,
    pub js_url: &'static str,
    /// Link the time-zone script (only pages with a zone picker need it).
    pub script: bool,
}

impl Chrome {
    /// The frame for `org_name`, accented with an event type colour when given.
    pub fn new(org_name: &str, zone: &str, color: Option<&str>, script: bool) -> Self {
        Self {
            org_name: org_name.to_owned(),
            zone: zone.to_owned(),
            css_url: assets::css_url(),
            accent_url: color.and_then(assets::accent_url),
            js_url: assets::js_url(),
            script,
        }
    }
}

/// Percent-encodes a query value (zone names keep their `/`, as in `tz=Europe/Berlin`).
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// "30 minutes", "1 hour", "1 hour 30 minutes".
pub fn duration_label(minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let unit = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match (h, m) {
        (0, m) => unit(m, "minute", "minutes"),
        (h, 0) => unit(h, "hour", "hours"),
        (h, m) => format!(
            "{} {}",
            unit(h, "hour", "hours"),
            unit(m, "minute", "minutes")
        ),
    }
}

/// Where a meeting happens, in words.
pub fn location_label(l: &Location) -> String {
    if !l.label.trim().is_empty() {
        return l.label.clone();
    }
    match l.kind.as_str() {
        "google_meet" => "Google Meet".into(),
        "zoom" => "Zoom".into(),
        "ms_teams" | "teams" => "Microsoft Teams".into(),
        "phone" => "Phone call".into(),
        "in_person" => "In person".into(),
        "link" => "Online".into(),
        other => other.replace('_', " "),
    }
}

fn user_name(u: &User) -> String {
    u.display_name().unwrap_or_else(|| {
        u.username
            .as_ref()
            .map_or_else(|| "Host".to_owned(), |n| n.as_str().to_owned())
    })
}

/// The facts line of an event type: duration, kind of meeting, locations.
pub fn facts(et: &EventType, hosts: &[User]) -> Vec<String> {
    let mut out = vec![duration_label(et.duration_minutes)];
    match et.scheduling_type {
        SchedulingType::Individual => {}
        SchedulingType::Group => out.push(format!("Group: up to {} people per time", et.seats)),
        SchedulingType::RoundRobin => {
            let names: Vec<String> = hosts.iter().map(user_name).collect();
            if !names.is_empty() {
                out.push(format!("With one of: {}", names.join(", ")));
            }
        }
    }
    out.extend(et.locations.iter().map(location_label));
    out
}

/// "Thursday, 4 March 2027".
pub fn day_label(d: Date) -> String {
    d.strftime("%A, %-d %B %Y").to_string()
}

/// "09:30" in `zone`.
pub fn time_label(t: Timestamp, zone: &Zone) -> String {
    t.to_zoned(zone.tz().clone()).strftime("%H:%M").to_string()
}

/// "Thursday, 4 March 2027, 09:30–10:00 (Europe/Berlin)".
pub fn when_label(start: Timestamp, end: Timestamp, zone: &Zone) -> String {
    let s = start.to_zoned(zone.tz().clone());
    let e = end.to_zoned(zone.tz().clone());
    let end_part = if s.date() == e.date() {
        e.strftime("%H:%M").to_string()
    } else {
        e.strftime("%A, %-d %B %Y, %H:%M").to_string()
    };
    format!(
        "{}, {}–{} ({})",
        day_label(s.date()),
        s.strftime("%H:%M"),
        end_part,
        zone.name()
    )
}

/// IANA zone names offered by the picker: the regional ones of the tz database, sorted, plus
/// `UTC`.
pub fn zone_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        const AREAS: &[&str] = &[
            "Africa/",
            "America/",
            "Antarctica/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
            "Pacific/",
        ];
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_owned())
            .filter(|n| AREAS.iter().any(|a| n.starts_with(a)))
            .collect();
        names.push("UTC".into());
        names.sort();
        names.dedup();
        names
    })
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound<'a> {
    chrome: Chrome,
    heading: &'a str,
    message: &'a str,
}

/// The 404 page (unknown user, unknown or inactive event type, unknown booking link).
pub fn not_found(heading: &str, message: &str) -> Result<String, askama::Error> {
    NotFound {
        chrome: Chrome::new("Slotbook", "UTC", None, false),
        heading,
        message,
    }
    .render()
}

/// One event type in a host's list.
pub struct EventTypeItem {
    pub href: String,
    pub title: String,
    pub facts: String,
    pub description: Option<String>,
}

#[derive(Template)]
#[template(path = "host.html")]
struct Host {
    chrome: Chrome,
    host_name: String,
    event_types: Vec<EventTypeItem>,
}

/// `GET /{username}`.
pub fn host_page(page: &HostPage) -> Result<String, askama::Error> {
    let event_types = page
        .event_types
        .iter()
        .map(|(et, owner)| EventTypeItem {
            href: format!("/{}/{}", query_value(owner), query_value(&et.slug)),
            title: et.title.clone(),
            facts: facts(et, &[]).join(" · "),
            description: et.description.clone(),
        })
        .collect();
    Host {
        chrome: Chrome::new(&page.host.organization.name, "UTC", None, false),
        host_name: user_name(&page.host.user),
        event_types,
    }
    .render()
}

/// A calendar cell.
pub struct DayCell {
    pub number: u8,
    pub label: String,
    pub href: Option<String>,
    pub selected: bool,
}

/// A free time on the chosen day.
pub struct SlotItem {
    pub time: String,
    pub href: String,
    /// e.g. "3 seats left".
    pub extra: Option<String>,
}

#[derive(Template)]
#[template(path = "event_type.html")]
struct EventTypeTemplate<'a> {
    chrome: Chrome,
    host_name: String,
    title: &'a str,
    description: Option<&'a str>,
    facts: Vec<String>,
    notice: Option<&'a str>,
    month_label: String,
    prev_href: Option<String>,
    next_href: String,
    weekdays: [(&'static str, &'static str); 7],
    weeks: Vec<[Option<DayCell>; 7]>,
    day_label: Option<String>,
    slots: Vec<SlotItem>,
    any_free: bool,
    zone_label: String,
    zone: &'a str,
    zones: &'static [String],
    keep: Vec<(&'static str, String)>,
}

/// What the event type page shows.
pub struct EventTypeView<'a> {
    pub page: &'a EventTypePage,
    pub month: &'a MonthSlots,
    /// The invitee's zone.
    pub zone: &'a Zone,
    /// The chosen day, if any.
    pub date: Option<Date>,
    /// Today in the invitee's zone (no "previous month" before it).
    pub today: Date,
    /// A message above the calendar (e.g. "that time was just taken").
    pub notice: Option<&'a str>,
    /// Whether the URL named the zone (else the optional script may pick the browser's).
    pub zone_from_url: bool,
    /// Where free times link to (`…?start=…&tz=…`); default `/{username}/{slug}/book`.
    pub slot_base: Option<String>,
}

/// `/{username}/{slug}` (the page's own path).
pub fn event_type_path(page: &EventTypePage) -> String {
    let username = page.host.user.username.as_ref().map_or("", |u| u.as_str());
    format!(
        "/{}/{}",
        query_value(username),
        query_value(&page.event_type.slug)
    )
}

fn month_param(d: Date) -> String {
    d.strftime("%Y-%m").to_string()
}

/// The event type page: facts, the month calendar and the chosen day's free times.
pub fn event_type_page(v: &EventTypeView<'_>) -> Result<String, askama::Error> {
    let et = &v.page.event_type;
    let tz = query_value(v.zone.name());
    let month = v.month.month;
    let here = |m: Date, d: Option<Date>| {
        let mut href = format!("?month={}", month_param(m));
        if let Some(d) = d {
            href.push_str(&format!("&date={d}"));
        }
        href.push_str(&format!("&tz={tz}"));
        href
    };
    let prev = month.checked_sub(jiff::Span::new().months(1)).ok();
    let next = month
        .checked_add(jiff::Span::new().months(1))
        .unwrap_or(month);
    let prev_href = prev
        .filter(|p| *p >= v.today.first_of_month())
        .map(|p| here(p, None));
    let offset = usize::try_from(month.weekday().to_monday_zero_offset()).unwrap_or(0);
    let mut cells: Vec<Option<DayCell>> = (0..offset).map(|_| None).collect();
    for day in 1..=month.days_in_month() {
        let Ok(date) = month.with().day(day).build() else {
            continue;
        };
        let count = v.month.days.get(&date).map_or(0, Vec::len);
        let spoken = date.strftime("%A %-d %B").to_string();
        let u8_day = u8::try_from(day).unwrap_or(0);
        cells.push(Some(DayCell {
            number: u8_day,
            label: match count {
                0 => format!("{spoken}, no free times"),
                1 => format!("{spoken}, 1 free time"),
                n => format!("{spoken}, {n} free times"),
            },
            href: (count > 0).then(|| here(month, Some(date))),
            selected: v.date == Some(date),
        }));
    }
    while !cells.len().is_multiple_of(7) {
        cells.push(None);
    }
    let mut weeks = Vec::new();
    let mut it = cells.into_iter();
    loop {
        let week: [Option<DayCell>; 7] = std::array::from_fn(|_| it.next().flatten());
        if week.iter().all(Option::is_none) {
            break;
        }
        weeks.push(week);
    }
    let base = v
        .slot_base
        .clone()
        .unwrap_or_else(|| format!("{}/book", event_type_path(v.page)));
    let group = et.scheduling_type == SchedulingType::Group;
    let slots: Vec<SlotItem> = v
        .date
        .and_then(|d| v.month.days.get(&d))
        .map(|list| {
            list.iter()
                .map(|s| SlotItem {
                    time: time_label(s.start, v.zone),
                    href: format!("{base}?start={}&tz={tz}", query_value(&s.start.to_string())),
                    extra: group.then(|| match s.seats_remaining {
                        Some(1) => "1 seat left".to_owned(),
                        Some(n) => format!("{n} seats left"),
                        None => String::new(),
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut keep = vec![("month", month_param(month))];
    if let Some(d) = v.date {
        keep.push(("date", d.to_string()));
    }
    EventTypeTemplate {
        chrome: Chrome::new(
            &v.page.host.organization.name,
            v.zone.name(),
            Some(&et.color),
            !v.zone_from_url,
        ),
        host_name: v
            .page
            .hosts
            .first()
            .filter(|_| et.scheduling_type != SchedulingType::RoundRobin)
            .map_or_else(|| user_name(&v.page.host.user), user_name),
        title: &et.title,
        description: et.description.as_deref(),
        facts: facts(et, &v.page.hosts),
        notice: v.notice,
        month_label: month.strftime("%B %Y").to_string(),
        prev_href,
        next_href: here(next, None),
        weekdays: [
            ("Monday", "Mon"),
            ("Tuesday", "Tue"),
            ("Wednesday", "Wed"),
            ("Thursday", "Thu"),
            ("Friday", "Fri"),
            ("Saturday", "Sat"),
            ("Sunday", "Sun"),
        ],
        weeks,
        day_label: v.date.map(day_label),
        slots,
        any_free: !v.month.days.is_empty(),
        zone_label: v.zone.name().replace('_', " "),
        zone: v.zone.name(),
        zones: zone_names(),
        keep,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(duration_label(30), "30 minutes");
        assert_eq!(duration_label(60), "1 hour");
        assert_eq!(duration_label(90), "1 hour 30 minutes");
        assert_eq!(duration_label(1), "1 minute");
        assert_eq!(query_value("Europe/Berlin"), "Europe/Berlin");
        assert_eq!(query_value("a b&c"), "a%20b%26c");
        let d = Date::constant(2027, 3, 4);
        assert_eq!(day_label(d), "Thursday, 4 March 2027");
        let z = Zone::parse("Europe/Berlin").unwrap();
        let t: Timestamp = "2027-03-04T08:00:00Z".parse().unwrap();
        let e: Timestamp = "2027-03-04T08:30:00Z".parse().unwrap();
        assert_eq!(
            when_label(t, e, &z),
            "Thursday, 4 March 2027, 09:00–09:30 (Europe/Berlin)"
        );
        assert!(zone_names().iter().any(|n| n == "Europe/Berlin"));
        assert!(zone_names().iter().any(|n| n == "UTC"));
        assert!(!zone_names().iter().any(|n| n.starts_with("Etc/")));
    }

    #[test]
    fn not_found_page_escapes() {
        let html = not_found("Not here", "No <b>page</b>").unwrap();
        assert!(html.contains("No &#60;b&#62;page") || html.contains("No &lt;b&gt;page"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<style"));
    }
}
