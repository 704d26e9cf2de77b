//! [`TokenStore`]: personal access tokens (only the peppered HMAC of the secret is stored).
//!
//! `create_pat` counts the organization's active tokens and inserts in one `BEGIN IMMEDIATE`
//! transaction, so concurrent creations cannot exceed the cap. Names are unique per
//! organization case-insensitively (the lower-cased `name_key` column); the lookup id is unique
//! across the deployment and is the one cross-tenant read.

use crate::codec::{
    Result, col, ms, opt_ts_col, scopes_from_text, scopes_to_text, ts_col, uuid_col,
};
use crate::{SqliteStore, db_err, duplicate_field};
use async_trait::async_trait;
use domain::ids::{OrganizationId, TokenId, UserId};
use domain::ports::{CreatePatError, MAX_ACTIVE_PATS, PersonalAccessToken, TokenStore};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str = "organization_id, id, user_id, name, lookup, secret_hash, scopes, \
     last_four, expires_at, revoked_at, created_at";

fn pat_of(row: &SqliteRow) -> Result<PersonalAccessToken> {
    let scopes: String = col(row, "scopes")?;
    Ok(PersonalAccessToken {
        id: uuid_col(row, "id")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        user_id: uuid_col(row, "user_id")?.into(),
        name: col(row, "name")?,
        lookup: col(row, "lookup")?,
        secret_hash: col(row, "secret_hash")?,
        scopes: scopes_from_text(&scopes),
        last_four: col(row, "last_four")?,
        expires_at: opt_ts_col(row, "expires_at")?,
        revoked_at: opt_ts_col(row, "revoked_at")?,
        created_at: ts_col(row, "created_at")?,
    })
}

fn unknown(what: &'static str) -> impl FnOnce(sqlx::Error) -> CreatePatError {
    move |e| CreatePatError::Unknown(crate::classify(e).context(what))
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_pat(
        &self,
        pat: &PersonalAccessToken,
        now: Timestamp,
    ) -> std::result::Result<(), CreatePatError> {
        let mut w = self
            .begin_write()
            .await
            .map_err(crate::WriteBeginError::into_anyhow)?;
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM personal_access_tokens WHERE organization_id = ? \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(pat.organization_id.as_uuid())
        .bind(ms(now))
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unknown("counting active tokens"))?;
        if active >= i64::from(MAX_ACTIVE_PATS) {
            return Err(CreatePatError::TooManyActive);
        }
        sqlx::query(
            "INSERT INTO personal_access_tokens (organization_id, id, user_id, name, name_key, \
             lookup, secret_hash, scopes, last_four, expires_at, revoked_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(pat.organization_id.as_uuid())
        .bind(pat.id.as_uuid())
        .bind(pat.user_id.as_uuid())
        .bind(&pat.name)
        .bind(pat.name.to_lowercase())
        .bind(&pat.lookup)
        .bind(&pat.secret_hash)
        .bind(scopes_to_text(&pat.scopes))
        .bind(&pat.last_four)
        .bind(pat.expires_at.map(ms))
        .bind(pat.revoked_at.map(ms))
        .bind(ms(pat.created_at))
        .execute(&mut *w.tx)
        .await
        .map_err(|e| match duplicate_field(&e, &[("name_key", "name")]) {
            Some("name") => CreatePatError::NameTaken,
            _ => CreatePatError::Unknown(crate::classify(e).context("inserting token")),
        })?;
        w.commit().await.map_err(unknown("committing token"))?;
        Ok(())
    }

    async fn find_pat_by_lookup(&self, lookup: &str) -> Result<Option<PersonalAccessToken>> {
        let sql = format!("SELECT {COLUMNS} FROM personal_access_tokens WHERE lookup = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("finding token"))?;
        row.as_ref().map(pat_of).transpose()
    }

    async fn list_pats(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM personal_access_tokens WHERE organization_id = ? \
             AND (? IS NULL OR user_id = ?) ORDER BY created_at, id"
        );
        let user = user.map(|u| u.as_uuid());
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(user)
            .bind(user)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing tokens"))?;
        rows.iter().map(pat_of).collect()
    }

    async fn revoke_pat(&self, org: OrganizationId, id: TokenId, now: Timestamp) -> Result<bool> {
        let done = self
            .write_one(
                sqlx::query(
                    "UPDATE personal_access_tokens SET revoked_at = ? \
                     WHERE organization_id = ? AND id = ? AND revoked_at IS NULL",
                )
                .bind(ms(now))
                .bind(org.as_uuid())
                .bind(id.as_uuid()),
            )
            .await
            .map_err(db_err("revoking token"))?;
        Ok(done.rows_affected() > 0)
    }
}
