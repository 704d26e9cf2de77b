//! [`OAuthStore`] on SQLite: clients, codes, grant families and tokens (only peppered hashes).
//!
//! A token's effective revocation is the earliest of its own, its family's and its client's
//! (`COALESCE` over a join), so revoking a family or a client is one `UPDATE`. Code redemption
//! and refresh rotation are conditional `UPDATE`s (`… IS NULL`) inside the write turn: exactly
//! one caller wins.

use crate::codec::{
    Result, col, corrupt, guests_from_json, guests_to_json, ms, opt_ts_col, scopes_from_text,
    scopes_to_text, ts_col, uuid_col,
};
use crate::directory::{USER_COLUMNS, user_of};
use crate::{SqliteStore, db_err, duplicate_field};
use async_trait::async_trait;
use domain::oauth::{
    AuthorizationCode, ClientKind, OAuthClient, OAuthStore, OAuthToken, Redemption, TokenKind,
};
use domain::organization::User;
use domain::ports::CreateError;
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

const CLIENT_COLUMNS: &str = "client_id, name, kind, secret_hash, redirect_uris, allowed_scopes, \
     dynamic, created_at, revoked_at";
const CODE_COLUMNS: &str = "lookup, secret_hash, client_id, organization_id, user_id, \
     redirect_uri, redirect_uri_defaulted, code_challenge, scopes, family_id, created_at, \
     expires_at, used_at";

fn client_of(row: &SqliteRow) -> Result<OAuthClient> {
    let kind: String = col(row, "kind")?;
    let uris: String = col(row, "redirect_uris")?;
    let scopes: String = col(row, "allowed_scopes")?;
    Ok(OAuthClient {
        client_id: col(row, "client_id")?,
        name: col(row, "name")?,
        kind: ClientKind::parse(&kind).ok_or_else(|| corrupt(format!("client kind '{kind}'")))?,
        secret_hash: col(row, "secret_hash")?,
        redirect_uris: guests_from_json(&uris)?,
        allowed_scopes: scopes_from_text(&scopes),
        dynamic: col::<i64>(row, "dynamic")? != 0,
        created_at: ts_col(row, "created_at")?,
        revoked_at: opt_ts_col(row, "revoked_at")?,
    })
}

fn code_of(row: &SqliteRow) -> Result<AuthorizationCode> {
    let scopes: String = col(row, "scopes")?;
    Ok(AuthorizationCode {
        lookup: col(row, "lookup")?,
        secret_hash: col(row, "secret_hash")?,
        client_id: col(row, "client_id")?,
        organization_id: uuid_col(row, "organization_id")?.into(),
        user_id: uuid_col(row, "user_id")?.into(),
        redirect_uri: col(row, "redirect_uri")?,
        redirect_uri_defaulted: col::<i64>(row, "redirect_uri_defaulted")? != 0,
        code_challenge: col(row, "code_challenge")?,
        scopes: scopes_from_text(&scopes),
        family_id: uuid_col(row, "family_id")?,
        created_at: ts_col(row, "created_at")?,
        expires_at: ts_col(row, "expires_at")?,
        used_at: opt_ts_col(row, "used_at")?,
    })
}

fn token_of(row: &SqliteRow) -> Result<OAuthToken> {
    let kind: String = col(row, "kind")?;
    let scopes: String = col(row, "scopes")?;
    Ok(OAuthToken {
        lookup: col(row, "lookup")?,
        kind: TokenKind::parse(&kind).ok_or_else(|| corrupt(format!("token kind '{kind}'")))?,
        secret_hash: col(row, "secret_hash")?,
        family_id: uuid_col(row, "family_id")?,
        client_id: col(row, "client_id")?,
        organization_id: uuid_col(row, "organization_id")?.into(),
        user_id: uuid_col(row, "user_id")?.into(),
        scopes: scopes_from_text(&scopes),
        created_at: ts_col(row, "created_at")?,
        expires_at: ts_col(row, "expires_at")?,
        revoked_at: opt_ts_col(row, "revoked_at")?,
        rotated_at: opt_ts_col(row, "rotated_at")?,
    })
}

async fn insert_token(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    t: &OAuthToken,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_tokens (lookup, kind, secret_hash, family_id, client_id, \
         organization_id, user_id, scopes, created_at, expires_at, revoked_at, rotated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&t.lookup)
    .bind(t.kind.as_str())
    .bind(&t.secret_hash)
    .bind(t.family_id)
    .bind(&t.client_id)
    .bind(t.organization_id.as_uuid())
    .bind(t.user_id.as_uuid())
    .bind(scopes_to_text(&t.scopes))
    .bind(ms(t.created_at))
    .bind(ms(t.expires_at))
    .bind(t.revoked_at.map(ms))
    .bind(t.rotated_at.map(ms))
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

#[async_trait]
impl OAuthStore for SqliteStore {
    async fn create_client(&self, c: &OAuthClient) -> std::result::Result<(), CreateError> {
        let q = sqlx::query(
            "INSERT INTO oauth_clients (client_id, name, kind, secret_hash, redirect_uris, \
             allowed_scopes, dynamic, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(&c.secret_hash)
        .bind(guests_to_json(&c.redirect_uris).map_err(|e| CreateError::Unknown(e.into()))?)
        .bind(scopes_to_text(&c.allowed_scopes))
        .bind(i64::from(c.dynamic))
        .bind(ms(c.created_at))
        .bind(c.revoked_at.map(ms));
        self.write_one(q).await.map_err(|e| {
            match duplicate_field(&e, &[("client_id", "client_id")]) {
                Some(field) => CreateError::Duplicate { field },
                None => CreateError::Unknown(crate::classify(e).context("inserting client")),
            }
        })?;
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<OAuthClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading client"))?;
        row.as_ref().map(client_of).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<OAuthClient>> {
        let sql =
            format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY created_at, client_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing clients"))?;
        rows.iter().map(client_of).collect()
    }

    async fn set_client_secret(&self, client_id: &str, hash: &[u8]) -> Result<bool> {
        let q = sqlx::query(
            "UPDATE oauth_clients SET secret_hash = ? WHERE client_id = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .bind(client_id);
        let done = self.write_one(q).await.map_err(db_err("rotating secret"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_client(&self, client_id: &str, now: Timestamp) -> Result<bool> {
        let q = sqlx::query(
            "UPDATE oauth_clients SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(client_id);
        let done = self.write_one(q).await.map_err(db_err("revoking client"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = ? ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.to_lowercase())
            .fetch_all(self.pool())
            .await
            .map_err(db_err("finding users by e-mail"))?;
        rows.iter().map(user_of).collect()
    }

    async fn create_code(&self, c: &AuthorizationCode) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO oauth_families (id, client_id, organization_id, user_id, created_at, \
             revoked_at) VALUES (?, ?, ?, ?, ?, NULL)",
        )
        .bind(c.family_id)
        .bind(&c.client_id)
        .bind(c.organization_id.as_uuid())
        .bind(c.user_id.as_uuid())
        .bind(ms(c.created_at))
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("inserting family"))?;
        sqlx::query(
            "INSERT INTO oauth_codes (lookup, secret_hash, client_id, organization_id, user_id, \
             redirect_uri, redirect_uri_defaulted, code_challenge, scopes, family_id, \
             created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.lookup)
        .bind(&c.secret_hash)
        .bind(&c.client_id)
        .bind(c.organization_id.as_uuid())
        .bind(c.user_id.as_uuid())
        .bind(&c.redirect_uri)
        .bind(i64::from(c.redirect_uri_defaulted))
        .bind(&c.code_challenge)
        .bind(scopes_to_text(&c.scopes))
        .bind(c.family_id)
        .bind(ms(c.created_at))
        .bind(ms(c.expires_at))
        .bind(c.used_at.map(ms))
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("inserting code"))?;
        w.commit().await.map_err(db_err("committing code"))?;
        Ok(())
    }

    async fn find_code(&self, lookup: &str) -> Result<Option<AuthorizationCode>> {
        let sql = format!("SELECT {CODE_COLUMNS} FROM oauth_codes WHERE lookup = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading code"))?;
        row.as_ref().map(code_of).transpose()
    }

    async fn redeem_code(&self, lookup: &str, now: Timestamp) -> Result<Option<Redemption>> {
        let q =
            sqlx::query("UPDATE oauth_codes SET used_at = ? WHERE lookup = ? AND used_at IS NULL")
                .bind(ms(now))
                .bind(lookup);
        let done = self.write_one(q).await.map_err(db_err("redeeming code"))?;
        if done.rows_affected() == 1 {
            return Ok(Some(Redemption::First));
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM oauth_codes WHERE lookup = ?")
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading code"))?;
        Ok(exists.map(|_| Redemption::Replayed))
    }

    async fn insert_tokens(&self, tokens: &[OAuthToken]) -> Result<()> {
        let mut w = self.begin_write().await?;
        for t in tokens {
            insert_token(&mut w.tx, t)
                .await
                .map_err(db_err("inserting token"))?;
        }
        w.commit().await.map_err(db_err("committing tokens"))?;
        Ok(())
    }

    async fn find_token(&self, lookup: &str) -> Result<Option<OAuthToken>> {
        let row = sqlx::query(
            "SELECT t.lookup, t.kind, t.secret_hash, t.family_id, t.client_id, \
             t.organization_id, t.user_id, t.scopes, t.created_at, t.expires_at, \
             CASE WHEN COALESCE(t.revoked_at, f.revoked_at, c.revoked_at) IS NULL THEN NULL \
                  ELSE MIN(COALESCE(t.revoked_at, 9223372036854775807), \
                           COALESCE(f.revoked_at, 9223372036854775807), \
                           COALESCE(c.revoked_at, 9223372036854775807)) END AS revoked_at, \
             t.rotated_at \
             FROM oauth_tokens t JOIN oauth_families f ON f.id = t.family_id \
             JOIN oauth_clients c ON c.client_id = t.client_id WHERE t.lookup = ?",
        )
        .bind(lookup)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err("reading token"))?;
        row.as_ref().map(token_of).transpose()
    }

    async fn rotate_refresh(
        &self,
        lookup: &str,
        now: Timestamp,
        successors: &[OAuthToken],
    ) -> Result<bool> {
        let mut w = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE oauth_tokens SET rotated_at = ? WHERE lookup = ? AND kind = 'refresh' \
             AND rotated_at IS NULL AND revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM \
             oauth_families f WHERE f.id = oauth_tokens.family_id AND f.revoked_at IS NOT NULL)",
        )
        .bind(ms(now))
        .bind(lookup)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err("rotating refresh token"))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for t in successors {
            insert_token(&mut w.tx, t)
                .await
                .map_err(db_err("inserting token"))?;
        }
        w.commit().await.map_err(db_err("committing rotation"))?;
        Ok(true)
    }

    async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<()> {
        let q = sqlx::query(
            "UPDATE oauth_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(family_id);
        self.write_one(q).await.map_err(db_err("revoking family"))?;
        Ok(())
    }

    async fn revoke_token(&self, lookup: &str, now: Timestamp) -> Result<bool> {
        let q = sqlx::query(
            "UPDATE oauth_tokens SET revoked_at = ? WHERE lookup = ? AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(lookup);
        let done = self.write_one(q).await.map_err(db_err("revoking token"))?;
        Ok(done.rows_affected() == 1)
    }
}
