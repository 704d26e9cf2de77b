//! Demo data: organization "Demo", owner `demo` (demo@example.com, Europe/Berlin), a Mon–Fri
//! 09:00–17:00 schedule, an active 30-minute individual event type `intro-call`, and a personal
//! access token with every active and reserved scope, valid for 90 days.
//!
//! Idempotent-ish: when the `demo` user exists, missing pieces are added and a new token is
//! minted for it. [`instructions`] renders the token and ready-to-paste `curl` commands.

use crate::admin::{self, AdminContext, Expiry, NewEventType, NewSchedule, NewToken, NewUser};
use domain::access::ACTIVE_AND_RESERVED_SCOPES;
use domain::availability::{Schedule, TimeOfDay};
use domain::event_type::EventType;
use domain::organization::{Organization, Role, User};
use domain::ports::PersonalAccessToken;
use jiff::Timestamp;
use jiff::civil::Weekday;
use secrecy::{ExposeSecret as _, SecretString};

pub const DEMO_ORG: &str = "Demo";
pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_TIMEZONE: &str = "Europe/Berlin";
pub const DEMO_SLUG: &str = "intro-call";

/// What [`demo`] created or found.
pub struct DemoData {
    pub organization: Organization,
    pub user: User,
    pub schedule: Schedule,
    pub event_type: EventType,
    pub token: PersonalAccessToken,
    /// The token text; show it once.
    pub secret: SecretString,
    /// False when the demo user already existed.
    pub created: bool,
}

/// Creates the demo data, or mints a new token for the existing `demo` user.
pub async fn demo(ctx: &AdminContext) -> anyhow::Result<DemoData> {
    let (organization, user, created) = match find_demo_user(ctx).await? {
        Some((org, user)) => (org, user, false),
        None => {
            let org = admin::create_org(ctx, DEMO_ORG).await?;
            let user = admin::create_user(
                ctx,
                NewUser {
                    org: org.id,
                    email: DEMO_EMAIL.into(),
                    username: DEMO_USERNAME.into(),
                    role: Role::Owner,
                    first_name: Some("Demo".into()),
                    last_name: Some("User".into()),
                    timezone: Some(DEMO_TIMEZONE.into()),
                    password: None,
                },
            )
            .await?;
            (org, user, true)
        }
    };
    let org = organization.id;
    let schedule = match ctx
        .store
        .list_schedules(org, Some(user.id))
        .await?
        .into_iter()
        .next()
    {
        Some(s) => s,
        None => {
            admin::create_schedule(
                ctx,
                NewSchedule {
                    org,
                    user: user.id,
                    name: "Working hours".into(),
                    timezone: DEMO_TIMEZONE.into(),
                    rules: admin::parse_rule("mon-fri 09:00-17:00").map_err(anyhow::Error::msg)?,
                    overrides: Vec::new(),
                },
            )
            .await?
        }
    };
    let event_type = match ctx
        .store
        .find_event_type(org, DEMO_USERNAME, DEMO_SLUG)
        .await?
    {
        Some(e) => e,
        None => {
            let mut new = NewEventType::individual(org, user.id, DEMO_SLUG, "Intro call", 30);
            new.description = Some("A 30-minute introduction.".into());
            admin::create_event_type(ctx, new).await?
        }
    };
    let name = if created {
        "demo".to_owned()
    } else {
        format!("demo {}", ctx.clock.now())
    };
    let (token, secret) = admin::create_token(
        ctx,
        NewToken {
            org,
            user: user.id,
            name,
            scopes: ACTIVE_AND_RESERVED_SCOPES.join(" "),
            expiry: Expiry::Days(90),
        },
    )
    .await?;
    Ok(DemoData {
        organization,
        user,
        schedule,
        event_type,
        token,
        secret,
        created,
    })
}

async fn find_demo_user(ctx: &AdminContext) -> anyhow::Result<Option<(Organization, User)>> {
    for org in ctx.store.list_organizations().await? {
        if let Some(user) = ctx
            .store
            .find_user_by_username(org.id, DEMO_USERNAME)
            .await?
        {
            return Ok(Some((org, user)));
        }
    }
    Ok(None)
}

/// The token (shown once) and `curl` commands against `base_url` for the demo data; `now`
/// picks the dates in the examples (a slot window of the next 7 days and a booking at 10:00
/// Berlin time on the next weekday).
pub fn instructions(data: &DemoData, base_url: &str, now: Timestamp) -> String {
    let zone = data.schedule.zone.clone();
    let today = zone.date_of(now);
    let week_later = today
        .checked_add(jiff::Span::new().days(7))
        .unwrap_or(today);
    let mut day = today.tomorrow().unwrap_or(today);
    while matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
        day = day.tomorrow().unwrap_or(day);
    }
    let ten = TimeOfDay::new(10, 0).unwrap_or(TimeOfDay::MIDNIGHT);
    let start = zone
        .instant(day, ten)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_default();
    let et = data.event_type.id;
    let tz = zone.name().to_owned();
    let token = data.secret.expose_secret();
    let expires = data
        .token
        .expires_at
        .map(|t| t.to_string())
        .unwrap_or_else(|| "never".into());
    format!(
        r#"Demo organization: {org_name} ({org})
Demo user: {username} <{email}> ({user}), role owner
Event type: {username}/{slug} ({et}), 30 minutes, Mon-Fri 09:00-17:00 {tz}
Booking page (open it in a browser): {base}/{username}/{slug}

Personal access token "{token_name}" (shown once; expires {expires}):

    export TOKEN={token}

Try it while the server runs (`slotbook serve`):

    curl -H "Authorization: Bearer $TOKEN" {base}/v1/_ping
    curl -H "Authorization: Bearer $TOKEN" "{base}/v1/slots?event_type_id={et}&start={today}&end={week_later}&timezone={tz}"
    curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -H "Idempotency-Key: demo-booking-1" {base}/v1/bookings -d '{{"event_type_id":"{et}","start":"{start}","attendee":{{"email":"ada@example.com","name":"Ada Lovelace","timezone":"{tz}"}}}}'
"#,
        org_name = data.organization.name,
        org = data.organization.id,
        username = DEMO_USERNAME,
        email = data.user.email,
        user = data.user.id,
        slug = data.event_type.slug,
        token_name = data.token.name,
        base = base_url.trim_end_matches('/'),
    )
}
