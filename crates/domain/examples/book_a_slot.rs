//! Book a slot with nothing but `domain` and the in-memory store: a host whose schedule is
//! Monday–Friday 09:00–17:00 in Europe/Berlin, a 30-minute event type, the slots of one week,
//! one booking, and the week again (one slot fewer).
//!
//! Run it with `cargo run -p domain --example book_a_slot`. Everything goes through the same
//! application services the HTTP API calls (directory, schedules, event types, slots,
//! bookings), so every rule applies. No database, no async runtime (a plain `block_on`), no
//! system clock: the clock stands at a fixed instant so the output is the same on every run.
//! `crates/domain/tests/book_a_slot.rs` runs this file and checks what it claims.

use domain::availability::{NewSchedule, RuleRequest, Zone};
use domain::booking::{Attendee, Booking, Utm};
use domain::booking_service::{BookingService, NewBooking};
use domain::directory_service::{DirectoryService, NewUser, Password, PasswordHasher};
use domain::event_type::{EventTypeRef, HostRequest, NewEventType};
use domain::event_type_service::EventTypeService;
use domain::organization::Role;
use domain::ports::{Clock, DomainEvent, EventEncoder, IdGen};
use domain::schedule_service::ScheduleService;
use domain::slot_service::{SlotQuery, SlotService};
use domain::slots::Slot;
use jiff::{SignedDuration, Timestamp};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use store_memory::MemoryStore;
use uuid::Uuid;

/// Where the example's clock stands: Friday 2026-03-20, 12:00 UTC.
const NOW: &str = "2026-03-20T12:00:00Z";
/// The week listed, as plain dates in the event type's zone: Monday 2026-03-23 up to Monday
/// 2026-03-30 (the clocks go forward on Sunday the 29th).
const WEEK: (&str, &str) = ("2026-03-23", "2026-03-30");
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

/// The outbox payload an embedder without webhooks might keep: just the event name.
struct NameOnly;

impl EventEncoder for NameOnly {
    fn encode(&self, event: &DomainEvent<'_>) -> String {
        format!(r#"{{"event":"{}"}}"#, event.name())
    }
}

/// This example signs nobody in, so it never hashes a password.
struct NoPasswords;

#[async_trait::async_trait]
impl PasswordHasher for NoPasswords {
    async fn hash(&self, _: &Password) -> anyhow::Result<String> {
        anyhow::bail!("the example creates no passwords")
    }
}

/// What the example did, for its test.
#[derive(Debug)]
pub struct Outcome {
    pub before: Vec<Slot>,
    pub booked: Booking,
    pub after: Vec<Slot>,
}

/// Sets up the store and the services, lists, books, lists again; prints every step to `out`.
pub async fn run(out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let now: Timestamp = NOW.parse()?;
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock(now));
    let ids = Arc::new(CountingIds {
        base_ms: u64::try_from(now.as_millisecond())?,
        next: AtomicU64::new(0),
    });
    let encoder = Arc::new(NameOnly);
    let directory = DirectoryService::new(
        store.clone(),
        Arc::new(NoPasswords),
        clock.clone(),
        ids.clone(),
    );
    let schedules = ScheduleService::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        ids.clone(),
        encoder.clone(),
    );
    let event_types = EventTypeService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        clock.clone(),
        ids.clone(),
        encoder.clone(),
    );
    let slots = SlotService::new(store.clone(), store.clone(), store.clone(), clock.clone());
    let bookings = BookingService::over(store.clone(), clock.clone(), ids.clone(), encoder.clone());

    let org = directory.create_organization("Example GmbH").await?;
    let host = directory
        .create_user(
            org.id,
            NewUser {
                email: "ada@example.com".into(),
                username: "ada".into(),
                role: Role::Owner,
                first_name: Some("Ada".into()),
                last_name: Some("Lovelace".into()),
                timezone: Some("Europe/Berlin".into()),
                password: None,
            },
        )
        .await?;

    let schedule = schedules
        .create(
            org.id,
            host.id,
            NewSchedule {
                name: Some("Office hours".into()),
                timezone: Some("Europe/Berlin".into()),
                rules: vec![RuleRequest {
                    days: ["mon", "tue", "wed", "thu", "fri"]
                        .map(String::from)
                        .to_vec(),
                    start: "09:00".into(),
                    end: "17:00".into(),
                }],
                ..NewSchedule::default()
            },
        )
        .await?;
    writeln!(
        out,
        "schedule '{}': Mon-Fri 09:00-17:00 {}",
        schedule.name,
        schedule.zone.name()
    )?;

    let event_type = event_types
        .create(
            org.id,
            NewEventType {
                slug: Some("intro".into()),
                title: Some("Intro call".into()),
                duration_minutes: Some(30),
                minimum_notice_hours: Some(2),
                future_limit_days: Some(60),
                hosts: Some(vec![HostRequest {
                    user_id: host.id,
                    schedule_id: Some(schedule.id),
                }]),
                ..NewEventType::default()
            },
        )
        .await?
        .value;
    writeln!(
        out,
        "event type '{}': {} minutes, hosted by {}",
        event_type.title,
        event_type.duration_minutes,
        host.email.as_str()
    )?;

    let week = SlotQuery {
        event_type: EventTypeRef::Id(event_type.id),
        start: WEEK.0.into(),
        end: WEEK.1.into(),
        timezone: None,
    };
    let listing = slots.list(org.id, &week).await?;
    let zone = listing.zone.clone();
    let before = listing.slots.slots;
    print_week(out, "before", &before, &zone)?;

    let start: Timestamp = BOOK.parse()?;
    let booked = bookings
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
        local(booked.start, &zone),
        booked.start,
        booked.status.as_str()
    )?;

    let after = slots.list(org.id, &week).await?.slots.slots;
    print_week(out, "after", &after, &zone)?;
    Ok(Outcome {
        before,
        booked,
        after,
    })
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
