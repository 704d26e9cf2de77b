//! Shared fixtures for the SQLite store's own tests and benchmark: a migrated store on a fresh
//! temp file and terse builders for an organization, a host with a 24/7 schedule, an event type
//! and bookings. Test-only; never part of the library.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use domain::availability::Schedule;
use domain::booking::{Attendee, Booking};
use domain::event_type::EventType;
use domain::fixtures::{BookingBuilder, EventTypeBuilder, ScheduleBuilder};
use domain::ids::*;
use domain::organization::{Organization, Role, User, Username};
use domain::ports::{DirectoryStore, EventTypeStore, ScheduleStore};
use domain::validate::Email;
use jiff::Timestamp;
use std::path::PathBuf;
use store_sqlite::SqliteStore;
use uuid::Uuid;

/// A fresh temp directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("store-sqlite-{tag}-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn url(&self, file: &str) -> String {
        format!("sqlite://{}", self.0.join(file).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated store on a new database file; keep the `TempDir` alive as long as the store.
pub async fn file_store(tag: &str) -> (SqliteStore, TempDir) {
    let dir = TempDir::new(tag);
    let store = SqliteStore::connect(&dir.url("slotbook.db")).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// One organization with one host whose schedule is open 24/7, and an event type of theirs.
pub struct World {
    pub org: Organization,
    pub host: User,
    pub schedule: Schedule,
    pub event_type: EventType,
}

pub fn organization(now: Timestamp) -> Organization {
    Organization {
        id: OrganizationId(new_id()),
        name: "Acme".into(),
        plan: Some("team".into()),
        created_at: now,
    }
}

pub fn user(org: OrganizationId, username: &str, email: &str, now: Timestamp) -> User {
    User {
        id: UserId(new_id()),
        organization_id: org,
        username: Some(Username::parse(username).unwrap()),
        email: Email::parse(email).unwrap(),
        first_name: Some("Ada".into()),
        last_name: None,
        timezone: Some("Europe/Paris".into()),
        locale: None,
        avatar_url: None,
        role: Role::Owner,
        password_hash: None,
        created_at: now,
    }
}

pub fn always_open(org: OrganizationId, user: UserId, now: Timestamp) -> Schedule {
    ScheduleBuilder::new(ScheduleId(new_id()), org, user)
        .at(now)
        .build()
}

pub fn event_type(
    org: OrganizationId,
    owner: UserId,
    schedule: ScheduleId,
    slug: &str,
    now: Timestamp,
) -> EventType {
    EventTypeBuilder::new(EventTypeId(new_id()), org, slug)
        .host(owner, schedule)
        .at(now)
        .build()
}

/// Creates an organization, a host, their schedule and an event type in `store`.
pub async fn world(store: &SqliteStore, username: &str) -> World {
    let now = ts("2026-01-01T00:00:00Z");
    let org = organization(now);
    store.create_organization(&org).await.unwrap();
    let host = user(org.id, username, &format!("{username}@example.com"), now);
    store.create_user(&host).await.unwrap();
    let schedule = always_open(org.id, host.id, now);
    store.create_schedule(&schedule).await.unwrap();
    let event_type = event_type(org.id, host.id, schedule.id, "intro", now);
    store.create_event_type(&event_type).await.unwrap();
    World {
        org,
        host,
        schedule,
        event_type,
    }
}

pub fn attendee(email: &str) -> Attendee {
    Attendee {
        email: email.into(),
        name: "Grace".into(),
        first_name: None,
        last_name: None,
        phone: None,
        timezone: Some("UTC".into()),
        sms_opt_in: false,
    }
}

/// A confirmed booking of `et` at `start` by its first host, created at `start`.
pub fn booking(et: &EventType, start: Timestamp) -> Booking {
    BookingBuilder::of(BookingUid(new_id()), et, et.hosts[0].user_id, start)
        .attendees(vec![attendee("grace@example.com")])
        .build()
}
