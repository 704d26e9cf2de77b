//! `bare-hello`: the baseline of the HTTP benchmark — a bare hyper 1 HTTP/1.1 server (through
//! hyper-util's Tokio adapter, on a default multi-threaded Tokio runtime, like `slotbook serve`)
//! that answers every request with `200 hello`.
//!
//! Usage: `bare-hello [ADDR] [MAX_SECONDS]` (defaults `127.0.0.1:0` and 600). It prints
//! `listening on http://<addr>` on standard output once bound, and exits by itself after
//! `MAX_SECONDS` so it never outlives a benchmark that was killed before it could stop it.

#![allow(
    clippy::disallowed_methods,
    reason = "the load generator measures wall-clock time and reads its environment"
)]

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::Write as _;
use std::time::Duration;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let max_seconds: u64 = match args.next() {
        Some(s) => s.parse()?,
        None => 600,
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", listener.local_addr()?)?;
        out.flush()?;
    }
    let accept = async {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors or similar: back off briefly and go on.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    };
    tokio::select! {
        _ = accept => {},
        () = tokio::time::sleep(Duration::from_secs(max_seconds)) => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    Ok(())
}
