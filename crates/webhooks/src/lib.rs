//! The webhook delivery machinery behind the domain's ports (`domain::webhook_service`):
//!
//! - [`guard`]: the SSRF guard — which addresses are public ([`guard::is_public`], IPv4-mapped,
//!   NAT64 and 6to4 IPv6 forms unwrapped), URL checks at registration ([`guard::Guard`]), and a
//!   DNS resolver that refuses non-public addresses for the connection itself, so there is no
//!   window between the check and the connect (DNS rebinding).
//! - [`sign`]: the envelope of §4.3 and both signatures: `X-42min-Webhook-Signature` (§4.4) and
//!   the Standard Webhooks headers (§7.2).
//! - [`secret`]: `whsec_` secrets, sealed with ChaCha20-Poly1305 under a key derived from the
//!   server pepper.
//! - [`client`]: the [`client::HttpDeliverer`] — reqwest on rustls with the *ring* provider,
//!   redirects never followed, no proxy, 10 s per attempt, response body read capped.

pub mod client;
pub mod guard;
pub mod secret;
pub mod sign;

pub use client::HttpDeliverer;
pub use guard::{Guard, GuardPolicy, Lookup, SystemLookup};
pub use secret::SealedSecrets;

use domain::ports::{Clock, IdGen, Storage};
use domain::webhook_service::WebhookService;
use std::sync::Arc;

/// Builds the [`WebhookService`] over `storage` with this crate's adapters: sealing keyed by
/// `pepper`, the guard and the HTTP deliverer under `policy` resolving through `lookup`.
/// `clock` schedules attempts; `wall` (the real clock) stamps signatures.
pub fn service(
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    pepper: &[u8],
    policy: GuardPolicy,
    lookup: Arc<dyn Lookup>,
    wall: Arc<dyn Clock>,
) -> anyhow::Result<WebhookService> {
    Ok(WebhookService {
        store: storage.clone(),
        outbox: storage,
        clock,
        ids,
        secrets: Arc::new(SealedSecrets::new(pepper)?),
        guard: Arc::new(Guard::new(policy, lookup.clone())),
        deliverer: Arc::new(HttpDeliverer::new(policy, lookup, wall)?),
        delivery_lease: domain::webhook_service::DELIVERY_LEASE,
    })
}

/// Installs rustls' *ring* provider as the process default (idempotent). reqwest is built with
/// `rustls-no-provider` (no aws-lc-rs), so every process that builds a reqwest client without a
/// preconfigured TLS config — the test clients, for instance — calls this first.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
