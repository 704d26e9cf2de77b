//! `slotbook admin oauth-client create|list|rotate-secret|revoke`: parsing and printing for
//! [`domain::oauth_service::OAuthService`]'s client management. A client secret is printed
//! once, by `create` (confidential clients) and `rotate-secret`; it is stored only as a
//! peppered hash.

use crate::admin::AdminContext;
use api_types::time::{opt_ts, ts};
use clap::{Subcommand, ValueEnum};
use domain::oauth::{ClientKind, OAuthClient};
use domain::oauth_service::{NewClient, NewClientError, OAuthService};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// A server-side app that keeps a secret (`client_secret_basic` / `client_secret_post`).
    Confidential,
    /// A native or browser app: no secret, PKCE only (`none`).
    Public,
}

#[derive(Debug, Subcommand)]
pub enum OAuthClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "confidential")]
        kind: KindArg,
        /// An allowed redirect URI, matched exactly (repeat for several).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Space-separated scopes the client may be granted (aliases allowed).
        #[arg(long)]
        scopes: String,
    },
    /// List every client.
    List,
    /// Issue a new secret for a confidential client; the old one stops working at once.
    RotateSecret {
        #[arg(long = "client-id")]
        client_id: String,
    },
    /// Revoke a client and every token issued to it.
    Revoke {
        #[arg(long = "client-id")]
        client_id: String,
    },
}

fn kind_str(k: ClientKind) -> &'static str {
    match k {
        ClientKind::Confidential => "confidential",
        ClientKind::Public => "public",
    }
}

fn client_json(c: &OAuthClient) -> Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "kind": kind_str(c.kind),
        "redirect_uris": c.redirect_uris,
        "scopes": c.allowed_scopes.iter().collect::<Vec<_>>(),
        "dynamic": c.dynamic,
        "created_at": ts(c.created_at),
        "revoked_at": opt_ts(c.revoked_at),
    })
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn service(ctx: &AdminContext) -> OAuthService {
    crate::wiring::oauth_service(
        ctx.store.clone(),
        ctx.clock.clone(),
        ctx.ids.clone(),
        &ctx.pepper,
    )
}

pub async fn run(
    ctx: &AdminContext,
    command: OAuthClientCommand,
    json: bool,
) -> anyhow::Result<()> {
    let oauth = service(ctx);
    match command {
        OAuthClientCommand::Create {
            name,
            kind,
            redirect_uris,
            scopes,
        } => {
            let new = NewClient {
                name,
                kind: match kind {
                    KindArg::Confidential => ClientKind::Confidential,
                    KindArg::Public => ClientKind::Public,
                },
                redirect_uris,
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                dynamic: false,
            };
            let created = oauth.create_client(new).await.map_err(|e| match e {
                NewClientError::Invalid(fields) => anyhow::anyhow!(
                    "invalid client: {}",
                    fields
                        .iter()
                        .map(|(f, m)| format!("{f}: {m}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                NewClientError::Store(e) => anyhow::Error::new(e),
            })?;
            if json {
                let mut v = client_json(&created.client);
                v["client_secret"] = json!(created.secret);
                return print_json(&v);
            }
            println!(
                "created {} client {} ({})",
                kind_str(created.client.kind),
                created.client.client_id,
                created.client.name
            );
            if let Some(secret) = created.secret {
                println!("client secret (shown once): {secret}");
            }
        }
        OAuthClientCommand::List => {
            let list = oauth.list_clients().await?;
            if json {
                return print_json(&Value::Array(list.iter().map(client_json).collect()));
            }
            println!("CLIENT_ID\tKIND\tSTATUS\tNAME\tSCOPES\tREDIRECT_URIS");
            for c in list {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    c.client_id,
                    kind_str(c.kind),
                    if c.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    c.name,
                    c.allowed_scopes,
                    c.redirect_uris.join(",")
                );
            }
        }
        OAuthClientCommand::RotateSecret { client_id } => {
            let Some(secret) = oauth.rotate_secret(&client_id).await? else {
                anyhow::bail!(
                    "no active confidential client {client_id}; see `slotbook admin oauth-client list`"
                );
            };
            if json {
                return print_json(&json!({"client_id": client_id, "client_secret": secret}));
            }
            println!("new client secret for {client_id} (shown once): {secret}");
        }
        OAuthClientCommand::Revoke { client_id } => {
            if !oauth.revoke_client(&client_id).await? {
                anyhow::bail!("no client {client_id}; see `slotbook admin oauth-client list`");
            }
            if json {
                return print_json(&json!({"client_id": client_id, "revoked": true}));
            }
            println!("revoked client {client_id} and every token issued to it");
        }
    }
    Ok(())
}
