//! [`DirectoryStore`]: organizations and their users.
//!
//! Usernames are unique across the deployment; e-mail addresses per organization,
//! case-insensitively (through the lower-cased `email_key` column). Reads of users always filter
//! by organization.

use crate::codec::{Cols, Result, col, corrupt, ms, ts_col, uuid_col};
use crate::{SqliteStore, db_err, duplicate_field};
use async_trait::async_trait;
use domain::ids::{OrganizationId, UserId};
use domain::organization::{Organization, Role, User, Username};
use domain::ports::{CreateError, DirectoryStore, StoreError};
use domain::validate::Email;

pub(crate) const USER_COLUMNS: &str = "organization_id, id, username, email, first_name, last_name, \
     timezone, locale, avatar_url, role, password_hash, created_at";

pub(crate) fn org_of(row: &impl Cols) -> Result<Organization> {
    Ok(Organization {
        id: uuid_col(row, "id")?.into(),
        name: col(row, "name")?,
        plan: col(row, "plan")?,
        created_at: ts_col(row, "created_at")?,
    })
}

pub(crate) fn user_of(row: &impl Cols) -> Result<User> {
    let username: Option<String> = col(row, "username")?;
    let email: String = col(row, "email")?;
    let role: String = col(row, "role")?;
    Ok(User {
        id: uuid_col(row, "id")?.into(),
        organization_id: uuid_col(row, "organization_id")?.into(),
        username: username
            .map(|u| Username::parse(&u).map_err(|e| corrupt(format!("username '{u}': {e}"))))
            .transpose()?,
        email: Email::parse(&email).map_err(|e| corrupt(format!("email '{email}': {e}")))?,
        first_name: col(row, "first_name")?,
        last_name: col(row, "last_name")?,
        timezone: col(row, "timezone")?,
        locale: col(row, "locale")?,
        avatar_url: col(row, "avatar_url")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format!("role '{role}'")))?,
        password_hash: col(row, "password_hash")?,
        created_at: ts_col(row, "created_at")?,
    })
}

fn create_err(e: sqlx::Error, needles: &[(&str, &'static str)]) -> CreateError {
    match duplicate_field(&e, needles) {
        Some(field) => CreateError::Duplicate { field },
        None => CreateError::Unknown(crate::classify(e).context("insert")),
    }
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn create_organization(
        &self,
        org: &Organization,
    ) -> std::result::Result<(), CreateError> {
        self.write_one(
            sqlx::query(
                "INSERT INTO organizations (id, name, plan, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(org.id.as_uuid())
            .bind(&org.name)
            .bind(&org.plan)
            .bind(ms(org.created_at)),
        )
        .await
        .map_err(|e| create_err(e, &[]))?;
        Ok(())
    }

    async fn get_organization(&self, id: OrganizationId) -> Result<Option<Organization>> {
        let sql = "SELECT id, name, plan, created_at FROM organizations WHERE id = ?";
        self.sync_reads()
            .row("reading organization", sql, [id.as_uuid()], |r| org_of(r))
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>> {
        let rows = sqlx::query(
            "SELECT id, name, plan, created_at FROM organizations ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing organizations"))?;
        rows.iter().map(org_of).collect()
    }

    async fn create_user(&self, user: &User) -> std::result::Result<(), CreateError> {
        self.write_one(
            sqlx::query(
                "INSERT INTO users (organization_id, id, username, email, email_key, first_name, \
                 last_name, timezone, locale, avatar_url, role, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(user.organization_id.as_uuid())
            .bind(user.id.as_uuid())
            .bind(user.username.as_ref().map(|u| u.as_str().to_owned()))
            .bind(user.email.as_str().to_owned())
            .bind(user.email.as_str().to_ascii_lowercase())
            .bind(&user.first_name)
            .bind(&user.last_name)
            .bind(&user.timezone)
            .bind(&user.locale)
            .bind(&user.avatar_url)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(ms(user.created_at)),
        )
        .await
        .map_err(|e| create_err(e, &[("users.username", "username"), ("email_key", "email")]))?;
        Ok(())
    }

    async fn get_user(&self, org: OrganizationId, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE organization_id = ? AND id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading user"))?;
        row.as_ref().map(user_of).transpose()
    }

    async fn find_user_by_username(
        &self,
        org: OrganizationId,
        username: &str,
    ) -> Result<Option<User>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE organization_id = ? AND username = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(username)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("finding user by username"))?;
        row.as_ref().map(user_of).transpose()
    }

    async fn find_public_user(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        self.sync_reads()
            .row("finding user by public username", &sql, [username], |r| {
                user_of(r)
            })
    }

    async fn list_users(&self, org: OrganizationId) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE organization_id = ? ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing users"))?;
        rows.iter().map(user_of).collect()
    }

    async fn set_password_hash(
        &self,
        org: OrganizationId,
        id: UserId,
        hash: &str,
    ) -> std::result::Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query(
                    "UPDATE users SET password_hash = ? WHERE organization_id = ? AND id = ?",
                )
                .bind(hash.to_owned())
                .bind(org.as_uuid())
                .bind(id.as_uuid()),
            )
            .await
            .map_err(db_err("setting password hash"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_user_role(
        &self,
        org: OrganizationId,
        id: UserId,
        role: domain::organization::Role,
    ) -> std::result::Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query("UPDATE users SET role = ? WHERE organization_id = ? AND id = ?")
                    .bind(role.as_str())
                    .bind(org.as_uuid())
                    .bind(id.as_uuid()),
            )
            .await
            .map_err(db_err("setting a user's role"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_user(
        &self,
        org: OrganizationId,
        id: UserId,
    ) -> std::result::Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query("DELETE FROM users WHERE organization_id = ? AND id = ?")
                    .bind(org.as_uuid())
                    .bind(id.as_uuid()),
            )
            .await
            .map_err(db_err("removing a user"))?;
        Ok(done.rows_affected() > 0)
    }
}
