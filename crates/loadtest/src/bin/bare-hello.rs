//! `bare-hello`: the baseline of the HTTP benchmark — a bare hyper 1 HTTP/1.1 server (through
//! hyper-util's Tokio adapter, on a default multi-threaded Tokio runtime, like `slotbook serve`)
//! that answers every request with `200 hello`, or, for a path given a body file, with that
//! file's exact bytes (`content-type: application/json`), read once at start.
//!
//! Usage: `bare-hello [ADDR] [MAX_SECONDS] [PATH=FILE]...` (defaults `127.0.0.1:0` and 600). It
//! prints `listening on http://<addr>` on standard output once bound, and exits by itself after
//! `MAX_SECONDS` so it never outlives a benchmark that was killed before it could stop it. The
//! `PATH=FILE` pairs serve the bytes of a real response (e.g. a month of `/v1/slots`) without
//! any of the work behind it: `bench-http` compares the real endpoint with them.

#![allow(
    clippy::disallowed_methods,
    reason = "the load generator measures wall-clock time and reads its environment"
)]

use anyhow::Context as _;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc, the allocator `slotbook` runs on (see `server`'s `main.rs`): the bare server is
/// measured on the same allocator, so the ratios compare the work, not two allocators.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn answer(
    bodies: &HashMap<String, Bytes>,
    req: &Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let found = if bodies.is_empty() {
        None
    } else {
        bodies.get(req.uri().path())
    };
    match found {
        Some(body) => {
            let mut resp = Response::new(Full::new(body.clone()));
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(resp)
        }
        None => Ok(Response::new(Full::new(Bytes::from_static(b"hello")))),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let max_seconds: u64 = match args.next() {
        Some(s) => s.parse()?,
        None => 600,
    };
    let mut bodies = HashMap::new();
    for pair in args {
        let (path, file) = pair
            .split_once('=')
            .with_context(|| format!("{pair}: expected PATH=FILE"))?;
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        bodies.insert(path.to_owned(), Bytes::from(bytes));
    }
    let bodies = Arc::new(bodies);
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
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let result = answer(&bodies, &req);
                    async move { result }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
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
