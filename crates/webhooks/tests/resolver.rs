//! The SSRF guard on the addresses a delivery actually connects to: a name resolving to any
//! address of the corpus is refused before a connection is made (a loopback listener
//! counts accepted connections), while with `allow_loopback_http` a loopback name connects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::ids::{OrganizationId, OutboxId};
use domain::ports::Clock;
use domain::webhook::{AttemptResult, Delivery, DeliveryId, DeliveryState, WebhookId};
use domain::webhook_service::{Deliverer, DeliveryTarget};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhooks::{GuardPolicy, HttpDeliverer, Lookup};

struct Fixed(IpAddr);

impl Lookup for Fixed {
    fn lookup(
        &self,
        _: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let ip = self.0;
        Box::pin(async move { Ok(vec![ip]) })
    }
}

struct Wall;

impl Clock for Wall {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000).unwrap()
    }
}

fn delivery() -> Delivery {
    Delivery {
        id: DeliveryId(uuid::Uuid::nil()),
        organization_id: OrganizationId(uuid::Uuid::nil()),
        webhook_id: WebhookId(uuid::Uuid::nil()),
        event_id: OutboxId(uuid::Uuid::nil()),
        event: "booking.created".into(),
        event_created_at: jiff::Timestamp::UNIX_EPOCH,
        data: "{}".into(),
        attempts: 0,
        state: DeliveryState::Pending,
        next_attempt_at: None,
        status_code: None,
        error: None,
        delivered_at: None,
        last_attempt_at: None,
        created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

async fn listener() -> (u16, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let a = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 65536];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(
                    b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (port, accepted)
}

const CORPUS: &[&str] = &[
    "127.0.0.1",
    "127.0.0.2",
    "::1",
    "::ffff:127.0.0.1",
    "64:ff9b::7f00:1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "fd00:ec2::254",
    "fe80::1",
];

#[tokio::test]
async fn names_resolving_to_the_corpus_are_refused_before_connecting() {
    let (port, accepted) = listener().await;
    let d = delivery();
    for ip in CORPUS {
        let deliverer = HttpDeliverer::new(
            GuardPolicy::default(),
            Arc::new(Fixed(ip.parse().unwrap())),
            Arc::new(Wall),
        )
        .unwrap();
        let url = format!("https://rebind.test:{port}/hook");
        let r = deliverer
            .send(DeliveryTarget {
                url: &url,
                secret: "whsec_AAAA",
                delivery: &d,
                attempt: 1,
            })
            .await;
        match r {
            AttemptResult::Failure {
                status: None,
                error,
            } => {
                assert!(error.contains("not public"), "{ip}: {error}")
            }
            other => panic!("{ip}: {other:?}"),
        }
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection was made");
}

#[tokio::test]
async fn loopback_connects_only_with_the_switch() {
    let (port, accepted) = listener().await;
    let d = delivery();
    let on = HttpDeliverer::new(
        GuardPolicy {
            allow_loopback_http: true,
        },
        Arc::new(Fixed("127.0.0.1".parse().unwrap())),
        Arc::new(Wall),
    )
    .unwrap();
    let url = format!("http://rebind.test:{port}/hook");
    let r = on
        .send(DeliveryTarget {
            url: &url,
            secret: "whsec_AAAA",
            delivery: &d,
            attempt: 1,
        })
        .await;
    assert_eq!(r, AttemptResult::Success { status: 204 });
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // Private addresses stay refused even with the switch on.
    let private = HttpDeliverer::new(
        GuardPolicy {
            allow_loopback_http: true,
        },
        Arc::new(Fixed("10.0.0.1".parse().unwrap())),
        Arc::new(Wall),
    )
    .unwrap();
    let r = private
        .send(DeliveryTarget {
            url: &url,
            secret: "whsec_AAAA",
            delivery: &d,
            attempt: 1,
        })
        .await;
    assert!(
        matches!(r, AttemptResult::Failure { status: None, .. }),
        "{r:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
