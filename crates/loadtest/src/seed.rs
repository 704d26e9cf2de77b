//! The benchmark organization, created through `server::admin` (the functions `slotbook admin`
//! runs) against the database file before the server starts, with the pepper the server will
//! be given: ten hosts (the first the owner) with a 24/7 Europe/Berlin schedule, a round-robin
//! event type over the first five (30-minute duration, 15-minute interval), another over all
//! ten (`round-robin-10`, same settings; the `bench-http` slot-response scenario), a 5-minute
//! individual event type of the first host for booking writes, a 30-minute individual event type
//! of the first host for the booking page (`/host0/month`), all without a future limit, and a
//! personal access token with every scope.

use domain::access::ACTIVE_AND_RESERVED_SCOPES;
use domain::event_type::SchedulingType;
use domain::organization::Role;
use secrecy::ExposeSecret as _;
use server::admin::{self, AdminContext, Expiry, NewEventType, NewSchedule, NewToken, NewUser};
use server::wiring::{SystemClock, UuidV7};
use std::sync::Arc;

/// The zone of every schedule.
pub const ZONE: &str = "Europe/Berlin";
/// Number of hosts (all in the ten-host round robin).
pub const HOSTS: usize = 10;
/// Hosts of the first round-robin event type.
pub const RR_HOSTS: usize = 5;

/// What the benchmark needs to know about the seeded data.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub organization: domain::OrganizationId,
    /// The full-scope personal access token (a throwaway: the database dies with the run).
    pub token: String,
    /// The round-robin event type over the first [`RR_HOSTS`] hosts.
    pub round_robin_event_type: String,
    /// The round-robin event type over all [`HOSTS`] hosts.
    pub round_robin_10_event_type: String,
    /// The 5-minute individual event type for booking writes.
    pub booking_event_type: String,
    /// The host user ids.
    pub hosts: Vec<String>,
    /// The 30-minute individual event type of the first host whose booking page is measured.
    pub page_event_type: String,
    /// Its page, `/<username>/<slug>`.
    pub page_path: String,
}

/// Opens and migrates `database_url`, seeds it, and closes it again.
pub async fn seed(database_url: &str, pepper: &str) -> anyhow::Result<Seeded> {
    let opened = server::wiring::open_store(database_url).await?;
    let ctx = AdminContext {
        store: opened.storage.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7),
        pepper: auth::Pepper::new(pepper.as_bytes().to_vec()),
    };
    let org = admin::create_org(&ctx, "Loadtest").await?;
    let mut hosts = Vec::with_capacity(HOSTS);
    for i in 0..HOSTS {
        let username = format!("host{i}");
        let user = admin::create_user(
            &ctx,
            NewUser {
                org: org.id,
                email: format!("{username}@example.com"),
                username,
                role: if i == 0 { Role::Owner } else { Role::Member },
                first_name: Some("Host".to_owned()),
                last_name: Some(i.to_string()),
                timezone: Some(ZONE.to_owned()),
                password: None,
            },
        )
        .await?;
        admin::create_schedule(
            &ctx,
            NewSchedule {
                org: org.id,
                user: user.id,
                name: "Always".to_owned(),
                timezone: ZONE.to_owned(),
                rules: admin::parse_rule("mon-sun 00:00-24:00").map_err(anyhow::Error::msg)?,
                overrides: Vec::new(),
            },
        )
        .await?;
        hosts.push(user.id);
    }
    let owner = *hosts
        .first()
        .ok_or_else(|| anyhow::anyhow!("no host created"))?;

    let mut rr = NewEventType::individual(org.id, owner, "round-robin", "Round robin", 30);
    rr.scheduling_type = SchedulingType::RoundRobin;
    rr.hosts = hosts.iter().take(RR_HOSTS).copied().collect();
    rr.interval_minutes = Some(15);
    rr.future_limit_days = 0;
    let rr = admin::create_event_type(&ctx, rr).await?;

    let mut rr10 = NewEventType::individual(org.id, owner, "round-robin-10", "Round robin 10", 30);
    rr10.scheduling_type = SchedulingType::RoundRobin;
    rr10.hosts = hosts.clone();
    rr10.interval_minutes = Some(15);
    rr10.future_limit_days = 0;
    let rr10 = admin::create_event_type(&ctx, rr10).await?;

    let mut quick = NewEventType::individual(org.id, owner, "quick", "Quick call", 5);
    quick.interval_minutes = Some(5);
    quick.future_limit_days = 0;
    let quick = admin::create_event_type(&ctx, quick).await?;

    let mut month = NewEventType::individual(org.id, owner, "month", "Month view", 30);
    month.future_limit_days = 0;
    let month = admin::create_event_type(&ctx, month).await?;

    let (_, secret) = admin::create_token(
        &ctx,
        NewToken {
            org: org.id,
            user: owner,
            name: "loadtest".to_owned(),
            scopes: ACTIVE_AND_RESERVED_SCOPES.join(" "),
            expiry: Expiry::Days(42),
        },
    )
    .await?;
    Ok(Seeded {
        organization: org.id,
        token: secret.expose_secret().to_owned(),
        round_robin_event_type: rr.id.to_string(),
        round_robin_10_event_type: rr10.id.to_string(),
        booking_event_type: quick.id.to_string(),
        hosts: hosts.iter().map(ToString::to_string).collect(),
        page_event_type: month.id.to_string(),
        page_path: "/host0/month".to_owned(),
    })
}
