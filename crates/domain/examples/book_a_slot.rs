//! Book a slot with nothing but `domain` and the in-memory store: a host whose schedule is
//! Monday–Friday 09:00–17:00 in Europe/Berlin, a 30-minute event type, the slots of one week,
//! one booking, and the week again (one slot fewer).
//!
//! Run it with `cargo run -p domain --example book_a_slot`. No database, no async runtime (a
//! plain `block_on`), no system clock: the clock stands at a fixed instant so the output is the
//! same on every run. `crates/domain/tests/book_a_slot.rs` runs this file and checks what it
//! claims.

use anyhow::Context as _;
use domain::availability::{LocalRange, Schedule, TimeOfDay, WeeklyRule, Zone};
use domain::booking::{Attendee, Booking, Utm};
use domain::event_type::{BookingLimits, EventType, Host, SchedulingType};
use domain::ids::{EventTypeId, OrganizationId, ScheduleId, UserId};
use domain::interval::Interval;
use domain::organization::{Organization, Role, User, Username};
use domain::ports::{
    BookingStore, Clock, DirectoryStore, DomainEvent, EventEncoder, EventTypeStore, IdGen,
    ScheduleStore,
};
use domain::service::{Deps, NewBooking};
use domain::slots::{self, Slot};
use domain::validate::Email;
use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use store_memory::MemoryStore;
use uuid::Uuid;

/// Where the example's clock stands: Friday 2026-03-20, 12:00 UTC.
const NOW: &str = "2026-03-20T12:00:00Z";
/// The week listed: Monday 2026-03-23 00:00 to Monday 2026-03-30 00:00, Berlin time (the
/// clocks go forward on Sunday the 29th; the week is 167 hours long).
const WEEK: (&str, &str) = ("2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z");
/// The slot booked: Tuesday 2026-03-24, 10:00 Berlin (CET, UTC+1).
const BOOK: &str = "2026-03-24T09:00:00Z";

/// A clock that never moves.
struct FixedClock(Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Time-ordered UUIDv7 ids counting up from the clock's instant, one millisecond apart.
struct CountingIds {
    base_ms: u64,
    next: AtomicU64,
}

impl IdGen for CountingIds {
    fn new_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        uuid::Builder::from_unix_timestamp_millis(self.base_ms + n, &[0; 10]).into_uuid()
    }
}

/// The outbox payload an embedder without webhooks might keep: the event name and the subject.
struct NameOnly;

impl EventEncoder for NameOnly {
    fn encode(&self, event: &DomainEvent<'_>) -> String {
        format!(r#"{{"event":"{}"}}"#, event.name())
    }
}

/// What the example did, for its test.
#[derive(Debug)]
pub struct Outcome {
    pub before: Vec<Slot>,
    pub booked: Booking,
    pub after: Vec<Slot>,
}

/// Sets up the store, lists, books, lists again; prints every step to `out`.
pub async fn run(out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let now: Timestamp = NOW.parse()?;
    let store = Arc::new(MemoryStore::new());
    let ids = Arc::new(CountingIds {
        base_ms: u64::try_from(now.as_millisecond())?,
        next: AtomicU64::new(0),
    });
    let id = || ids.new_id();

    let org = Organization {
        id: OrganizationId(id()),
        name: "Example GmbH".into(),
        plan: None,
        created_at: now,
    };
    store.create_organization(&org).await?;
    let host = User {
        id: UserId(id()),
        organization_id: org.id,
        username: Some(Username::parse("ada").map_err(anyhow::Error::msg)?),
        email: Email::parse("ada@example.com").map_err(anyhow::Error::msg)?,
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        timezone: Some("Europe/Berlin".into()),
        locale: None,
        avatar_url: None,
        role: Role::Owner,
        password_hash: None,
        created_at: now,
    };
    store.create_user(&host).await?;

    let berlin = Zone::parse("Europe/Berlin").map_err(anyhow::Error::msg)?;
    let nine_to_five = LocalRange::new(
        TimeOfDay::new(9, 0).context("09:00")?,
        TimeOfDay::new(17, 0).context("17:00")?,
    )
    .map_err(anyhow::Error::msg)?;
    let schedule = Schedule {
        id: ScheduleId(id()),
        organization_id: org.id,
        user_id: host.id,
        name: "Office hours".into(),
        zone: berlin.clone(),
        rules: vec![WeeklyRule {
            days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            range: nine_to_five,
        }],
        overrides: vec![],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store.create_schedule(&schedule).await?;
    writeln!(
        out,
        "schedule '{}': Mon-Fri 09:00-17:00 {}",
        schedule.name,
        berlin.name()
    )?;

    let event_type = EventType {
        id: EventTypeId(id()),
        organization_id: org.id,
        owner_user_id: host.id,
        slug: "intro".into(),
        title: "Intro call".into(),
        description: None,
        duration_minutes: 30,
        slot_interval_minutes: 30,
        active: true,
        scheduling_type: SchedulingType::Individual,
        hosts: vec![Host {
            user_id: host.id,
            schedule_id: schedule.id,
        }],
        color: "#7c3aed".into(),
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        minimum_notice_hours: 2,
        future_limit_days: 60,
        limits: BookingLimits::default(),
        seats: 1,
        requires_confirmation: false,
        allow_reschedule: true,
        allow_cancel: true,
        locations: vec![],
        questions: vec![],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store.create_event_type(&event_type).await?;
    writeln!(
        out,
        "event type '{}': {} minutes, hosted by {}",
        event_type.title,
        event_type.duration_minutes,
        host.email.as_str()
    )?;

    let week = Interval::new(WEEK.0.parse()?, WEEK.1.parse()?).context("the week")?;
    let before = list_week(&store, &event_type, week, now).await?;
    print_week(out, "before", &before, &berlin)?;

    let deps = Deps {
        store: store.clone(),
        clock: Arc::new(FixedClock(now)),
        ids: ids.clone(),
        encoder: Arc::new(NameOnly),
    };
    let start: Timestamp = BOOK.parse()?;
    let booked = deps
        .create_booking(
            &event_type,
            NewBooking {
                start,
                timezone: None,
                attendee: Attendee {
                    email: "grace@example.com".into(),
                    name: "Grace Hopper".into(),
                    first_name: None,
                    last_name: None,
                    phone: None,
                    timezone: Some("Europe/Berlin".into()),
                    sms_opt_in: false,
                },
                guests: vec![],
                metadata: None,
                responses: None,
                utm: Utm::default(),
            },
            None,
        )
        .await?;
    writeln!(
        out,
        "booked {} for {} at {} ({}), status {}",
        booked.uid,
        booked.attendees[0].email,
        local(booked.start, &berlin),
        booked.start,
        booked.status.as_str()
    )?;

    let after = list_week(&store, &event_type, week, now).await?;
    print_week(out, "after", &after, &berlin)?;
    Ok(Outcome {
        before,
        booked,
        after,
    })
}

/// The bookable slots of `week`: the store loads what the slot engine needs, the engine decides.
async fn list_week(
    store: &MemoryStore,
    event_type: &EventType,
    week: Interval,
    now: Timestamp,
) -> anyhow::Result<Vec<Slot>> {
    let inputs = store.slot_inputs(event_type, week, now).await?;
    Ok(slots::list_slots(&inputs, week).slots)
}

/// `Tue 2026-03-24 10:00` in `zone`.
fn local(t: Timestamp, zone: &Zone) -> String {
    t.to_zoned(zone.tz().clone())
        .strftime("%a %Y-%m-%d %H:%M")
        .to_string()
}

/// One line per local day: how many slots, the first and the last.
fn print_week(out: &mut dyn Write, label: &str, slots: &[Slot], zone: &Zone) -> anyhow::Result<()> {
    writeln!(out, "slots {label} booking: {} in the week", slots.len())?;
    let mut days: Vec<(jiff::civil::Date, Vec<&Slot>)> = Vec::new();
    for s in slots {
        let date = zone.date_of(s.start);
        match days.last_mut() {
            Some((d, list)) if *d == date => list.push(s),
            _ => days.push((date, vec![s])),
        }
    }
    for (date, list) in days {
        let hm = |s: &Slot| {
            s.start
                .to_zoned(zone.tz().clone())
                .strftime("%H:%M")
                .to_string()
        };
        let (first, last) = (list[0], list[list.len() - 1]);
        let step = SignedDuration::from_mins(30);
        let gaps: Vec<String> = list
            .windows(2)
            .filter(|w| w[1].start.duration_since(w[0].start) != step)
            .map(|w| format!("gap after {}", hm(w[0])))
            .collect();
        writeln!(
            out,
            "  {}: {:>2} slots {}-{}{}",
            date.strftime("%a %Y-%m-%d"),
            list.len(),
            hm(first),
            hm(last),
            if gaps.is_empty() {
                String::new()
            } else {
                format!(" ({})", gaps.join(", "))
            }
        )?;
    }
    Ok(())
}

#[allow(dead_code)] // the test includes this file and calls `run` instead
fn main() -> anyhow::Result<()> {
    futures::executor::block_on(run(&mut std::io::stdout().lock()))?;
    Ok(())
}
