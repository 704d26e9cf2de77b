//! [`OAuthStore`] on PostgreSQL: clients, codes, grant families and tokens (only peppered
//! hashes).
//!
//! A token's effective revocation is the earliest of its own, its family's and its client's
//! (`LEAST` over a join), so revoking a family or a client is one `UPDATE`. Code redemption and
//! refresh rotation are conditional `UPDATE`s (`… IS NULL`): under concurrent callers exactly
//! one sees a row affected.

use crate::directory::{USER_COLUMNS, user_from_row};
use crate::{PgStore, ts, ts_opt, unknown};
use async_trait::async_trait;
use domain::access::ScopeSet;
use domain::oauth::{
    AuthorizationCode, ClientKind, OAuthClient, OAuthStore, OAuthToken, Redemption, TokenKind,
};
use domain::organization::User;
use domain::ports::{CreateError, StoreError};
use jiff::Timestamp;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

type Result<T> = std::result::Result<T, StoreError>;

const CLIENT_COLUMNS: &str = "client_id, name, kind, secret_hash, redirect_uris, allowed_scopes, \
     dynamic, created_at, revoked_at";
const CODE_COLUMNS: &str = "lookup, secret_hash, client_id, organization_id, user_id, \
     redirect_uri, redirect_uri_defaulted, code_challenge, scopes, family_id, created_at, \
     expires_at, used_at";

fn at(r: &PgRow, col: &str) -> Result<Timestamp> {
    Ok(r.try_get::<jiff_sqlx::Timestamp, _>(col)
        .map_err(unknown)?
        .to_jiff())
}

fn at_opt(r: &PgRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(col)
        .map_err(unknown)?
        .map(|t| t.to_jiff()))
}

fn scopes(r: &PgRow, col: &str) -> Result<ScopeSet> {
    let v: Vec<String> = r.try_get(col).map_err(unknown)?;
    Ok(ScopeSet::from_stored(v.iter().map(String::as_str)))
}

fn scope_vec(s: &ScopeSet) -> Vec<String> {
    s.iter().map(str::to_owned).collect()
}

fn client_of(r: &PgRow) -> Result<OAuthClient> {
    let kind: String = r.try_get("kind").map_err(unknown)?;
    Ok(OAuthClient {
        client_id: r.try_get("client_id").map_err(unknown)?,
        name: r.try_get("name").map_err(unknown)?,
        kind: ClientKind::parse(&kind)
            .ok_or_else(|| unknown(anyhow::anyhow!("client kind '{kind}'")))?,
        secret_hash: r.try_get("secret_hash").map_err(unknown)?,
        redirect_uris: r.try_get("redirect_uris").map_err(unknown)?,
        allowed_scopes: scopes(r, "allowed_scopes")?,
        dynamic: r.try_get("dynamic").map_err(unknown)?,
        created_at: at(r, "created_at")?,
        revoked_at: at_opt(r, "revoked_at")?,
    })
}

fn code_of(r: &PgRow) -> Result<AuthorizationCode> {
    Ok(AuthorizationCode {
        lookup: r.try_get("lookup").map_err(unknown)?,
        secret_hash: r.try_get("secret_hash").map_err(unknown)?,
        client_id: r.try_get("client_id").map_err(unknown)?,
        organization_id: r
            .try_get::<Uuid, _>("organization_id")
            .map_err(unknown)?
            .into(),
        user_id: r.try_get::<Uuid, _>("user_id").map_err(unknown)?.into(),
        redirect_uri: r.try_get("redirect_uri").map_err(unknown)?,
        redirect_uri_defaulted: r.try_get("redirect_uri_defaulted").map_err(unknown)?,
        code_challenge: r.try_get("code_challenge").map_err(unknown)?,
        scopes: scopes(r, "scopes")?,
        family_id: r.try_get("family_id").map_err(unknown)?,
        created_at: at(r, "created_at")?,
        expires_at: at(r, "expires_at")?,
        used_at: at_opt(r, "used_at")?,
    })
}

fn token_of(r: &PgRow) -> Result<OAuthToken> {
    let kind: String = r.try_get("kind").map_err(unknown)?;
    Ok(OAuthToken {
        lookup: r.try_get("lookup").map_err(unknown)?,
        kind: TokenKind::parse(&kind)
            .ok_or_else(|| unknown(anyhow::anyhow!("token kind '{kind}'")))?,
        secret_hash: r.try_get("secret_hash").map_err(unknown)?,
        family_id: r.try_get("family_id").map_err(unknown)?,
        client_id: r.try_get("client_id").map_err(unknown)?,
        organization_id: r
            .try_get::<Uuid, _>("organization_id")
            .map_err(unknown)?
            .into(),
        user_id: r.try_get::<Uuid, _>("user_id").map_err(unknown)?.into(),
        scopes: scopes(r, "scopes")?,
        created_at: at(r, "created_at")?,
        expires_at: at(r, "expires_at")?,
        revoked_at: at_opt(r, "revoked_at")?,
        rotated_at: at_opt(r, "rotated_at")?,
    })
}

async fn insert_token(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    t: &OAuthToken,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_tokens (lookup, kind, secret_hash, family_id, client_id, \
         organization_id, user_id, scopes, created_at, expires_at, revoked_at, rotated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&t.lookup)
    .bind(t.kind.as_str())
    .bind(&t.secret_hash)
    .bind(t.family_id)
    .bind(&t.client_id)
    .bind(t.organization_id.0)
    .bind(t.user_id.0)
    .bind(scope_vec(&t.scopes))
    .bind(ts(t.created_at))
    .bind(ts(t.expires_at))
    .bind(ts_opt(t.revoked_at))
    .bind(ts_opt(t.rotated_at))
    .execute(&mut **tx)
    .await
    .map_err(unknown)?;
    Ok(())
}

#[async_trait]
impl OAuthStore for PgStore {
    async fn create_client(&self, c: &OAuthClient) -> std::result::Result<(), CreateError> {
        sqlx::query(
            "INSERT INTO oauth_clients (client_id, name, kind, secret_hash, redirect_uris, \
             allowed_scopes, dynamic, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(&c.secret_hash)
        .bind(&c.redirect_uris)
        .bind(scope_vec(&c.allowed_scopes))
        .bind(c.dynamic)
        .bind(ts(c.created_at))
        .bind(ts_opt(c.revoked_at))
        .execute(self.pool())
        .await
        .map_err(|e| match crate::db_error(&e) {
            Some((code, _)) if code == "23505" => CreateError::Duplicate { field: "client_id" },
            _ => CreateError::Unknown(crate::classify(e).context("inserting client")),
        })?;
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<OAuthClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(client_of).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<OAuthClient>> {
        let sql =
            format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY created_at, client_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(unknown)?;
        rows.iter().map(client_of).collect()
    }

    async fn set_client_secret(&self, client_id: &str, hash: &[u8]) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE oauth_clients SET secret_hash = $1 WHERE client_id = $2 AND revoked_at IS NULL",
        )
        .bind(hash)
        .bind(client_id)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_client(&self, client_id: &str, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE oauth_clients SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(client_id)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(done.rows_affected() == 1)
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1) \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_all(self.pool())
            .await
            .map_err(unknown)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn create_code(&self, c: &AuthorizationCode) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(unknown)?;
        sqlx::query(
            "INSERT INTO oauth_families (id, client_id, organization_id, user_id, created_at, \
             revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(c.family_id)
        .bind(&c.client_id)
        .bind(c.organization_id.0)
        .bind(c.user_id.0)
        .bind(ts(c.created_at))
        .execute(&mut *tx)
        .await
        .map_err(unknown)?;
        sqlx::query(
            "INSERT INTO oauth_codes (lookup, secret_hash, client_id, organization_id, user_id, \
             redirect_uri, redirect_uri_defaulted, code_challenge, scopes, family_id, \
             created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&c.lookup)
        .bind(&c.secret_hash)
        .bind(&c.client_id)
        .bind(c.organization_id.0)
        .bind(c.user_id.0)
        .bind(&c.redirect_uri)
        .bind(c.redirect_uri_defaulted)
        .bind(&c.code_challenge)
        .bind(scope_vec(&c.scopes))
        .bind(c.family_id)
        .bind(ts(c.created_at))
        .bind(ts(c.expires_at))
        .bind(ts_opt(c.used_at))
        .execute(&mut *tx)
        .await
        .map_err(unknown)?;
        tx.commit().await.map_err(unknown)?;
        Ok(())
    }

    async fn find_code(&self, lookup: &str) -> Result<Option<AuthorizationCode>> {
        let sql = format!("SELECT {CODE_COLUMNS} FROM oauth_codes WHERE lookup = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(code_of).transpose()
    }

    async fn redeem_code(&self, lookup: &str, now: Timestamp) -> Result<Option<Redemption>> {
        let done = sqlx::query(
            "UPDATE oauth_codes SET used_at = $1 WHERE lookup = $2 AND used_at IS NULL",
        )
        .bind(ts(now))
        .bind(lookup)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        if done.rows_affected() == 1 {
            return Ok(Some(Redemption::First));
        }
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM oauth_codes WHERE lookup = $1")
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        Ok(exists.map(|_| Redemption::Replayed))
    }

    async fn insert_tokens(&self, tokens: &[OAuthToken]) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(unknown)?;
        for t in tokens {
            insert_token(&mut tx, t).await?;
        }
        tx.commit().await.map_err(unknown)?;
        Ok(())
    }

    async fn find_token(&self, lookup: &str) -> Result<Option<OAuthToken>> {
        let row = sqlx::query(
            "SELECT t.lookup, t.kind, t.secret_hash, t.family_id, t.client_id, \
             t.organization_id, t.user_id, t.scopes, t.created_at, t.expires_at, \
             LEAST(t.revoked_at, f.revoked_at, c.revoked_at) AS revoked_at, t.rotated_at \
             FROM oauth_tokens t JOIN oauth_families f ON f.id = t.family_id \
             JOIN oauth_clients c ON c.client_id = t.client_id WHERE t.lookup = $1",
        )
        .bind(lookup)
        .fetch_optional(self.pool())
        .await
        .map_err(unknown)?;
        row.as_ref().map(token_of).transpose()
    }

    async fn rotate_refresh(
        &self,
        lookup: &str,
        now: Timestamp,
        successors: &[OAuthToken],
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await.map_err(unknown)?;
        let done = sqlx::query(
            "UPDATE oauth_tokens t SET rotated_at = $1 FROM oauth_families f \
             WHERE t.lookup = $2 AND t.kind = 'refresh' AND t.rotated_at IS NULL \
             AND t.revoked_at IS NULL AND f.id = t.family_id AND f.revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(lookup)
        .execute(&mut *tx)
        .await
        .map_err(unknown)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for t in successors {
            insert_token(&mut tx, t).await?;
        }
        tx.commit().await.map_err(unknown)?;
        Ok(true)
    }

    async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE oauth_families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(family_id)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(())
    }

    async fn revoke_token(&self, lookup: &str, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE oauth_tokens SET revoked_at = $1 WHERE lookup = $2 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(lookup)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(done.rows_affected() == 1)
    }
}
