//! A raw HTTP/1.1 client for the reliability scorecard: writes exactly the bytes it is given
//! (invented methods, invalid UTF-8, oversized headers — things a well-behaved client library
//! refuses to send) with `Connection: close`, and reads the status and body until the server
//! closes. Loopback only.

use anyhow::{Context as _, bail, ensure};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long one exchange may take before it counts as unanswered.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// One answer: the status code and the (de-chunked) body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Builds a request: `method path HTTP/1.1`, `Host`, `Connection: close`, `headers` as given,
/// and `Content-Length` when there is a body.
pub fn request(method: &[u8], path: &[u8], headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(256 + body.len());
    r.extend_from_slice(method);
    r.push(b' ');
    r.extend_from_slice(path);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        r.extend_from_slice(name.as_bytes());
        r.extend_from_slice(b": ");
        r.extend_from_slice(value);
        r.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() {
        r.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    r.extend_from_slice(b"\r\n");
    r.extend_from_slice(body);
    r
}

/// Sends `raw` to `addr` (which must be loopback) and reads the answer.
pub async fn send(addr: SocketAddr, raw: &[u8]) -> anyhow::Result<Answer> {
    ensure!(addr.ip().is_loopback(), "{addr} is not a loopback address");
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        // A server may answer (413, 431) and close before the request is written in full.
        let _ = s.write_all(raw).await;
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        parse(&buf)
    };
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
        .await
        .context("no answer within the exchange timeout")?
}

/// Parses `HTTP/1.1 <status> …` and the body (chunked or not).
fn parse(buf: &[u8]) -> anyhow::Result<Answer> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        bail!(
            "connection closed without a complete answer ({} bytes)",
            buf.len()
        );
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line in {head:?}"))?;
    let body = &buf[end + 4..];
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok(Answer {
        status,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..nl])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || b.len() < nl + 2 + size {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[(nl + 4 + size).min(b.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_answers() {
        let a = parse(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((a.status, a.body.as_slice()), (404, b"{}".as_slice()));
        let c = parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(c.body, b"abc");
        assert!(parse(b"HTTP/1.1 200").is_err());
        let r = request(b"GET", b"/x", &[("a", b"b")], b"");
        assert_eq!(
            r,
            b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\na: b\r\n\r\n"
        );
    }
}
