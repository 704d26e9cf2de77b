//! [`InviteeLinkStore`]: the invitees' self-service links (token hash and sealed token per
//! booking). The first link stored for a booking stays (`ON CONFLICT DO NOTHING`).

use crate::codec::{Result, col, ms, ts_col, uuid_col};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use domain::booking_page::link::{InviteeLink, InviteeLinkStore};
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::StoreError;
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str = "organization_id, booking_uid, token_hash, sealed_token, created_at";

fn link_of(row: &SqliteRow) -> Result<InviteeLink> {
    Ok(InviteeLink {
        organization_id: uuid_col(row, "organization_id")?.into(),
        booking_uid: uuid_col(row, "booking_uid")?.into(),
        token_hash: col(row, "token_hash")?,
        sealed_token: col(row, "sealed_token")?,
        created_at: ts_col(row, "created_at")?,
    })
}

#[async_trait]
impl InviteeLinkStore for SqliteStore {
    async fn insert_invitee_link(&self, link: &InviteeLink) -> Result<InviteeLink> {
        self.write_one(
            sqlx::query(
                "INSERT INTO invitee_links (organization_id, booking_uid, token_hash, \
                 sealed_token, created_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (organization_id, booking_uid) DO NOTHING",
            )
            .bind(link.organization_id.as_uuid())
            .bind(link.booking_uid.as_uuid())
            .bind(&link.token_hash)
            .bind(&link.sealed_token)
            .bind(ms(link.created_at)),
        )
        .await
        .map_err(db_err("storing an invitee link"))?;
        self.invitee_link(link.organization_id, link.booking_uid)
            .await?
            .ok_or_else(|| StoreError::Unknown(anyhow::anyhow!("the invitee link vanished")))
    }

    async fn invitee_link(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<InviteeLink>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitee_links WHERE organization_id = ? AND booking_uid = ?"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(uid.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading an invitee link"))?;
        row.as_ref().map(link_of).transpose()
    }

    async fn find_invitee_link(
        &self,
        org: OrganizationId,
        token_hash: &[u8],
    ) -> Result<Option<InviteeLink>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitee_links WHERE organization_id = ? AND token_hash = ?"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("finding an invitee link"))?;
        row.as_ref().map(link_of).transpose()
    }
}
