//! Organizations (the contract's "account") and their users.

use crate::ids::{OrganizationId, UserId};
use crate::validate::Email;
use jiff::Timestamp;

/// An organization: the tenant every other row belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// Active plan name, if any (reported by `GET /v1/me`).
    pub plan: Option<String>,
    pub created_at: Timestamp,
}

/// A member's role. Owners and admins may mint personal access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// The stored and printed name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses `owner`, `admin` or `member`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins administer API keys.
    pub fn may_mint_tokens(&self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Owners and admins make organization-wide writes
    /// ([`crate::access::Operation::is_organization_wide_write`]).
    pub fn may_write_organization(&self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A public username: the slug in `https://host/<username>`; lowercase ASCII letters, digits,
/// `-` and `_`, 1–64 characters, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Validates a username.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = (1..=64).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `s` is a top-level path of the server (see [`RESERVED_USERNAMES`]): a user
    /// of that name would have no reachable booking page. Checked when a username is set, not
    /// when one is read, so a stored user stays readable.
    pub fn is_reserved(s: &str) -> bool {
        RESERVED_USERNAMES.contains(&s)
    }
}

/// Usernames that are not given out because the server routes that first path segment itself
/// (`/v1/…`, `/metrics`, `/healthz`, `/readyz`, `/openapi.*`, `/.well-known/…`, the booking
/// pages' `/_b/…` and `/_assets/…`) or keeps it for paths it may route (`oauth`, `openapi`,
/// `api`, `admin`, `assets`, `static`, `v2`). Those with characters a username cannot have are
/// listed for completeness; `http_api`'s route test checks that every top-level route is here.
pub const RESERVED_USERNAMES: &[&str] = &[
    "v1",
    "v2",
    "metrics",
    "healthz",
    "readyz",
    "oauth",
    "openapi",
    "openapi.json",
    "openapi.yaml",
    ".well-known",
    "_b",
    "_assets",
    "api",
    "admin",
    "assets",
    "static",
];

/// A user of one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub username: Option<Username>,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA zone name.
    pub timezone: Option<String>,
    pub locale: Option<String>,
    pub avatar_url: Option<String>,
    pub role: Role,
    /// argon2id PHC string, for the sign-in page; `None` until a password is set.
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
}

impl User {
    /// `first_name + " " + last_name`, trimmed; `None` when both are empty.
    pub fn display_name(&self) -> Option<String> {
        let joined = format!(
            "{} {}",
            self.first_name.as_deref().unwrap_or(""),
            self.last_name.as_deref().unwrap_or("")
        );
        let trimmed = joined.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("ada").is_ok());
        assert!(Username::parse("ada-lovelace_2").is_ok());
        assert!(Username::parse("Ada").is_err());
        assert!(Username::parse("-ada").is_err());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a/b").is_err());
        assert!(Username::is_reserved("metrics") && Username::is_reserved("v1"));
        assert!(!Username::is_reserved("ada"));
    }

    #[test]
    fn display_name_trims_and_nulls() {
        let mut u = User {
            id: UserId(uuid::Uuid::nil()),
            organization_id: OrganizationId(uuid::Uuid::nil()),
            username: None,
            email: Email::parse("a@b.co").unwrap(),
            first_name: Some("Ada".into()),
            last_name: None,
            timezone: None,
            locale: None,
            avatar_url: None,
            role: Role::Member,
            password_hash: None,
            created_at: Timestamp::UNIX_EPOCH,
        };
        assert_eq!(u.display_name().as_deref(), Some("Ada"));
        u.first_name = Some(" ".into());
        assert_eq!(u.display_name(), None);
        u.last_name = Some("Lovelace".into());
        assert_eq!(u.display_name().as_deref(), Some("Lovelace"));
    }
}
