//! The administrative use cases against a temporary SQLite file.

use crate::support::{context, is_pat, pepper};
use domain::event_type::SchedulingType;
use domain::organization::Role;
use domain::ports::{CreatePatError, MAX_ACTIVE_PATS};
use secrecy::{ExposeSecret as _, SecretString};
use server::admin::{
    self, AdminContext, AdminError, Expiry, NewEventType, NewSchedule, NewToken, NewUser,
    TokenStatus,
};
use server::demo;

fn new_user(org: domain::OrganizationId, username: &str, role: Role) -> NewUser {
    NewUser {
        org,
        email: format!("{username}@example.com"),
        username: username.into(),
        role,
        first_name: Some("Ada".into()),
        last_name: None,
        timezone: Some("Europe/Berlin".into()),
        password: None,
    }
}

fn token(org: domain::OrganizationId, user: domain::UserId, name: &str) -> NewToken {
    NewToken {
        org,
        user,
        name: name.into(),
        scopes: "bookings:write slots:read".into(),
        expiry: Expiry::Days(42),
    }
}

async fn schedule_for(ctx: &AdminContext, org: domain::OrganizationId, user: domain::UserId) {
    admin::create_schedule(
        ctx,
        NewSchedule {
            org,
            user,
            name: "Work".into(),
            timezone: "Europe/Berlin".into(),
            rules: admin::parse_rule("mon-fri 09:00-17:00").unwrap(),
            overrides: vec![admin::parse_override("2026-12-24 off").unwrap()],
        },
    )
    .await
    .unwrap();
}

fn admin_error(e: &anyhow::Error) -> &AdminError {
    e.downcast_ref::<AdminError>()
        .unwrap_or_else(|| panic!("expected an AdminError, got {e:#}"))
}

#[tokio::test]
async fn org_user_schedule_event_type_and_token() {
    let (ctx, _dir) = context().await;
    let org = admin::create_org(&ctx, "Acme").await.unwrap();
    assert_eq!(admin::list_orgs(&ctx).await.unwrap(), vec![org.clone()]);

    let owner = admin::create_user(&ctx, new_user(org.id, "ada", Role::Owner))
        .await
        .unwrap();
    let users = admin::list_users(&ctx, org.id).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, owner.id);
    assert_eq!(users[0].role, Role::Owner);

    schedule_for(&ctx, org.id, owner.id).await;
    let schedules = admin::list_schedules(&ctx, org.id).await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].zone.name(), "Europe/Berlin");
    assert_eq!(schedules[0].rules.len(), 1);
    assert_eq!(schedules[0].overrides.len(), 1);

    let mut new = NewEventType::individual(org.id, owner.id, "intro", "Intro", 30);
    new.interval_minutes = Some(15);
    new.buffer_after_minutes = 5;
    let et = admin::create_event_type(&ctx, new).await.unwrap();
    assert_eq!(et.hosts.len(), 1);
    assert_eq!(
        et.hosts[0].schedule_id, schedules[0].id,
        "host uses their schedule"
    );
    assert_eq!(et.slot_interval_minutes, 15);
    assert!(et.active);
    let listed = admin::list_event_types(&ctx, org.id).await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![et.id]);

    let (pat, secret) = admin::create_token(&ctx, token(org.id, owner.id, "ci"))
        .await
        .unwrap();
    let text = secret.expose_secret();
    assert!(is_pat(text), "{text}");
    assert_eq!(pat.last_four, &text[text.len() - 4..]);
    assert_eq!(pat.lookup, &text[10..22]);
    let parsed = auth::pat::parse(text).unwrap();
    assert!(auth::pat::verify(&pepper(), &parsed, &pat.secret_hash));
    // Aliases are expanded at grant time.
    let scopes: Vec<&str> = pat.scopes.iter().collect();
    assert_eq!(
        scopes,
        vec![
            "bookings:cancel",
            "bookings:create",
            "bookings:reschedule",
            "bookings:update",
            "slots:read"
        ]
    );
    let expires = pat.expires_at.unwrap();
    assert_eq!(
        expires.duration_since(pat.created_at),
        jiff::SignedDuration::from_hours(42 * 24)
    );

    let stored = admin::list_tokens(&ctx, org.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, pat.id);
    assert_eq!(stored[0].scopes, pat.scopes);
    assert_eq!(
        TokenStatus::of(&stored[0], ctx.clock.now()),
        TokenStatus::Active
    );

    admin::revoke_token(&ctx, org.id, pat.id).await.unwrap();
    let stored = admin::list_tokens(&ctx, org.id).await.unwrap();
    assert_eq!(
        TokenStatus::of(&stored[0], ctx.clock.now()),
        TokenStatus::Revoked
    );
    let again = admin::revoke_token(&ctx, org.id, pat.id).await.unwrap_err();
    assert!(matches!(admin_error(&again), AdminError::TokenNotFound(_)));
}

#[tokio::test]
async fn the_43rd_active_token_is_refused_until_one_is_revoked() {
    let (ctx, _dir) = context().await;
    let org = admin::create_org(&ctx, "Acme").await.unwrap();
    let owner = admin::create_user(&ctx, new_user(org.id, "ada", Role::Admin))
        .await
        .unwrap();
    let mut first = None;
    for i in 0..MAX_ACTIVE_PATS {
        let (pat, _) = admin::create_token(&ctx, token(org.id, owner.id, &format!("t{i}")))
            .await
            .unwrap();
        first.get_or_insert(pat.id);
    }
    let e = admin::create_token(&ctx, token(org.id, owner.id, "one-too-many"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.downcast_ref(), Some(CreatePatError::TooManyActive)),
        "{e:#}"
    );
    assert!(e.to_string().contains("42 active tokens"), "{e}");

    admin::revoke_token(&ctx, org.id, first.unwrap())
        .await
        .unwrap();
    admin::create_token(&ctx, token(org.id, owner.id, "one-too-many"))
        .await
        .unwrap();
}

#[tokio::test]
async fn members_may_not_own_tokens_and_bad_input_is_refused() {
    let (ctx, _dir) = context().await;
    let org = admin::create_org(&ctx, "Acme").await.unwrap();
    let member = admin::create_user(&ctx, new_user(org.id, "bob", Role::Member))
        .await
        .unwrap();
    let e = admin::create_token(&ctx, token(org.id, member.id, "nope"))
        .await
        .unwrap_err();
    assert!(matches!(
        admin_error(&e),
        AdminError::MayNotOwnTokens { .. }
    ));
    assert!(e.to_string().contains("only owners and admins"), "{e}");
    assert!(admin::list_tokens(&ctx, org.id).await.unwrap().is_empty());

    let owner = admin::create_user(&ctx, new_user(org.id, "ada", Role::Owner))
        .await
        .unwrap();
    let mut bad_scope = token(org.id, owner.id, "x");
    bad_scope.scopes = "bookings:write calendars:read".into();
    let e = admin::create_token(&ctx, bad_scope).await.unwrap_err();
    assert!(e.to_string().contains("calendars:read"), "{e}");

    let mut no_scope = token(org.id, owner.id, "x");
    no_scope.scopes = "  ".into();
    assert!(admin::create_token(&ctx, no_scope).await.is_err());

    admin::create_token(&ctx, token(org.id, owner.id, "dup"))
        .await
        .unwrap();
    let e = admin::create_token(&ctx, token(org.id, owner.id, "DUP"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.downcast_ref(), Some(CreatePatError::NameTaken)),
        "{e:#}"
    );

    // A host without a schedule cannot be used.
    let e = admin::create_event_type(
        &ctx,
        NewEventType::individual(org.id, owner.id, "intro", "Intro", 30),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        admin_error(&e),
        AdminError::HostWithoutSchedule { .. }
    ));

    // Unknown organization and user.
    let ghost = domain::OrganizationId(uuid::Uuid::now_v7());
    let e = admin::list_users(&ctx, ghost).await.unwrap_err();
    assert!(matches!(
        admin_error(&e),
        AdminError::OrganizationNotFound(_)
    ));
    let e = admin::create_token(
        &ctx,
        token(org.id, domain::UserId(uuid::Uuid::now_v7()), "x"),
    )
    .await
    .unwrap_err();
    assert!(matches!(admin_error(&e), AdminError::UserNotFound { .. }));

    // Invalid user fields.
    let mut bad = new_user(org.id, "Not Valid", Role::Member);
    assert!(admin::create_user(&ctx, bad.clone()).await.is_err());
    bad.username = "carol".into();
    bad.email = "not-an-email".into();
    assert!(admin::create_user(&ctx, bad).await.is_err());
}

#[tokio::test]
async fn round_robin_and_group_event_types() {
    let (ctx, _dir) = context().await;
    let org = admin::create_org(&ctx, "Acme").await.unwrap();
    let a = admin::create_user(&ctx, new_user(org.id, "ada", Role::Owner))
        .await
        .unwrap();
    let b = admin::create_user(&ctx, new_user(org.id, "bob", Role::Member))
        .await
        .unwrap();
    schedule_for(&ctx, org.id, a.id).await;
    schedule_for(&ctx, org.id, b.id).await;

    let mut rr = NewEventType::individual(org.id, a.id, "team", "Team", 30);
    rr.scheduling_type = SchedulingType::RoundRobin;
    rr.hosts = vec![b.id, a.id];
    let et = admin::create_event_type(&ctx, rr).await.unwrap();
    assert_eq!(
        et.hosts.iter().map(|h| h.user_id).collect::<Vec<_>>(),
        vec![b.id, a.id]
    );

    let mut group = NewEventType::individual(org.id, a.id, "class", "Class", 60);
    group.scheduling_type = SchedulingType::Group;
    let e = admin::create_event_type(&ctx, group.clone())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("seats"), "{e}");
    group.seats = Some(5);
    assert_eq!(
        admin::create_event_type(&ctx, group).await.unwrap().seats,
        5
    );
}

#[tokio::test]
async fn set_password_hashes_with_argon2id() {
    let (ctx, _dir) = context().await;
    let org = admin::create_org(&ctx, "Acme").await.unwrap();
    let mut new = new_user(org.id, "ada", Role::Owner);
    new.password = Some(SecretString::from("first password".to_owned()));
    let user = admin::create_user(&ctx, new).await.unwrap();
    let hash = user.password_hash.clone().unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(auth::password::verify("first password", &hash));

    admin::set_password(
        &ctx,
        org.id,
        user.id,
        SecretString::from("second password".to_owned()),
    )
    .await
    .unwrap();
    let stored = ctx.store.get_user(org.id, user.id).await.unwrap().unwrap();
    let hash = stored.password_hash.unwrap();
    assert!(auth::password::verify("second password", &hash));
    assert!(!auth::password::verify("first password", &hash));

    let short = admin::set_password(
        &ctx,
        org.id,
        user.id,
        SecretString::from("short".to_owned()),
    )
    .await;
    assert!(short.is_err());
}

#[tokio::test]
async fn demo_creates_once_then_mints_new_tokens() {
    let (ctx, _dir) = context().await;
    let first = demo::demo(&ctx).await.unwrap();
    assert!(first.created);
    assert_eq!(first.organization.name, "Demo");
    assert_eq!(first.user.role, Role::Owner);
    assert_eq!(first.user.email.as_str(), "demo@example.com");
    assert_eq!(first.user.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(first.event_type.slug, "intro-call");
    assert_eq!(first.event_type.duration_minutes, 30);
    assert_eq!(first.event_type.scheduling_type, SchedulingType::Individual);
    assert!(first.event_type.active);
    assert_eq!(first.schedule.rules.len(), 1);
    assert_eq!(first.schedule.rules[0].days.len(), 5);
    for scope in domain::access::ACTIVE_AND_RESERVED_SCOPES {
        assert!(first.token.scopes.contains(scope), "{scope}");
    }
    assert_eq!(
        first
            .token
            .expires_at
            .unwrap()
            .duration_since(first.token.created_at),
        jiff::SignedDuration::from_hours(90 * 24)
    );
    assert!(is_pat(first.secret.expose_secret()));

    let text = demo::instructions(&first, "http://127.0.0.1:8080/", ctx.clock.now());
    assert!(text.contains(first.secret.expose_secret()));
    assert!(
        text.contains("curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/v1/_ping")
    );
    assert!(text.contains("Idempotency-Key: demo-booking-1"));
    assert!(
        text.contains("Booking page (open it in a browser): http://127.0.0.1:8080/demo/intro-call")
    );
    assert!(text.contains(&format!("event_type_id={}", first.event_type.id)));

    let second = demo::demo(&ctx).await.unwrap();
    assert!(!second.created);
    assert_eq!(second.organization.id, first.organization.id);
    assert_eq!(second.user.id, first.user.id);
    assert_eq!(second.event_type.id, first.event_type.id);
    assert_ne!(second.token.id, first.token.id);
    assert_ne!(second.secret.expose_secret(), first.secret.expose_secret());
    assert_eq!(admin::list_orgs(&ctx).await.unwrap().len(), 1);
    assert_eq!(
        admin::list_tokens(&ctx, first.organization.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// `admin webhook list|pause|resume`: an operator sees every credential's subscriptions, pauses
/// one with a reason and resumes it (clearing the reason); unknown ids are refused by name.
#[tokio::test]
async fn operators_list_pause_and_resume_webhooks() {
    use domain::webhook::*;
    let (ctx, _dir) = context().await;
    let org = admin::create_org(&ctx, "Acme").await.unwrap();
    let other = admin::create_org(&ctx, "Other").await.unwrap();
    let now = ctx.clock.now();
    let mut made = Vec::new();
    for owner in ["pat:one", "oauth:client"] {
        let w = Webhook {
            id: WebhookId(uuid::Uuid::now_v7()),
            organization_id: org.id,
            owner: owner.into(),
            url: "https://hooks.example.com/x".into(),
            events: vec![WebhookEvent::BookingCreated],
            description: None,
            status: WebhookStatus::Active,
            paused_reason: None,
            consecutive_failures: 3,
            sealed_secret: vec![0; 40],
            last_delivery_at: None,
            last_delivery_ok: None,
            created_at: now,
            updated_at: now,
        };
        ctx.store.create_webhook(&w).await.unwrap();
        made.push(w);
    }
    let listed = admin::list_webhooks(&ctx, org.id).await.unwrap();
    assert_eq!(listed.len(), 2, "every credential's");
    assert!(
        admin::list_webhooks(&ctx, other.id)
            .await
            .unwrap()
            .is_empty()
    );

    let id = made[0].id;
    let paused = admin::set_webhook_paused(&ctx, org.id, id, true, None)
        .await
        .unwrap();
    assert_eq!(paused.status, WebhookStatus::Paused);
    assert_eq!(
        paused.paused_reason.as_deref(),
        Some(admin::OPERATOR_PAUSE_REASON)
    );
    let stored = ctx.store.get_webhook(org.id, id).await.unwrap().unwrap();
    assert_eq!(stored.status, WebhookStatus::Paused);
    let resumed = admin::set_webhook_paused(&ctx, org.id, id, false, None)
        .await
        .unwrap();
    assert_eq!(
        (
            resumed.status,
            resumed.paused_reason,
            resumed.consecutive_failures
        ),
        (WebhookStatus::Active, None, 0)
    );
    let e = admin::set_webhook_paused(&ctx, other.id, id, true, Some("x".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no webhook"), "{e}");
}
