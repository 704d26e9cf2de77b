//! Personal access tokens (§2.2): minted for owners and admins only, alias scopes expanded at
//! grant time, at most [`domain::ports::MAX_ACTIVE_PATS`] active per organization, expiry 42/90/180/365 days
//! or never. The token text exists once, in the returned `SecretString`; only its peppered
//! hash and last four characters are stored.

use super::{AdminContext, AdminError};
use domain::access;
use domain::ports::{CreatePatError, PersonalAccessToken};
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

/// Longest token name.
const MAX_NAME_CHARS: usize = 100;

/// Mints a token. Returns the stored row and the token text, to be shown once.
pub async fn create_token(
    ctx: &AdminContext,
    new: NewToken,
) -> anyhow::Result<(PersonalAccessToken, SecretString)> {
    let user = ctx.user(new.org, new.user).await?;
    if !user.role.may_mint_tokens() {
        return Err(AdminError::MayNotOwnTokens {
            user: user.id,
            role: user.role.as_str(),
        }
        .into());
    }
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(
            AdminError::Invalid(format!("--name must be 1-{MAX_NAME_CHARS} characters")).into(),
        );
    }
    let requested: Vec<&str> = new
        .scopes
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() {
        return Err(AdminError::Invalid(
            "--scopes must name at least one scope, e.g. \"bookings:write slots:read\"".into(),
        )
        .into());
    }
    let scopes = access::expand(requested).map_err(|e| {
        AdminError::Invalid(format!(
            "--scopes: {e}; known scopes: {}",
            access::ACTIVE_AND_RESERVED_SCOPES.join(" ")
        ))
    })?;
    let minted = auth::pat::generate(&ctx.pepper)?;
    let now = ctx.now();
    let pat = PersonalAccessToken {
        id: TokenId(ctx.ids.new_id()),
        organization_id: new.org,
        user_id: user.id,
        name: name.to_owned(),
        lookup: minted.lookup,
        secret_hash: minted.secret_hash,
        scopes,
        last_four: minted.last_four,
        expires_at: new.expiry.expires_at(now)?,
        revoked_at: None,
        created_at: now,
    };
    match ctx.store.create_pat(&pat, now).await {
        Ok(()) => Ok((pat, minted.token)),
        Err(e @ (CreatePatError::TooManyActive | CreatePatError::NameTaken)) => {
            Err(anyhow::Error::new(e))
        }
        Err(CreatePatError::Unknown(e)) => Err(e),
    }
}

/// Whether a token still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    /// The status of `pat` at `now`.
    pub fn of(pat: &PersonalAccessToken, now: Timestamp) -> Self {
        if pat.revoked_at.is_some() {
            Self::Revoked
        } else if pat.expires_at.is_some_and(|e| e <= now) {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// Tokens of one organization, oldest first (never their secrets).
pub async fn list_tokens(
    ctx: &AdminContext,
    org: OrganizationId,
) -> anyhow::Result<Vec<PersonalAccessToken>> {
    ctx.organization(org).await?;
    Ok(ctx.store.list_pats(org, None).await?)
}

/// Revokes a token in the store. A running server sees it on the token's next request once its
/// authentication cache entry is older than `http_api::auth_cache::AUTH_CACHE_TTL` (10 s).
pub async fn revoke_token(
    ctx: &AdminContext,
    org: OrganizationId,
    id: TokenId,
) -> anyhow::Result<()> {
    ctx.organization(org).await?;
    if ctx.store.revoke_pat(org, id, ctx.now()).await? {
        Ok(())
    } else {
        Err(AdminError::TokenNotFound(id).into())
    }
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
