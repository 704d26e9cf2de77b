//! [`TokenStore`] on PostgreSQL: personal access tokens (only their peppered hashes).
//!
//! The 42-active-tokens rule is checked and the row inserted under a transaction-scoped
//! advisory lock per organization, so two concurrent creations can never both pass the check.
//! `find_pat_by_lookup` is the one cross-tenant read.

use crate::{PgStore, duplicate_field, ts, ts_opt, unknown};
use async_trait::async_trait;
use domain::access::ScopeSet;
use domain::ids::{OrganizationId, TokenId, UserId};
use domain::ports::{CreatePatError, MAX_ACTIVE_PATS, PersonalAccessToken, StoreError, TokenStore};
use jiff::Timestamp;
use sqlx::Row;
use sqlx::postgres::PgRow;

/// Advisory-lock class of per-organization token creation (two-key lock space, distinct from
/// the one-key booking locks).
const TOKEN_LOCK_CLASS: i32 = 0x7041_5401;

const COLUMNS: &str = "organization_id, id, user_id, name, lookup, secret_hash, scopes, \
     last_four, expires_at, revoked_at, created_at";

fn org_lock_key(org: OrganizationId) -> i32 {
    let (hi, lo) = org.0.as_u64_pair();
    let x = hi ^ lo;
    i32::from_ne_bytes(((x >> 32) as u32 ^ x as u32).to_ne_bytes())
}

fn pat_from_row(r: &PgRow) -> Result<PersonalAccessToken, StoreError> {
    let scopes: Vec<String> = r.try_get("scopes").map_err(unknown)?;
    let opt = |col: &str| -> Result<Option<Timestamp>, StoreError> {
        Ok(r.try_get::<Option<jiff_sqlx::Timestamp>, _>(col)
            .map_err(unknown)?
            .map(|t| t.to_jiff()))
    };
    Ok(PersonalAccessToken {
        id: TokenId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        user_id: UserId(r.try_get("user_id").map_err(unknown)?),
        name: r.try_get("name").map_err(unknown)?,
        lookup: r.try_get("lookup").map_err(unknown)?,
        secret_hash: r.try_get("secret_hash").map_err(unknown)?,
        scopes: ScopeSet::from_stored(scopes.iter().map(String::as_str)),
        last_four: r.try_get("last_four").map_err(unknown)?,
        expires_at: opt("expires_at")?,
        revoked_at: opt("revoked_at")?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(unknown)?
            .to_jiff(),
    })
}

#[async_trait]
impl TokenStore for PgStore {
    async fn create_pat(
        &self,
        pat: &PersonalAccessToken,
        now: Timestamp,
    ) -> Result<(), CreatePatError> {
        let unk = |e: sqlx::Error| CreatePatError::Unknown(crate::classify(e));
        let mut tx = self.pool().begin().await.map_err(unk)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(TOKEN_LOCK_CLASS)
            .bind(org_lock_key(pat.organization_id))
            .execute(&mut *tx)
            .await
            .map_err(unk)?;
        let active: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM personal_access_tokens WHERE organization_id = $1 \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(pat.organization_id.0)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(unk)?;
        if active >= i64::from(MAX_ACTIVE_PATS) {
            return Err(CreatePatError::TooManyActive);
        }
        let scopes: Vec<String> = pat.scopes.iter().map(str::to_owned).collect();
        sqlx::query(
            "INSERT INTO personal_access_tokens (organization_id, id, user_id, name, lookup, \
             secret_hash, scopes, last_four, expires_at, revoked_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(pat.organization_id.0)
        .bind(pat.id.0)
        .bind(pat.user_id.0)
        .bind(&pat.name)
        .bind(&pat.lookup)
        .bind(&pat.secret_hash)
        .bind(scopes)
        .bind(&pat.last_four)
        .bind(ts_opt(pat.expires_at))
        .bind(ts_opt(pat.revoked_at))
        .bind(ts(pat.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match duplicate_field(&e) {
            Some("name") => CreatePatError::NameTaken,
            _ => CreatePatError::Unknown(crate::classify(e)),
        })?;
        tx.commit().await.map_err(unk)?;
        Ok(())
    }

    async fn find_pat_by_lookup(
        &self,
        lookup: &str,
    ) -> Result<Option<PersonalAccessToken>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM personal_access_tokens WHERE lookup = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lookup)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(pat_from_row).transpose()
    }

    async fn list_pats(
        &self,
        org: OrganizationId,
        user: Option<UserId>,
    ) -> Result<Vec<PersonalAccessToken>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM personal_access_tokens WHERE organization_id = $1 \
             AND ($2::uuid IS NULL OR user_id = $2) ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(user.map(|u| u.0))
            .fetch_all(self.pool())
            .await
            .map_err(unknown)?;
        rows.iter().map(pat_from_row).collect()
    }

    async fn revoke_pat(
        &self,
        org: OrganizationId,
        id: TokenId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE personal_access_tokens SET revoked_at = $3 WHERE organization_id = $1 \
             AND id = $2 AND revoked_at IS NULL",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(done.rows_affected() > 0)
    }
}
