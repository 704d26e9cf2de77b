//! DTOs of the webhook management API (§4.1): `Webhook`, `WebhookWithSecret`,
//! `WebhookDelivery` and the create / PATCH bodies.

use crate::WireFields;
use crate::json::double_option;
use crate::time::{opt_ts, ts};
use domain::webhook::{Delivery, Webhook, rest_name_of};
use domain::webhook_service::{NewWebhook, WebhookPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A subscription.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: Uuid,
    pub url: String,
    /// Underscore (REST) names.
    pub events: Vec<String>,
    /// `active` or `paused`.
    pub status: String,
    pub description: Option<String>,
    /// Why delivery stopped, when auto-paused.
    pub paused_reason: Option<String>,
    pub last_delivery_at: Option<String>,
    pub last_delivery_ok: Option<bool>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookDto {
    pub fn from_domain(w: &Webhook) -> Self {
        Self {
            id: w.id.0,
            url: w.url.clone(),
            events: w.events.iter().map(|e| e.rest_name().to_owned()).collect(),
            status: w.status.as_str().to_owned(),
            description: w.description.clone(),
            paused_reason: w.paused_reason.clone(),
            last_delivery_at: opt_ts(w.last_delivery_at),
            last_delivery_ok: w.last_delivery_ok,
            created_at: ts(w.created_at),
            updated_at: ts(w.updated_at),
        }
    }
}

/// A subscription with its signing secret (create and rotate-secret only).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookWithSecretDto {
    #[serde(flatten)]
    pub webhook: WebhookDto,
    /// `whsec_` + base64 of 32 random bytes; shown only now.
    pub signing_secret: String,
}

/// One delivery.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookDeliveryDto {
    /// `dlv_<uuid>`, the `X-42min-Webhook-Id` receivers dedupe on.
    pub id: String,
    /// Underscore name.
    pub event: String,
    /// 1 on the first try, +1 per retry.
    pub attempt: u32,
    /// `null` when unreachable (or not tried yet).
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

impl WebhookDeliveryDto {
    pub fn from_domain(d: &Delivery) -> Self {
        Self {
            id: format!("dlv_{}", d.id.0),
            event: rest_name_of(&d.event),
            attempt: d.shown_attempt(),
            status_code: d.status_code,
            error: d.error.clone(),
            delivered_at: opt_ts(d.delivered_at),
            created_at: ts(d.created_at),
        }
    }
}

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// `https://`, a public address, at most 2000 characters (required; a missing one is
    /// reported by the validation as `url`).
    #[serde(default)]
    pub url: String,
    /// At least one underscore name, e.g. `booking_created` (required).
    #[serde(default)]
    pub events: Vec<String>,
    /// At most 255 characters.
    #[serde(default)]
    pub description: Option<String>,
}

impl WireFields for CreateWebhookRequest {
    const FIELDS: &'static [&'static str] = &["url", "events", "description"];
}

impl CreateWebhookRequest {
    pub fn into_domain(self) -> NewWebhook {
        NewWebhook {
            url: self.url,
            events: self.events,
            description: self.description,
        }
    }
}

/// `PATCH /v1/webhooks/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhookRequest {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `active` or `paused`.
    #[serde(default)]
    pub status: Option<String>,
}

impl WireFields for PatchWebhookRequest {
    const FIELDS: &'static [&'static str] = &["url", "events", "description", "status"];
}

impl PatchWebhookRequest {
    pub fn into_domain(self) -> WebhookPatch {
        WebhookPatch {
            url: self.url,
            events: self.events,
            description: self.description,
            status: self.status,
        }
    }
}
