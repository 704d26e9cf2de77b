//! [`HttpDeliverer`]: the [`Deliverer`] that signs and POSTs one attempt.
//!
//! reqwest on rustls with the *ring* provider and the platform's certificate verifier; redirects
//! are never followed (a 3xx is a failure), no proxy is consulted (a proxy would resolve the
//! name itself, past the guard), each attempt has a 10 s timeout and at most 4 KiB of the
//! response body is read. Host names go through the checking resolver, so the addresses
//! checked are the addresses connected to; IP-literal hosts (which skip resolvers) are checked
//! before the request is made.

use crate::guard::{CheckingResolver, GuardPolicy, Lookup, parse_target};
use crate::sign;
use async_trait::async_trait;
use domain::ports::Clock;
use domain::webhook::AttemptResult;
use domain::webhook_service::{Deliverer, DeliveryTarget};
use rustls_platform_verifier::BuilderVerifierExt as _;
use std::sync::Arc;
use std::time::Duration;

/// Per-attempt timeout (§4.5).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most response-body bytes read per attempt.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// Longest error text stored per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// Signs and sends attempts.
pub struct HttpDeliverer {
    client: reqwest::Client,
    policy: GuardPolicy,
    /// The wall clock: signature timestamps are compared with receivers' real clocks.
    wall: Arc<dyn Clock>,
}

impl HttpDeliverer {
    /// Builds the client; `wall` provides signature timestamps.
    pub fn new(
        policy: GuardPolicy,
        lookup: Arc<dyn Lookup>,
        wall: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_platform_verifier()?
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .dns_resolver(Arc::new(CheckingResolver { policy, lookup }))
            .build()?;
        Ok(Self {
            client,
            policy,
            wall,
        })
    }
}

fn failure(status: Option<u16>, error: String) -> AttemptResult {
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    AttemptResult::Failure { status, error }
}

/// The error and its sources, one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cur = s.source();
    }
    out
}

#[async_trait]
impl Deliverer for HttpDeliverer {
    async fn send(&self, target: DeliveryTarget<'_>) -> AttemptResult {
        let (url, _) = match parse_target(target.url, self.policy) {
            Ok(t) => t,
            Err(m) => return failure(None, format!("refused: url {m}")),
        };
        let body = sign::envelope(target.delivery);
        let t = self.wall.now().as_second();
        let mut req = self.client.post(url);
        for (name, value) in sign::headers(
            target.delivery,
            target.secret,
            target.attempt,
            t,
            body.as_bytes(),
        ) {
            req = req.header(name, value);
        }
        let mut resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return failure(None, "timed out after 10 s".into()),
            Err(e) => return failure(None, chain(&e)),
        };
        let status = resp.status();
        let mut read = 0usize;
        while read < MAX_RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(c)) => read += c.len(),
                _ => break,
            }
        }
        if status.is_success() {
            AttemptResult::Success {
                status: status.as_u16(),
            }
        } else if status.is_redirection() {
            failure(
                Some(status.as_u16()),
                format!("HTTP {}: redirects are not followed", status.as_u16()),
            )
        } else {
            failure(Some(status.as_u16()), format!("HTTP {}", status.as_u16()))
        }
    }
}
