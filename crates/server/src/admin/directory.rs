//! Organizations and users: create, list, set a password, change a role, remove — through
//! `domain::directory_service::DirectoryService`.

use super::{AdminContext, AdminError, directory_error};
use domain::directory_service::{
    ChangeUserError, CreateOrganizationError, CreateUserError, MIN_PASSWORD_CHARS, Password,
    SetPasswordError,
};
use domain::organization::{Organization, Role, User};
use domain::{OrganizationId, UserId};
use secrecy::{ExposeSecret as _, SecretString};

/// Creates an organization.
pub async fn create_org(ctx: &AdminContext, name: &str) -> anyhow::Result<Organization> {
    ctx.services()
        .directory
        .create_organization(name)
        .await
        .map_err(|e| match e {
            CreateOrganizationError::Invalid(_) => {
                AdminError::Invalid("--name must be 1-255 characters".into()).into()
            }
            CreateOrganizationError::Unknown(e) => e,
        })
}

/// Every organization.
pub async fn list_orgs(ctx: &AdminContext) -> anyhow::Result<Vec<Organization>> {
    Ok(ctx.services().directory.organizations().await?)
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
    let org = new.org;
    let input = domain::directory_service::NewUser {
        email: new.email,
        username: new.username,
        role: new.role,
        first_name: new.first_name,
        last_name: new.last_name,
        timezone: new.timezone,
        password: new.password.map(|p| Password::new(p.expose_secret())),
    };
    ctx.services()
        .directory
        .create_user(org, input)
        .await
        .map_err(|e| match e {
            CreateUserError::OrganizationNotFound => AdminError::OrganizationNotFound(org).into(),
            CreateUserError::Invalid(errors) => {
                let list: Vec<String> = errors
                    .0
                    .iter()
                    .map(|f| format!("--{} {}", f.field, f.message))
                    .collect();
                AdminError::Invalid(list.join("; ")).into()
            }
            CreateUserError::Duplicate { field } => {
                AdminError::Invalid(format!("{field} is already taken")).into()
            }
            CreateUserError::Unknown(e) => e,
        })
}

/// Users of one organization, oldest first.
pub async fn list_users(ctx: &AdminContext, org: OrganizationId) -> anyhow::Result<Vec<User>> {
    ctx.services()
        .directory
        .users(org)
        .await
        .map_err(|e| directory_error(e, org, None))
}

/// Sets (or replaces) a user's sign-in password.
pub async fn set_password(
    ctx: &AdminContext,
    org: OrganizationId,
    user: UserId,
    password: SecretString,
) -> anyhow::Result<()> {
    ctx.user(org, user).await?;
    ctx.services()
        .directory
        .set_password(org, user, &Password::new(password.expose_secret()))
        .await
        .map_err(|e| match e {
            SetPasswordError::UserNotFound => AdminError::UserNotFound { org, user }.into(),
            SetPasswordError::TooShort => AdminError::Invalid(format!(
                "the password must be at least {MIN_PASSWORD_CHARS} characters"
            ))
            .into(),
            SetPasswordError::Unknown(e) => e,
        })
}

/// Changes a user's role. The user's OAuth tokens carry the new role from their next request
/// on; personal access tokens within the authentication cache's 10-second bound (a server
/// process caches a token's row with its user's role).
pub async fn set_role(
    ctx: &AdminContext,
    org: OrganizationId,
    user: UserId,
    role: Role,
) -> anyhow::Result<()> {
    ctx.organization(org).await?;
    ctx.services()
        .directory
        .set_role(org, user, role)
        .await
        .map_err(|e| change_user_error(e, org, user))
}

/// Removes a user from the organization. The user's OAuth access and refresh tokens are refused
/// from their next request on, personal access tokens within the authentication cache's
/// 10-second bound, in every server process; the user can no longer sign in.
pub async fn remove_user(
    ctx: &AdminContext,
    org: OrganizationId,
    user: UserId,
) -> anyhow::Result<()> {
    ctx.organization(org).await?;
    ctx.services()
        .directory
        .remove_user(org, user)
        .await
        .map_err(|e| change_user_error(e, org, user))
}

fn change_user_error(e: ChangeUserError, org: OrganizationId, user: UserId) -> anyhow::Error {
    match e {
        ChangeUserError::UserNotFound => AdminError::UserNotFound { org, user }.into(),
        ChangeUserError::Unknown(e) => e,
    }
}
