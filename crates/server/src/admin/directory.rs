//! Organizations and users: create, list, set a password (argon2id, hashed off the async
//! runtime in `spawn_blocking`).

use super::{AdminContext, AdminError};
use domain::organization::{Organization, Role, User, Username};
use domain::ports::CreateError;
use domain::validate::Email;
use domain::{OrganizationId, UserId};
use secrecy::{ExposeSecret as _, SecretString};

/// Creates an organization.
pub async fn create_org(ctx: &AdminContext, name: &str) -> anyhow::Result<Organization> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AdminError::Invalid("--name must be 1-255 characters".into()).into());
    }
    let org = Organization {
        id: OrganizationId(ctx.ids.new_id()),
        name: name.to_owned(),
        plan: None,
        created_at: ctx.now(),
    };
    ctx.store.create_organization(&org).await?;
    Ok(org)
}

/// Every organization.
pub async fn list_orgs(ctx: &AdminContext) -> anyhow::Result<Vec<Organization>> {
    Ok(ctx.store.list_organizations().await?)
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub org: OrganizationId,
    pub email: String,
    pub username: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA zone name.
    pub timezone: Option<String>,
    pub password: Option<SecretString>,
}

/// Creates a user (with a password hash when a password is given).
pub async fn create_user(ctx: &AdminContext, new: NewUser) -> anyhow::Result<User> {
    ctx.organization(new.org).await?;
    let email =
        Email::parse(new.email.trim()).map_err(|e| AdminError::Invalid(format!("--email {e}")))?;
    let username = Username::parse(new.username.trim())
        .map_err(|e| AdminError::Invalid(format!("--username {e}")))?;
    if let Some(tz) = &new.timezone {
        domain::validate::parse_time_zone(tz)
            .map_err(|e| AdminError::Invalid(format!("--timezone {e}")))?;
    }
    let password_hash = match new.password {
        Some(pw) => Some(hash_password(pw).await?),
        None => None,
    };
    let user = User {
        id: UserId(ctx.ids.new_id()),
        organization_id: new.org,
        username: Some(username),
        email,
        first_name: non_empty(new.first_name),
        last_name: non_empty(new.last_name),
        timezone: new.timezone,
        locale: None,
        avatar_url: None,
        role: new.role,
        password_hash,
        created_at: ctx.now(),
    };
    match ctx.store.create_user(&user).await {
        Ok(()) => Ok(user),
        Err(CreateError::Duplicate { field }) => {
            Err(AdminError::Invalid(format!("{field} is already taken")).into())
        }
        Err(CreateError::Unknown(e)) => Err(e),
    }
}

/// Users of one organization, oldest first.
pub async fn list_users(ctx: &AdminContext, org: OrganizationId) -> anyhow::Result<Vec<User>> {
    ctx.organization(org).await?;
    Ok(ctx.store.list_users(org).await?)
}

/// Sets (or replaces) a user's sign-in password.
pub async fn set_password(
    ctx: &AdminContext,
    org: OrganizationId,
    user: UserId,
    password: SecretString,
) -> anyhow::Result<()> {
    ctx.user(org, user).await?;
    let hash = hash_password(password).await?;
    if ctx.store.set_password_hash(org, user, &hash).await? {
        Ok(())
    } else {
        Err(AdminError::UserNotFound { org, user }.into())
    }
}

/// Minimum password length in characters.
const MIN_PASSWORD_CHARS: usize = 8;

async fn hash_password(password: SecretString) -> anyhow::Result<String> {
    if password.expose_secret().chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters"
        ))
        .into());
    }
    let hash = tokio::task::spawn_blocking(move || auth::password::hash(password.expose_secret()))
        .await??;
    Ok(hash)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}
