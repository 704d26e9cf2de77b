//! [`DirectoryStore`] on PostgreSQL: organizations and their users.
//!
//! Never reads or changes a user outside the organization it was asked about; the username index
//! is the one deployment-wide uniqueness rule here.

use crate::{PgStore, duplicate_field, ts, unknown};
use anyhow::anyhow;
use async_trait::async_trait;
use domain::ids::{OrganizationId, UserId};
use domain::organization::{Organization, Role, User, Username};
use domain::ports::{CreateError, DirectoryStore, StoreError};
use domain::validate::Email;
use sqlx::Row;
use sqlx::postgres::PgRow;

pub(crate) const USER_COLUMNS: &str = "organization_id, id, username, email, first_name, last_name, timezone, \
     locale, avatar_url, role, password_hash, created_at";

fn org_from_row(r: &PgRow) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: OrganizationId(r.try_get("id").map_err(unknown)?),
        name: r.try_get("name").map_err(unknown)?,
        plan: r.try_get("plan").map_err(unknown)?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(unknown)?
            .to_jiff(),
    })
}

pub(crate) fn user_from_row(r: &PgRow) -> Result<User, StoreError> {
    let username: Option<String> = r.try_get("username").map_err(unknown)?;
    let username = username
        .map(|u| Username::parse(&u).map_err(|e| unknown(anyhow!("stored username: {e}"))))
        .transpose()?;
    let email: String = r.try_get("email").map_err(unknown)?;
    let role: String = r.try_get("role").map_err(unknown)?;
    Ok(User {
        id: UserId(r.try_get("id").map_err(unknown)?),
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        username,
        email: Email::parse(&email).map_err(|e| unknown(anyhow!("stored email: {e}")))?,
        first_name: r.try_get("first_name").map_err(unknown)?,
        last_name: r.try_get("last_name").map_err(unknown)?,
        timezone: r.try_get("timezone").map_err(unknown)?,
        locale: r.try_get("locale").map_err(unknown)?,
        avatar_url: r.try_get("avatar_url").map_err(unknown)?,
        role: Role::parse(&role).ok_or_else(|| unknown(anyhow!("stored role {role:?}")))?,
        password_hash: r.try_get("password_hash").map_err(unknown)?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(unknown)?
            .to_jiff(),
    })
}

#[async_trait]
impl DirectoryStore for PgStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), CreateError> {
        sqlx::query(
            "INSERT INTO organizations (id, name, plan, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(org.id.0)
        .bind(&org.name)
        .bind(&org.plan)
        .bind(ts(org.created_at))
        .execute(self.pool())
        .await
        .map_err(|e| match duplicate_field(&e) {
            Some(field) => CreateError::Duplicate { field },
            None => CreateError::Unknown(crate::classify(e)),
        })?;
        Ok(())
    }

    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        let row = sqlx::query("SELECT id, name, plan, created_at FROM organizations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, plan, created_at FROM organizations ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(unknown)?;
        rows.iter().map(org_from_row).collect()
    }

    async fn create_user(&self, user: &User) -> Result<(), CreateError> {
        sqlx::query(
            "INSERT INTO users (organization_id, id, username, email, first_name, last_name, \
             timezone, locale, avatar_url, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(user.organization_id.0)
        .bind(user.id.0)
        .bind(user.username.as_ref().map(|u| u.as_str().to_owned()))
        .bind(user.email.as_str())
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(&user.timezone)
        .bind(&user.locale)
        .bind(&user.avatar_url)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(ts(user.created_at))
        .execute(self.pool())
        .await
        .map_err(|e| match duplicate_field(&e) {
            Some(field) => CreateError::Duplicate { field },
            None => CreateError::Unknown(crate::classify(e)),
        })?;
        Ok(())
    }

    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_user_by_username(
        &self,
        org: OrganizationId,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 AND username = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(username)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_public_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .fetch_all(self.pool())
            .await
            .map_err(unknown)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_password_hash(
        &self,
        org: OrganizationId,
        id: UserId,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $3 WHERE organization_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(hash)
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_user_role(
        &self,
        org: OrganizationId,
        id: UserId,
        role: domain::organization::Role,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET role = $3 WHERE organization_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .bind(role.as_str())
            .execute(self.pool())
            .await
            .map_err(unknown)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_user(&self, org: OrganizationId, id: UserId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE organization_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .execute(self.pool())
            .await
            .map_err(unknown)?;
        Ok(done.rows_affected() > 0)
    }
}
