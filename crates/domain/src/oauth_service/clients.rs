//! OAuth client management: register (the admin CLI, and RFC 7591 Dynamic Client Registration
//! when `[oauth] dynamic_registration` is on), list, rotate a confidential client's secret,
//! revoke a client and everything issued to it.

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

/// The client metadata of an RFC 7591 registration request (§2), as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientRegistration {
    pub redirect_uris: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    /// Space-separated; omitted = every active and reserved scope plus `offline_access` (the
    /// user still consents to what each request asks for).
    pub scope: Option<String>,
}

/// Why a registration was refused: the RFC 7591 §3.2.2 error code and a description.
#[derive(Debug)]
pub enum RegistrationError {
    /// `invalid_redirect_uri` or `invalid_client_metadata`.
    Invalid {
        error: &'static str,
        description: String,
    },
    Store(StoreError),
}

/// A registered client as RFC 7591 §3.2.1 reports it.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: OAuthClient,
    pub secret: Option<String>,
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
}

const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token"];

impl OAuthService {
    /// RFC 7591 Dynamic Client Registration. `token_endpoint_auth_method` `none` registers a
    /// public (native or browser) client, `client_secret_basic` (the RFC's default) or
    /// `client_secret_post` a confidential one. Grant types ⊆ `authorization_code`,
    /// `refresh_token`; response types ⊆ `code`; redirect URIs as for any client (https, a
    /// loopback IP over http, or a private-use scheme; no fragment).
    pub async fn register_client(
        &self,
        req: ClientRegistration,
    ) -> Result<RegisteredClient, RegistrationError> {
        let invalid = |error: &'static str, d: String| RegistrationError::Invalid {
            error,
            description: d,
        };
        let meta = |d: &str| invalid("invalid_client_metadata", d.to_owned());
        let redirect_uris = req.redirect_uris.unwrap_or_default();
        if redirect_uris.is_empty() {
            return Err(invalid(
                "invalid_redirect_uri",
                "redirect_uris must list at least one redirect URI".into(),
            ));
        }
        for uri in &redirect_uris {
            if let Err(why) = valid_redirect_uri(uri) {
                return Err(invalid(
                    "invalid_redirect_uri",
                    format!("redirect URI '{uri}' {why}"),
                ));
            }
        }
        let method = req
            .token_endpoint_auth_method
            .unwrap_or_else(|| "client_secret_basic".to_owned());
        let kind = match method.as_str() {
            "none" => ClientKind::Public,
            "client_secret_basic" | "client_secret_post" => ClientKind::Confidential,
            other => {
                return Err(meta(&format!(
                    "token_endpoint_auth_method '{other}' is not supported; use none, \
                     client_secret_basic or client_secret_post"
                )));
            }
        };
        let grant_types = req
            .grant_types
            .unwrap_or_else(|| vec!["authorization_code".to_owned()]);
        if let Some(g) = grant_types
            .iter()
            .find(|g| !GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(meta(&format!(
                "grant type '{g}' is not supported; use authorization_code and refresh_token"
            )));
        }
        if !grant_types.iter().any(|g| g == "authorization_code") {
            return Err(meta("grant_types must include authorization_code"));
        }
        if let Some(r) = req
            .response_types
            .unwrap_or_default()
            .iter()
            .find(|r| *r != "code")
        {
            return Err(meta(&format!(
                "response type '{r}' is not supported; use code"
            )));
        }
        let scopes: Vec<String> = match &req.scope {
            Some(s) => s
                .split(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            None => access::ACTIVE_AND_RESERVED_SCOPES
                .iter()
                .chain(&["offline_access"])
                .map(|s| (*s).to_owned())
                .collect(),
        };
        let created = self
            .create_client(NewClient {
                name: req
                    .client_name
                    .unwrap_or_else(|| "Unnamed application".to_owned()),
                kind,
                redirect_uris,
                scopes,
                dynamic: true,
            })
            .await
            .map_err(|e| match e {
                NewClientError::Invalid(fields) => {
                    let (field, msg) = fields.into_iter().next().unwrap_or(("", String::new()));
                    let error = if field == "redirect_uris" {
                        "invalid_redirect_uri"
                    } else {
                        "invalid_client_metadata"
                    };
                    invalid(error, format!("{field} {msg}"))
                }
                NewClientError::Store(e) => RegistrationError::Store(e),
            })?;
        Ok(RegisteredClient {
            client: created.client,
            secret: created.secret,
            token_endpoint_auth_method: method,
            grant_types,
        })
    }

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
