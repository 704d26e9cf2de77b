//! Directory use cases: organizations and their users — create, read, list, set a user's
//! sign-in password (hashed through the [`PasswordHasher`] port; the domain never sees the
//! hash algorithm), change a user's role and remove a user. Role changes and removals take
//! effect on the user's tokens at their next request in every process, because
//! [`crate::token_service::TokenService::authenticate`] reads the user on every request.

use crate::event_type_service::{from_store_error, stored_now};
use crate::ids::{OrganizationId, UserId};
use crate::organization::{Organization, Role, User, Username};
use crate::ports::{Clock, CreateError, DirectoryStore, IdGen, StoreError};
use crate::validate::{Email, FieldErrors, parse_time_zone};
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;

/// A password as typed; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Minimum password length in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Turns a password into a stored hash (argon2id PHC string in production). May be slow; the
/// implementation keeps it off the async runtime.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> anyhow::Result<String>;
}

/// Input of [`DirectoryService::create_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA zone name.
    pub timezone: Option<String>,
    pub password: Option<Password>,
}

/// Why an organization could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateOrganizationError {
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("organization not found")]
    OrganizationNotFound,
    /// Every failing field: `email`, `username`, `timezone`, `password`.
    #[error("request failed validation")]
    Invalid(FieldErrors),
    #[error("{field} is already taken")]
    Duplicate { field: &'static str },
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why an organization or user could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetDirectoryError {
    #[error("organization not found")]
    OrganizationNotFound,
    #[error("user not found")]
    UserNotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a password could not be set.
#[derive(Debug, thiserror::Error)]
pub enum SetPasswordError {
    #[error("user not found")]
    UserNotFound,
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

from_store_error!(
    CreateOrganizationError,
    CreateUserError,
    GetDirectoryError,
    SetPasswordError
);

impl From<CreateError> for CreateUserError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Duplicate { field } => Self::Duplicate { field },
            CreateError::Unknown(e) => Self::Unknown(e),
        }
    }
}

/// The directory use cases.
#[derive(Clone)]
pub struct DirectoryService {
    directory: Arc<dyn DirectoryStore>,
    passwords: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl DirectoryService {
    pub fn new(
        directory: Arc<dyn DirectoryStore>,
        passwords: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
    ) -> Self {
        Self {
            directory,
            passwords,
            clock,
            ids,
        }
    }

    /// Creates an organization named `name` (1–255 characters, trimmed).
    pub async fn create_organization(
        &self,
        name: &str,
    ) -> Result<Organization, CreateOrganizationError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 255 {
            let mut e = FieldErrors::default();
            e.push("name", "must be 1-255 characters");
            return Err(CreateOrganizationError::Invalid(e));
        }
        let org = Organization {
            id: OrganizationId(self.ids.new_id()),
            name: name.to_owned(),
            plan: None,
            created_at: stored_now(self.clock.as_ref()),
        };
        self.directory
            .create_organization(&org)
            .await
            .map_err(|e| match e {
                CreateError::Duplicate { field } => {
                    anyhow::anyhow!("{field} is already taken").into()
                }
                CreateError::Unknown(e) => CreateOrganizationError::Unknown(e),
            })?;
        Ok(org)
    }

    pub async fn organization(
        &self,
        org: OrganizationId,
    ) -> Result<Organization, GetDirectoryError> {
        self.directory
            .get_organization(org)
            .await?
            .ok_or(GetDirectoryError::OrganizationNotFound)
    }

    pub async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        self.directory.list_organizations().await
    }

    /// The user of `org` (the organization must exist).
    pub async fn user(&self, org: OrganizationId, id: UserId) -> Result<User, GetDirectoryError> {
        self.organization(org).await?;
        self.directory
            .get_user(org, id)
            .await?
            .ok_or(GetDirectoryError::UserNotFound)
    }

    /// The user and (when readable) the organization a principal acts for (`GET /v1/me`).
    pub async fn me(
        &self,
        org: OrganizationId,
        id: UserId,
    ) -> Result<(User, Option<Organization>), GetDirectoryError> {
        let user = self
            .directory
            .get_user(org, id)
            .await?
            .ok_or(GetDirectoryError::UserNotFound)?;
        let organization = self.directory.get_organization(org).await?;
        Ok((user, organization))
    }

    /// The users with these ids that exist in `org` (duplicates and unknown ids skipped).
    pub async fn users_by_id(
        &self,
        org: OrganizationId,
        mut ids: Vec<UserId>,
    ) -> Result<Vec<User>, StoreError> {
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(u) = self.directory.get_user(org, id).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Users of `org`, oldest first.
    pub async fn users(&self, org: OrganizationId) -> Result<Vec<User>, GetDirectoryError> {
        self.organization(org).await?;
        Ok(self.directory.list_users(org).await?)
    }

    /// Creates a user of `org`; every failing field is reported at once.
    pub async fn create_user(
        &self,
        org: OrganizationId,
        new: NewUser,
    ) -> Result<User, CreateUserError> {
        if self.directory.get_organization(org).await?.is_none() {
            return Err(CreateUserError::OrganizationNotFound);
        }
        let mut e = FieldErrors::default();
        let email = Email::parse(new.email.trim()).map_err(|m| e.push("email", m));
        let username = Username::parse(new.username.trim())
            .and_then(|u| {
                if Username::is_reserved(u.as_str()) {
                    Err(format!(
                        "'{}' is reserved: the server uses the path /{} itself; choose another \
                         username",
                        u.as_str(),
                        u.as_str()
                    ))
                } else {
                    Ok(u)
                }
            })
            .map_err(|m| e.push("username", m));
        if let Some(tz) = &new.timezone
            && let Err(m) = parse_time_zone(tz)
        {
            e.push("timezone", m);
        }
        if let Some(pw) = &new.password
            && pw.expose().chars().count() < MIN_PASSWORD_CHARS
        {
            e.push(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            );
        }
        let (Ok(email), Ok(username), true) = (email, username, e.is_empty()) else {
            return Err(CreateUserError::Invalid(e));
        };
        let password_hash = match &new.password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        let user = User {
            id: UserId(self.ids.new_id()),
            organization_id: org,
            username: Some(username),
            email,
            first_name: non_empty(new.first_name),
            last_name: non_empty(new.last_name),
            timezone: new.timezone,
            locale: None,
            avatar_url: None,
            role: new.role,
            password_hash,
            created_at: stored_now(self.clock.as_ref()),
        };
        self.directory.create_user(&user).await?;
        Ok(user)
    }

    /// Sets (or replaces) a user's sign-in password.
    pub async fn set_password(
        &self,
        org: OrganizationId,
        user: UserId,
        password: &Password,
    ) -> Result<(), SetPasswordError> {
        if self.directory.get_user(org, user).await?.is_none() {
            return Err(SetPasswordError::UserNotFound);
        }
        if password.expose().chars().count() < MIN_PASSWORD_CHARS {
            return Err(SetPasswordError::TooShort);
        }
        let hash = self.passwords.hash(password).await?;
        if self.directory.set_password_hash(org, user, &hash).await? {
            Ok(())
        } else {
            Err(SetPasswordError::UserNotFound)
        }
    }

    /// Changes a user's role. Losing the owner or admin role ends the user's
    /// organization-wide writes at the next request of each of their tokens.
    pub async fn set_role(
        &self,
        org: OrganizationId,
        user: UserId,
        role: Role,
    ) -> Result<(), ChangeUserError> {
        if self.directory.set_user_role(org, user, role).await? {
            Ok(())
        } else {
            Err(ChangeUserError::UserNotFound)
        }
    }

    /// Removes a user from `org`. Every token of the user (personal access tokens, OAuth
    /// access and refresh tokens) is refused from its next request on; the user can no longer
    /// sign in. Bookings, event types and schedules that name the user stay.
    pub async fn remove_user(
        &self,
        org: OrganizationId,
        user: UserId,
    ) -> Result<(), ChangeUserError> {
        if self.directory.remove_user(org, user).await? {
            Ok(())
        } else {
            Err(ChangeUserError::UserNotFound)
        }
    }
}

/// Why a user could not be changed or removed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeUserError {
    #[error("user not found")]
    UserNotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

from_store_error!(ChangeUserError);
