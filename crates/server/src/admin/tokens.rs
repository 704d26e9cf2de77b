//! Personal access tokens (§2.2): minted for owners and admins only, alias scopes expanded at
//! grant time, at most [`domain::ports::MAX_ACTIVE_PATS`] active per organization, expiry 42/90/180/365 days
//! or never. The token text exists once, in the returned `SecretString`; only its peppered
//! hash and last four characters are stored.

use super::{AdminContext, AdminError};
use domain::access;
use domain::ports::{CreatePatError, PersonalAccessToken};
use domain::token_service::{MAX_TOKEN_NAME_CHARS, MintTokenError, RevokeTokenError};
use domain::{OrganizationId, TokenId, UserId};
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use std::fmt;
use std::str::FromStr;

/// How long a token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Days(u16),
    Never,
}

/// The expiries the admin page offers.
pub const ALLOWED_EXPIRY_DAYS: [u16; 4] = [42, 90, 180, 365];

impl FromStr for Expiry {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("never") {
            return Ok(Self::Never);
        }
        let days = s.strip_suffix('d').unwrap_or(s);
        match days.parse::<u16>() {
            Ok(d) if ALLOWED_EXPIRY_DAYS.contains(&d) => Ok(Self::Days(d)),
            _ => Err(format!(
                "expiry '{s}' is not offered; use 42, 90, 180, 365 or never"
            )),
        }
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Days(d) => write!(f, "{d}"),
            Self::Never => f.write_str("never"),
        }
    }
}

impl Expiry {
    /// How long a token lives; `None` = forever.
    pub fn lifetime(&self) -> Option<SignedDuration> {
        match self {
            Self::Never => None,
            Self::Days(d) => Some(SignedDuration::from_hours(i64::from(*d) * 24)),
        }
    }

    /// The expiry instant for a token created at `now`.
    pub fn expires_at(&self, now: Timestamp) -> anyhow::Result<Option<Timestamp>> {
        match self {
            Self::Never => Ok(None),
            Self::Days(d) => Ok(Some(
                now.checked_add(SignedDuration::from_hours(i64::from(*d) * 24))?,
            )),
        }
    }
}

/// A token to mint.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub org: OrganizationId,
    pub user: UserId,
    pub name: String,
    /// Scope names separated by spaces or commas; aliases allowed.
    pub scopes: String,
    pub expiry: Expiry,
}

/// Mints a token. Returns the stored row and the token text, to be shown once.
pub async fn create_token(
    ctx: &AdminContext,
    new: NewToken,
) -> anyhow::Result<(PersonalAccessToken, SecretString)> {
    ctx.user(new.org, new.user).await?;
    let scopes: Vec<String> = new
        .scopes
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let input = domain::token_service::NewToken {
        user: new.user,
        name: new.name,
        scopes,
        lifetime: new.expiry.lifetime(),
    };
    match ctx.services().tokens.mint(new.org, input).await {
        Ok((pat, text)) => Ok((pat, SecretString::from(text.expose().to_owned()))),
        Err(e) => Err(match e {
            MintTokenError::UserNotFound => AdminError::UserNotFound {
                org: new.org,
                user: new.user,
            }
            .into(),
            MintTokenError::MayNotOwnTokens { role } => AdminError::MayNotOwnTokens {
                user: new.user,
                role,
            }
            .into(),
            MintTokenError::InvalidName => AdminError::Invalid(format!(
                "--name must be 1-{MAX_TOKEN_NAME_CHARS} characters"
            ))
            .into(),
            MintTokenError::NoScopes => AdminError::Invalid(
                "--scopes must name at least one scope, e.g. \"bookings:write slots:read\"".into(),
            )
            .into(),
            MintTokenError::UnknownScope(e) => AdminError::Invalid(format!(
                "--scopes: {e}; known scopes: {}",
                access::ACTIVE_AND_RESERVED_SCOPES.join(" ")
            ))
            .into(),
            MintTokenError::TooManyActive => anyhow::Error::new(CreatePatError::TooManyActive),
            MintTokenError::NameTaken => anyhow::Error::new(CreatePatError::NameTaken),
            MintTokenError::Unknown(e) => e,
        }),
    }
}

pub use domain::token_service::TokenStatus;

/// Tokens of one organization, oldest first (never their secrets).
pub async fn list_tokens(
    ctx: &AdminContext,
    org: OrganizationId,
) -> anyhow::Result<Vec<PersonalAccessToken>> {
    ctx.organization(org).await?;
    Ok(ctx.services().tokens.list(org, None).await?)
}

/// Revokes a token in the store. A running server sees it on the token's next request once its
/// authentication cache entry is older than `http_api::auth_cache::AUTH_CACHE_TTL` (10 s).
pub async fn revoke_token(
    ctx: &AdminContext,
    org: OrganizationId,
    id: TokenId,
) -> anyhow::Result<()> {
    ctx.organization(org).await?;
    ctx.services()
        .tokens
        .revoke(org, id)
        .await
        .map_err(|e| match e {
            RevokeTokenError::NotFound => AdminError::TokenNotFound(id).into(),
            RevokeTokenError::Unknown(e) => e,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries() {
        assert_eq!("42".parse(), Ok(Expiry::Days(42)));
        assert_eq!("365d".parse(), Ok(Expiry::Days(365)));
        assert_eq!("never".parse(), Ok(Expiry::Never));
        assert!("30".parse::<Expiry>().is_err());
        assert!("".parse::<Expiry>().is_err());
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(
            Expiry::Days(90).expires_at(now).unwrap(),
            Some(Timestamp::from_second(90 * 86_400).unwrap())
        );
        assert_eq!(Expiry::Never.expires_at(now).unwrap(), None);
    }
}
