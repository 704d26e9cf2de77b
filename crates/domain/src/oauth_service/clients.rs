//! OAuth client management (the admin CLI; RFC 7591 registration when it lands): register,
//! list, rotate a confidential client's secret, revoke a client and everything issued to it.

use super::{OAuthService, unknown};
use crate::access::{self, ScopeSet};
use crate::oauth::*;
use crate::ports::{CreateError, StoreError};

/// Input of [`OAuthService::create_client`].
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub kind: ClientKind,
    pub redirect_uris: Vec<String>,
    /// Scope names (aliases allowed).
    pub scopes: Vec<String>,
    pub dynamic: bool,
}

/// Why a client could not be created.
#[derive(Debug)]
pub enum NewClientError {
    /// `(field, message)` pairs.
    Invalid(Vec<(&'static str, String)>),
    Store(StoreError),
}

impl From<StoreError> for NewClientError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// A created client and its secret (shown once; confidential clients only).
#[derive(Debug, Clone)]
pub struct CreatedClient {
    pub client: OAuthClient,
    pub secret: Option<String>,
}

impl OAuthService {
    /// Registers a client; confidential clients get a secret (shown once).
    pub async fn create_client(&self, new: NewClient) -> Result<CreatedClient, NewClientError> {
        let mut invalid = Vec::new();
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            invalid.push(("client_name", "must be 1 to 100 characters".to_owned()));
        }
        if new.redirect_uris.is_empty() {
            invalid.push((
                "redirect_uris",
                "at least one redirect URI is required".into(),
            ));
        }
        for uri in &new.redirect_uris {
            if let Err(why) = valid_redirect_uri(uri) {
                invalid.push(("redirect_uris", format!("'{uri}' {why}")));
            }
        }
        let scopes = match access::expand(new.scopes.iter().map(String::as_str)) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => {
                invalid.push(("scope", "at least one scope is required".into()));
                ScopeSet::default()
            }
            Err(e) => {
                invalid.push(("scope", format!("unknown scope '{}'", e.0)));
                ScopeSet::default()
            }
        };
        if !invalid.is_empty() {
            return Err(NewClientError::Invalid(invalid));
        }
        let (secret, secret_hash) = match new.kind {
            ClientKind::Confidential => {
                let m = self
                    .secrets
                    .mint(SecretKind::ClientSecret)
                    .map_err(unknown)?;
                (Some(m.text), Some(m.secret_hash))
            }
            ClientKind::Public => (None, None),
        };
        let client = OAuthClient {
            client_id: self.ids.new_id().to_string(),
            name,
            kind: new.kind,
            secret_hash,
            redirect_uris: new.redirect_uris,
            allowed_scopes: scopes,
            dynamic: new.dynamic,
            created_at: self.now(),
            revoked_at: None,
        };
        self.store
            .create_client(&client)
            .await
            .map_err(|e| match e {
                CreateError::Duplicate { field } => NewClientError::Invalid(vec![(
                    "client_id",
                    format!("{field} is already taken"),
                )]),
                CreateError::Unknown(e) => NewClientError::Store(StoreError::Unknown(e)),
            })?;
        Ok(CreatedClient { client, secret })
    }

    pub async fn list_clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        self.store.list_clients().await
    }

    /// A new secret for a confidential client (the old one stops working at once); `None` when
    /// no such unrevoked confidential client exists.
    pub async fn rotate_secret(&self, client_id: &str) -> Result<Option<String>, StoreError> {
        match self.store.get_client(client_id).await? {
            Some(c) if c.revoked_at.is_none() && c.kind == ClientKind::Confidential => {}
            _ => return Ok(None),
        }
        let m = self
            .secrets
            .mint(SecretKind::ClientSecret)
            .map_err(unknown)?;
        Ok(self
            .store
            .set_client_secret(client_id, &m.secret_hash)
            .await?
            .then_some(m.text))
    }

    /// Revokes a client and every token issued to it.
    pub async fn revoke_client(&self, client_id: &str) -> Result<bool, StoreError> {
        self.store.revoke_client(client_id, self.now()).await
    }
}
