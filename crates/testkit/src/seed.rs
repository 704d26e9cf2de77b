//! Fixture seeding through the administrative functions the CLI uses (`server::admin`). Where
//! a fixture needs a shape the CLI cannot express (another schedule for a host, an inactive
//! event type, rescheduling disabled), the event type is created by the admin function and then
//! edited through the storage port, as a dashboard edit would.

use crate::app::{EventTypeSpec, Host, Minted, OrgFixture};
use crate::client::ApiClient;
use crate::clock::TestClock;
use domain::event_type::SchedulingType;
use domain::organization::Role;
use domain::{EventTypeId, OrganizationId, ScheduleId, TokenId, UserId};
use secrecy::ExposeSecret as _;
use server::admin::{self, AdminContext};
use uuid::Uuid;

/// Creates an organization with an owner host, the fixture event types and a full-scope token.
pub async fn organization(
    ctx: &AdminContext,
    clock: &TestClock,
    anon: &ApiClient,
    name: &str,
    username: &str,
) -> OrgFixture {
    let org = admin::create_org(ctx, name).await.expect("create_org");
    let owner = host(ctx, org.id, username).await;
    let email = format!("{username}@example.com");
    let mut fixture = OrgFixture {
        org_id: org.id.0,
        name: name.to_owned(),
        owner,
        email,
        event_type_id: Uuid::nil(),
        event_type_slug: "intro-call".to_owned(),
        workday_event_type_id: Uuid::nil(),
        token: Minted {
            id: Uuid::nil(),
            token: String::new(),
        },
        api: anon.clone(),
    };
    fixture.event_type_id = event_type(
        ctx,
        clock,
        &fixture,
        EventTypeSpec::individual("intro-call"),
    )
    .await;
    let mut workday = EventTypeSpec::individual("workday-call");
    workday.hosts = vec![(fixture.owner.user_id, fixture.owner.schedule_workdays)];
    fixture.workday_event_type_id = event_type(ctx, clock, &fixture, workday).await;
    fixture.token = token(
        ctx,
        org.id.0,
        fixture.owner.user_id,
        crate::ALL_SCOPES,
        None,
    )
    .await;
    fixture.api = anon.with_token(Some(&fixture.token.token));
    fixture
}

/// An owner-role user (Europe/Berlin) with the all-day schedule (their first, so the admin
/// functions pick it by default) and the workday schedule.
pub async fn host(ctx: &AdminContext, org: OrganizationId, username: &str) -> Host {
    let first = capitalize(username);
    let user = admin::create_user(
        ctx,
        admin::NewUser {
            org,
            email: format!("{username}@example.com"),
            username: username.to_owned(),
            role: Role::Owner,
            first_name: Some(first),
            last_name: Some("Tester".to_owned()),
            timezone: Some(crate::time::BERLIN.to_owned()),
            password: None,
        },
    )
    .await
    .expect("create_user");
    let all_day = schedule(ctx, org, user.id, "All day", "mon-sun 00:00-24:00").await;
    let workdays = schedule(ctx, org, user.id, "Workdays", "mon-fri 09:00-17:00").await;
    Host {
        user_id: user.id.0,
        username: username.to_owned(),
        schedule_all_day: all_day,
        schedule_workdays: workdays,
    }
}

/// Creates a Europe/Berlin schedule from a CLI rule spec such as `mon-fri 09:00-17:00`.
pub async fn schedule(
    ctx: &AdminContext,
    org: OrganizationId,
    user: UserId,
    name: &str,
    rule: &str,
) -> Uuid {
    let s = admin::create_schedule(
        ctx,
        admin::NewSchedule {
            org,
            user,
            name: name.to_owned(),
            timezone: crate::time::BERLIN.to_owned(),
            rules: admin::parse_rule(rule).expect("rule"),
            overrides: Vec::new(),
        },
    )
    .await
    .expect("create_schedule");
    s.id.0
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Creates an event type with the admin function, then applies what the CLI cannot say.
pub async fn event_type(
    ctx: &AdminContext,
    clock: &TestClock,
    org: &OrgFixture,
    spec: EventTypeSpec,
) -> Uuid {
    let org_id = OrganizationId(org.org_id);
    let scheduling_type = SchedulingType::parse(spec.scheduling_type).expect("scheduling type");
    let mut new = admin::NewEventType::individual(
        org_id,
        UserId(org.owner.user_id),
        &spec.slug,
        &spec.title,
        spec.duration_minutes,
    );
    new.scheduling_type = scheduling_type;
    new.hosts = spec.hosts.iter().map(|(u, _)| UserId(*u)).collect();
    new.seats = (scheduling_type == SchedulingType::Group).then_some(spec.seats);
    new.buffer_before_minutes = spec.buffer_before_minutes;
    new.buffer_after_minutes = spec.buffer_after_minutes;
    new.minimum_notice_hours = spec.minimum_notice_hours;
    new.future_limit_days = spec.future_limit_days;
    let created = admin::create_event_type(ctx, new)
        .await
        .expect("create_event_type");
    // Distinct creation instants keep `created_at` orderings deterministic.
    clock.advance(jiff::SignedDuration::from_secs(1));
    let mut edited = created.clone();
    for (host, (_, schedule)) in edited.hosts.iter_mut().zip(&spec.hosts) {
        host.schedule_id = ScheduleId(*schedule);
    }
    edited.active = spec.active;
    edited.allow_reschedule = spec.allow_reschedule;
    if edited != created {
        edited.version += 1;
        ctx.store
            .update_event_type(&edited, created.version, &[])
            .await
            .expect("update_event_type");
    }
    created.id.0
}

/// Switches an event type on or off through the store port.
pub async fn set_active(ctx: &AdminContext, org: &OrgFixture, id: Uuid, active: bool) {
    let org_id = OrganizationId(org.org_id);
    let mut et = ctx
        .store
        .get_event_type(org_id, EventTypeId(id))
        .await
        .expect("get_event_type")
        .expect("event type exists");
    let expected = et.version;
    et.active = active;
    et.version += 1;
    ctx.store
        .update_event_type(&et, expected, &[])
        .await
        .expect("update_event_type");
}

/// Mints a token for `user` of `org`.
pub async fn token(
    ctx: &AdminContext,
    org: Uuid,
    user: Uuid,
    scopes: &[&str],
    expires_in_days: Option<u32>,
) -> Minted {
    let expiry = match expires_in_days {
        None => admin::Expiry::Never,
        Some(d) => admin::Expiry::Days(u16::try_from(d).expect("expiry days")),
    };
    let created = admin::create_token(
        ctx,
        admin::NewToken {
            org: OrganizationId(org),
            user: UserId(user),
            name: format!("test-{}", Uuid::new_v4().simple()),
            scopes: scopes.join(" "),
            expiry,
        },
    )
    .await
    .expect("create_token");
    let (pat, secret) = created;
    Minted {
        id: pat.id.0,
        token: secret.expose_secret().to_owned(),
    }
}

/// Revokes a token.
pub async fn revoke(ctx: &AdminContext, org: &OrgFixture, token: &Minted) {
    admin::revoke_token(ctx, OrganizationId(org.org_id), TokenId(token.id))
        .await
        .expect("revoke_token");
}
