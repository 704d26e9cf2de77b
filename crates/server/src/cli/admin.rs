//! `slotbook admin …`: argument parsing and printing for [`crate::admin`]. Passwords are read
//! from standard input, never from arguments; a minted token is printed once.
//!
//! Every command prints human text by default; with `--json` it prints exactly one JSON object
//! (a single result) or array (a list) on standard output and nothing else there, so scripts can
//! parse it. Timestamps are RFC 3339 UTC with milliseconds, as on the API.

use crate::admin::{
    self, AdminContext, Expiry, NewEventType, NewSchedule, NewToken, NewUser, TokenStatus,
};
use api_types::time::{opt_ts, ts};
use clap::{Args, Subcommand};
use domain::availability::Schedule;
use domain::event_type::EventType;
use domain::event_type::SchedulingType;
use domain::organization::Role;
use domain::organization::{Organization, User};
use domain::ports::PersonalAccessToken;
use domain::{OrganizationId, TokenId, UserId};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use std::io::BufRead as _;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn org_json(o: &Organization) -> Value {
    json!({"id": o.id.0, "name": o.name, "plan": o.plan, "created_at": ts(o.created_at)})
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id.0,
        "organization_id": u.organization_id.0,
        "username": u.username.as_ref().map(|n| n.as_str()),
        "email": u.email.as_str(),
        "first_name": u.first_name,
        "last_name": u.last_name,
        "timezone": u.timezone,
        "role": u.role.as_str(),
        "password_set": u.password_hash.is_some(),
        "created_at": ts(u.created_at),
    })
}

fn schedule_json(s: &Schedule) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(
        api_types::schedule::ScheduleDto::from_domain(s),
    )?)
}

fn event_type_json(e: &EventType) -> Value {
    let hosts: Vec<Value> = e
        .hosts
        .iter()
        .map(|h| json!({"user_id": h.user_id.0, "schedule_id": h.schedule_id.0}))
        .collect();
    json!({
        "id": e.id.0,
        "organization_id": e.organization_id.0,
        "owner_user_id": e.owner_user_id.0,
        "slug": e.slug,
        "title": e.title,
        "description": e.description,
        "duration_minutes": e.duration_minutes,
        "slot_interval_minutes": e.slot_interval_minutes,
        "scheduling_type": e.scheduling_type.as_str(),
        "active": e.active,
        "hosts": hosts,
        "seats": e.seats,
        "version": e.version,
        "created_at": ts(e.created_at),
    })
}

fn token_json(t: &PersonalAccessToken, status: TokenStatus) -> Value {
    let scopes: Vec<&str> = t.scopes.iter().collect();
    json!({
        "id": t.id.0,
        "organization_id": t.organization_id.0,
        "user_id": t.user_id.0,
        "name": t.name,
        "last_four": t.last_four,
        "scopes": scopes,
        "status": status.as_str(),
        "expires_at": opt_ts(t.expires_at),
        "created_at": ts(t.created_at),
    })
}

/// `slotbook admin <resource> <action>`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organizations (the API's "accounts").
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users of an organization.
    #[command(subcommand)]
    User(UserCommand),
    /// Availability schedules.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Event types.
    #[command(subcommand, name = "event-type")]
    EventType(EventTypeCommand),
    /// Personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Webhook subscriptions (every credential's).
    #[command(subcommand)]
    Webhook(super::admin_webhooks::WebhookCommand),
    /// Booking e-mails (confirmations, changes, reminders) and their delivery state.
    #[command(subcommand)]
    Notification(super::admin_notifications::NotificationCommand),
    /// OAuth clients (third-party apps).
    #[command(subcommand, name = "oauth-client")]
    OAuthClient(super::admin_oauth::OAuthClientCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List organizations.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create(UserCreate),
    /// List the users of an organization.
    List {
        #[arg(long)]
        org: OrganizationId,
    },
    /// Set a user's sign-in password (read from standard input).
    SetPassword {
        #[arg(long)]
        org: OrganizationId,
        #[arg(long)]
        user: UserId,
    },
    /// Change a user's role. OAuth tokens carry it from their next request on; a running
    /// `slotbook serve` process that authenticated one of the user's personal access tokens
    /// within the last 10 seconds may use the old role until its authentication cache entry is
    /// 10 seconds old. A user who is no longer an owner or admin then loses organization-wide
    /// writes (event types, other users' schedules).
    SetRole {
        #[arg(long)]
        org: OrganizationId,
        #[arg(long)]
        user: UserId,
        /// owner, admin or member.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Remove a user from the organization. The user's OAuth access and refresh tokens are
    /// refused from their next request on, personal access tokens within 10 seconds (a running
    /// `slotbook serve` that authenticated one in the last 10 seconds may accept it until its
    /// authentication cache entry is 10 seconds old), and the user can no longer sign in.
    /// Their bookings, event types and schedules stay.
    Remove {
        #[arg(long)]
        org: OrganizationId,
        #[arg(long)]
        user: UserId,
    },
}

#[derive(Debug, Args)]
pub struct UserCreate {
    #[arg(long)]
    org: OrganizationId,
    #[arg(long)]
    email: String,
    #[arg(long)]
    username: String,
    /// owner, admin or member.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    /// IANA zone, e.g. Europe/Berlin.
    #[arg(long)]
    timezone: Option<String>,
    /// Read a sign-in password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create a schedule.
    Create(ScheduleCreate),
    /// List the schedules of an organization.
    List {
        #[arg(long)]
        org: OrganizationId,
    },
}

#[derive(Debug, Args)]
pub struct ScheduleCreate {
    #[arg(long)]
    org: OrganizationId,
    #[arg(long)]
    user: UserId,
    #[arg(long)]
    name: String,
    /// IANA zone, e.g. Europe/Berlin.
    #[arg(long)]
    timezone: String,
    /// Weekly hours, e.g. "mon-fri 09:00-17:00" or "sat,sun 10:00-12:00,14:00-16:00"; repeatable.
    #[arg(long = "rule", required = true)]
    rules: Vec<String>,
    /// A date override: "2026-12-24 off" or "2026-12-24 10:00-12:00"; repeatable.
    #[arg(long = "override")]
    overrides: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum EventTypeCommand {
    /// Create an event type; hosts use their first schedule.
    Create(EventTypeCreate),
    /// List the event types of an organization.
    List {
        #[arg(long)]
        org: OrganizationId,
    },
}

#[derive(Debug, Args)]
pub struct EventTypeCreate {
    #[arg(long)]
    org: OrganizationId,
    /// The owning user (addresses it as username/slug).
    #[arg(long)]
    owner: UserId,
    #[arg(long)]
    slug: String,
    #[arg(long)]
    title: String,
    #[arg(long)]
    description: Option<String>,
    /// Duration in minutes.
    #[arg(long)]
    duration: u32,
    /// Minutes between candidate starts (default: the duration).
    #[arg(long)]
    interval: Option<u32>,
    /// individual, group or collective (round robin).
    #[arg(long = "type", value_parser = parse_scheduling_type, default_value = "individual")]
    scheduling_type: SchedulingType,
    /// Host user ids in order (default: the owner); repeatable.
    #[arg(long = "host")]
    hosts: Vec<UserId>,
    /// Seats per slot (group event types).
    #[arg(long)]
    seats: Option<u32>,
    #[arg(long, default_value_t = 0)]
    buffer_before: u32,
    #[arg(long, default_value_t = 0)]
    buffer_after: u32,
    /// Minimum notice in hours.
    #[arg(long, default_value_t = 0)]
    notice_hours: u32,
    /// Bookable this many days ahead (0 = no limit).
    #[arg(long, default_value_t = 60)]
    future_days: u32,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a personal access token (printed once).
    Create {
        #[arg(long)]
        org: OrganizationId,
        /// The owner or admin the token acts as.
        #[arg(long)]
        user: UserId,
        #[arg(long)]
        name: String,
        /// Space- or comma-separated scopes; aliases such as bookings:write are expanded.
        #[arg(long)]
        scopes: String,
        /// 42, 90, 180, 365 (days) or never.
        #[arg(long, default_value = "90")]
        expires: Expiry,
    },
    /// List tokens (never their secrets; only the last four characters).
    List {
        #[arg(long)]
        org: OrganizationId,
    },
    /// Revoke a token. The store refuses it at once; a running `slotbook serve` process that
    /// authenticated the token within the last 10 seconds may accept it until its
    /// authentication cache entry is 10 seconds old (OAuth tokens have no such delay).
    Revoke {
        #[arg(long)]
        org: OrganizationId,
        #[arg(long)]
        id: TokenId,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role; use owner, admin or member"))
}

fn parse_scheduling_type(s: &str) -> Result<SchedulingType, String> {
    SchedulingType::parse(s)
        .ok_or_else(|| format!("'{s}' is not a type; use individual, group or collective"))
}

/// Reads one line from standard input as a secret (trailing newline removed).
fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\n', '\r']).to_owned();
    Ok(SecretString::from(pw))
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// Runs one admin command and prints its result.
pub async fn run(ctx: &AdminContext, command: AdminCommand, format: Format) -> anyhow::Result<()> {
    let json = format == Format::Json;
    match command {
        AdminCommand::Org(OrgCommand::Create { name }) => {
            let org = admin::create_org(ctx, &name).await?;
            if json {
                return print_json(&org_json(&org));
            }
            println!("created organization {} ({})", org.name, org.id);
        }
        AdminCommand::Org(OrgCommand::List) => {
            let orgs = admin::list_orgs(ctx).await?;
            if json {
                return print_json(&Value::Array(orgs.iter().map(org_json).collect()));
            }
            println!("ID\tNAME\tCREATED");
            for org in orgs {
                println!("{}\t{}\t{}", org.id, org.name, org.created_at);
            }
        }
        AdminCommand::User(UserCommand::Create(u)) => {
            let password = if u.password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let user = admin::create_user(
                ctx,
                NewUser {
                    org: u.org,
                    email: u.email,
                    username: u.username,
                    role: u.role,
                    first_name: u.first_name,
                    last_name: u.last_name,
                    timezone: u.timezone,
                    password,
                },
            )
            .await?;
            if json {
                return print_json(&user_json(&user));
            }
            println!(
                "created user {} <{}> ({}), role {}",
                user.username.as_ref().map(|u| u.as_str()).unwrap_or("-"),
                user.email,
                user.id,
                user.role.as_str()
            );
        }
        AdminCommand::User(UserCommand::List { org }) => {
            let users = admin::list_users(ctx, org).await?;
            if json {
                return print_json(&Value::Array(users.iter().map(user_json).collect()));
            }
            println!("ID\tUSERNAME\tEMAIL\tROLE\tTIMEZONE\tPASSWORD");
            for u in users {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.username.as_ref().map(|u| u.as_str()).unwrap_or("-"),
                    u.email,
                    u.role.as_str(),
                    opt(&u.timezone),
                    if u.password_hash.is_some() {
                        "set"
                    } else {
                        "-"
                    }
                );
            }
        }
        AdminCommand::User(UserCommand::SetPassword { org, user }) => {
            eprintln!("reading the new password from standard input (one line)");
            let password = read_password()?;
            admin::set_password(ctx, org, user, password).await?;
            if json {
                return print_json(&json!({"user_id": user.0, "password_set": true}));
            }
            println!("password set for user {user}");
        }
        AdminCommand::User(UserCommand::SetRole { org, user, role }) => {
            admin::set_role(ctx, org, user, role).await?;
            if json {
                return print_json(&json!({"user_id": user.0, "role": role.as_str()}));
            }
            println!("user {user} is now {}", role.as_str());
        }
        AdminCommand::User(UserCommand::Remove { org, user }) => {
            admin::remove_user(ctx, org, user).await?;
            if json {
                return print_json(&json!({"user_id": user.0, "removed": true}));
            }
            println!(
                "removed user {user}; its OAuth tokens are refused from now on, its personal access tokens within 10 s"
            );
        }
        AdminCommand::Schedule(ScheduleCommand::Create(s)) => {
            let mut rules = Vec::new();
            for r in &s.rules {
                rules.extend(admin::parse_rule(r).map_err(anyhow::Error::msg)?);
            }
            let overrides = s
                .overrides
                .iter()
                .map(|o| admin::parse_override(o))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let schedule = admin::create_schedule(
                ctx,
                NewSchedule {
                    org: s.org,
                    user: s.user,
                    name: s.name,
                    timezone: s.timezone,
                    rules,
                    overrides,
                },
            )
            .await?;
            if json {
                return print_json(&schedule_json(&schedule)?);
            }
            println!("created schedule {} ({})", schedule.name, schedule.id);
        }
        AdminCommand::Schedule(ScheduleCommand::List { org }) => {
            let schedules = admin::list_schedules(ctx, org).await?;
            if json {
                let list = schedules
                    .iter()
                    .map(schedule_json)
                    .collect::<anyhow::Result<Vec<_>>>()?;
                return print_json(&Value::Array(list));
            }
            println!("ID\tUSER\tNAME\tTIMEZONE\tRULES");
            for s in schedules {
                let rules: Vec<String> = s
                    .rules
                    .iter()
                    .map(|r| {
                        let days: Vec<&str> = r
                            .days
                            .iter()
                            .map(|d| domain::availability::weekday_name(*d))
                            .collect();
                        format!("{} {}-{}", days.join(","), r.range.start, r.range.end)
                    })
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.user_id,
                    s.name,
                    s.zone.name(),
                    rules.join("; ")
                );
            }
        }
        AdminCommand::EventType(EventTypeCommand::Create(e)) => {
            let event_type = admin::create_event_type(
                ctx,
                NewEventType {
                    org: e.org,
                    owner: e.owner,
                    slug: e.slug,
                    title: e.title,
                    description: e.description,
                    duration_minutes: e.duration,
                    interval_minutes: e.interval,
                    scheduling_type: e.scheduling_type,
                    hosts: e.hosts,
                    seats: e.seats,
                    buffer_before_minutes: e.buffer_before,
                    buffer_after_minutes: e.buffer_after,
                    minimum_notice_hours: e.notice_hours,
                    future_limit_days: e.future_days,
                },
            )
            .await?;
            if json {
                return print_json(&event_type_json(&event_type));
            }
            println!(
                "created event type {} ({}), {} minutes, {}",
                event_type.slug,
                event_type.id,
                event_type.duration_minutes,
                event_type.scheduling_type.as_str()
            );
        }
        AdminCommand::EventType(EventTypeCommand::List { org }) => {
            let event_types = admin::list_event_types(ctx, org).await?;
            if json {
                return print_json(&Value::Array(
                    event_types.iter().map(event_type_json).collect(),
                ));
            }
            println!("ID\tSLUG\tTITLE\tMINUTES\tTYPE\tACTIVE\tOWNER");
            for e in event_types {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.slug,
                    e.title,
                    e.duration_minutes,
                    e.scheduling_type.as_str(),
                    e.active,
                    e.owner_user_id
                );
            }
        }
        AdminCommand::Token(TokenCommand::Create {
            org,
            user,
            name,
            scopes,
            expires,
        }) => {
            let (pat, secret) = admin::create_token(
                ctx,
                NewToken {
                    org,
                    user,
                    name,
                    scopes,
                    expiry: expires,
                },
            )
            .await?;
            if json {
                let mut v = token_json(&pat, TokenStatus::of(&pat, ctx.clock.now()));
                v["token"] = Value::String(secret.expose_secret().to_owned());
                return print_json(&v);
            }
            let scopes: Vec<&str> = pat.scopes.iter().collect();
            eprintln!(
                "created token \"{}\" ({}), scopes: {}, expires: {}",
                pat.name,
                pat.id,
                scopes.join(" "),
                pat.expires_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "never".into())
            );
            eprintln!("the token is shown once; store it now:");
            println!("{}", secret.expose_secret());
        }
        AdminCommand::Token(TokenCommand::List { org }) => {
            let now = ctx.clock.now();
            let tokens = admin::list_tokens(ctx, org).await?;
            if json {
                return print_json(&Value::Array(
                    tokens
                        .iter()
                        .map(|t| token_json(t, TokenStatus::of(t, now)))
                        .collect(),
                ));
            }
            println!("ID\tNAME\tUSER\tLAST4\tSTATUS\tEXPIRES\tSCOPES");
            for t in tokens {
                let scopes: Vec<&str> = t.scopes.iter().collect();
                println!(
                    "{}\t{}\t{}\t…{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.user_id,
                    t.last_four,
                    TokenStatus::of(&t, now).as_str(),
                    t.expires_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "never".into()),
                    scopes.join(" ")
                );
            }
        }
        AdminCommand::Token(TokenCommand::Revoke { org, id }) => {
            admin::revoke_token(ctx, org, id).await?;
            if json {
                return print_json(&json!({"id": id.0, "revoked": true}));
            }
            println!(
                "revoked token {id} (a running server that used it in the last 10 s may accept it for up to 10 s more)"
            );
        }
        AdminCommand::Webhook(c) => return super::admin_webhooks::run(ctx, c, json).await,
        AdminCommand::OAuthClient(c) => return super::admin_oauth::run(ctx, c, json).await,
        AdminCommand::Notification(c) => {
            return super::admin_notifications::run(ctx, c, json).await;
        }
    }
    Ok(())
}
