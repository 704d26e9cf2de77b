//! [`InviteeLinkStore`]: the invitees' self-service links (token hash and sealed token per
//! booking). The first link stored for a booking stays (`ON CONFLICT DO NOTHING`).

use crate::{PgStore, ts, unknown};
use async_trait::async_trait;
use domain::booking_page::link::{InviteeLink, InviteeLinkStore};
use domain::ids::{BookingUid, OrganizationId};
use domain::ports::StoreError;
use sqlx::Row;
use sqlx::postgres::PgRow;

const COLUMNS: &str = "organization_id, booking_uid, token_hash, sealed_token, created_at";

fn link_of(r: &PgRow) -> Result<InviteeLink, StoreError> {
    Ok(InviteeLink {
        organization_id: OrganizationId(r.try_get("organization_id").map_err(unknown)?),
        booking_uid: BookingUid(r.try_get("booking_uid").map_err(unknown)?),
        token_hash: r.try_get("token_hash").map_err(unknown)?,
        sealed_token: r.try_get("sealed_token").map_err(unknown)?,
        created_at: r
            .try_get::<jiff_sqlx::Timestamp, _>("created_at")
            .map_err(unknown)?
            .to_jiff(),
    })
}

#[async_trait]
impl InviteeLinkStore for PgStore {
    async fn insert_invitee_link(&self, link: &InviteeLink) -> Result<InviteeLink, StoreError> {
        sqlx::query(
            "INSERT INTO invitee_links (organization_id, booking_uid, token_hash, sealed_token, \
             created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (organization_id, booking_uid) DO NOTHING",
        )
        .bind(link.organization_id.0)
        .bind(link.booking_uid.0)
        .bind(&link.token_hash)
        .bind(&link.sealed_token)
        .bind(ts(link.created_at))
        .execute(self.pool())
        .await
        .map_err(unknown)?;
        self.invitee_link(link.organization_id, link.booking_uid)
            .await?
            .ok_or_else(|| StoreError::Unknown(anyhow::anyhow!("the invitee link vanished")))
    }

    async fn invitee_link(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<InviteeLink>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitee_links WHERE organization_id = $1 AND booking_uid = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(uid.0)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(link_of).transpose()
    }

    async fn find_invitee_link(
        &self,
        org: OrganizationId,
        token_hash: &[u8],
    ) -> Result<Option<InviteeLink>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitee_links WHERE organization_id = $1 AND token_hash = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(unknown)?;
        row.as_ref().map(link_of).transpose()
    }
}
