//! The hostile-input corpus of the reliability scorecard: oversized and deeply nested JSON,
//! invalid UTF-8 (body, path, header), wrong content types, absurd dates, malformed zones,
//! limits of 0/−1/1e9/text, repeated parameters, 10 KB header values, forged cursors, NUL
//! characters and invented methods — each sent raw ([`crate::raw`]) with and without a
//! token. The server must answer every one, and never with a 5xx.

use crate::raw::{self, Answer};
use std::net::SocketAddr;

/// What the corpus needs to address real resources.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// A full-scope token.
    pub token: String,
    /// An event type of the organization.
    pub event_type: String,
    /// A booking of it.
    pub booking: String,
}

/// One corpus entry: a label and the raw request.
#[derive(Debug, Clone)]
pub struct Case {
    pub label: String,
    pub raw: Vec<u8>,
    /// The server may answer before reading the whole request and reset the connection, so
    /// the answer can be lost in transit (bodies over the limit): only a 5xx counts then.
    pub may_close: bool,
}

/// The outcome of one case.
#[derive(Debug)]
pub struct Outcome {
    pub label: String,
    pub may_close: bool,
    pub answer: Result<Answer, String>,
}

impl Outcome {
    /// A 5xx, or no answer at all.
    pub fn is_failure(&self) -> bool {
        self.answer
            .as_ref()
            .map_or(!self.may_close, |a| a.status >= 500)
    }
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// Every case, authenticated with `t.token` (and a few anonymous ones).
pub fn corpus(t: &Target) -> Vec<Case> {
    let auth = format!("Bearer {}", t.token);
    let et = &t.event_type;
    let uid = &t.booking;
    let mut cases = Vec::new();
    let mut add =
        |label: &str, method: &[u8], path: &[u8], headers: &[(&str, &[u8])], body: &[u8]| {
            let mut h: Vec<(&str, &[u8])> = vec![("Authorization", auth.as_bytes())];
            h.extend_from_slice(headers);
            let may_close = body.len() > 32 * 1024;
            cases.push(Case {
                label: label.to_owned(),
                raw: raw::request(method, path, &h, body),
                may_close,
            });
            cases.push(Case {
                label: format!("{label} (anonymous)"),
                raw: raw::request(method, path, headers, body),
                may_close,
            });
        };
    let json: &[(&str, &[u8])] = &[
        ("Content-Type", b"application/json"),
        ("Idempotency-Key", b"k-hostile"),
    ];
    let booking = |start: &str| {
        format!(
            r#"{{"event_type_id":"{et}","start":"{start}","attendee":{{"email":"a@example.com"}}}}"#
        )
    };
    // Oversized and deeply nested JSON.
    let big = format!(r#"{{"metadata":{{"x":"{}"}}}}"#, "a".repeat(70 * 1024));
    add(
        "70 KiB body",
        b"POST",
        b"/v1/bookings",
        json,
        big.as_bytes(),
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    add(
        "nested arrays 100k deep",
        b"POST",
        b"/v1/bookings",
        json,
        &deep.as_bytes()[..60_000],
    );
    let deep_meta = format!(
        r#"{{"metadata":{{"x":{}1{}}}}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    add(
        "nested metadata 120 deep",
        b"POST",
        b"/v1/bookings",
        json,
        deep_meta.as_bytes(),
    );
    let patch_deep = format!(
        r#"{{"metadata":{{"x":{}1{}}}}}"#,
        "{\"a\":".repeat(100),
        "}".repeat(100)
    );
    let if_match: &[(&str, &[u8])] = &[
        ("Content-Type", b"application/json"),
        ("Idempotency-Key", b"k-h2"),
        ("If-Match", b"\"1\""),
    ];
    add(
        "PATCH nested objects",
        b"PATCH",
        format!("/v1/bookings/{uid}").as_bytes(),
        if_match,
        patch_deep.as_bytes(),
    );
    // Invalid UTF-8.
    add(
        "invalid UTF-8 body",
        b"POST",
        b"/v1/bookings",
        json,
        b"{\"start\":\"\xff\xfe\"}",
    );
    add(
        "invalid UTF-8 path",
        b"GET",
        b"/v1/bookings/\xff\xfe",
        &[],
        b"",
    );
    add(
        "percent-encoded invalid UTF-8",
        b"GET",
        b"/v1/bookings?attendee_email=%ff%fe",
        &[],
        b"",
    );
    add(
        "invalid UTF-8 header",
        b"GET",
        b"/v1/bookings",
        &[("X-Thing", b"\xff\xfe\xfd")],
        b"",
    );
    add(
        "NUL in query",
        b"GET",
        b"/v1/bookings?attendee_email=a%00b",
        &[],
        b"",
    );
    add(
        "NUL in body",
        b"POST",
        b"/v1/bookings",
        json,
        booking("2030-01-01T10:00:00Z")
            .replace("a@example", "a\\u0000@example")
            .as_bytes(),
    );
    // Wrong content types.
    for ct in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=utf-16",
    ] {
        add(
            &format!("Content-Type {ct}"),
            b"POST",
            b"/v1/bookings",
            &[
                ("Content-Type", ct.as_bytes()),
                ("Idempotency-Key", b"k-ct"),
            ],
            booking("2030-01-01T10:00:00Z").as_bytes(),
        );
    }
    add(
        "no Content-Type",
        b"POST",
        b"/v1/schedules",
        &[],
        br#"{"name":"x"}"#,
    );
    // Absurd dates.
    for start in [
        "-271821-04-20T00:00:00Z",
        "+275760-09-13T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2030-02-30T10:00:00Z",
        "2030-01-01T25:61:00Z",
        "1e9",
    ] {
        add(
            &format!("booking start {start}"),
            b"POST",
            b"/v1/bookings",
            json,
            booking(start).as_bytes(),
        );
    }
    for (s, e) in [
        ("0000-01-01", "0000-01-02"),
        ("-271821-04-20", "-271821-04-21"),
        ("9999-12-30", "9999-12-31"),
        ("2030-01-01", "1999-01-01"),
        ("0", "99999999999999"),
    ] {
        add(
            &format!("slots {s}..{e}"),
            b"GET",
            format!("/v1/slots?event_type_id={et}&start={s}&end={e}").as_bytes(),
            &[],
            b"",
        );
    }
    add(
        "slots/check absurd end",
        b"GET",
        format!(
            "/v1/slots/check?event_type_id={et}&start=2030-01-01T10:00:00Z&end=9999-12-31T23:59:59Z"
        )
        .as_bytes(),
        &[],
        b"",
    );
    for q in [
        "start_date=9999-99-99",
        "updated_since=-000001-01-01T00:00:00Z",
        "end_date=+275760-09-13T00:00:00Z",
    ] {
        add(
            &format!("bookings {q}"),
            b"GET",
            format!("/v1/bookings?{q}").as_bytes(),
            &[],
            b"",
        );
    }
    // Malformed zones.
    let long_zone = "A/".repeat(5000);
    for zone in [
        "Mars/Olympus",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "UTC%2B99",
        long_zone.as_str(),
    ] {
        add(
            &format!("timezone {}", &zone[..zone.len().min(24)]),
            b"GET",
            format!("/v1/slots?event_type_id={et}&start=2030-01-01&end=2030-01-02&timezone={zone}")
                .as_bytes(),
            &[],
            b"",
        );
    }
    add(
        "schedule zone",
        b"POST",
        b"/v1/schedules",
        &[("Content-Type", b"application/json")],
        br#"{"name":"x","timezone":"../../etc/passwd","rules":[]}"#,
    );
    // Limits.
    for limit in [
        "0",
        "-1",
        "1e9",
        "1000000000",
        "text",
        "99999999999999999999999",
        "%20",
    ] {
        for path in ["/v1/bookings", "/v1/event-types", "/v1/schedules"] {
            add(
                &format!("{path} limit={limit}"),
                b"GET",
                format!("{path}?limit={limit}").as_bytes(),
                &[],
                b"",
            );
        }
    }
    // Repeated parameters and headers.
    add(
        "repeated limit",
        b"GET",
        b"/v1/bookings?limit=1&limit=2",
        &[],
        b"",
    );
    add(
        "repeated cursor",
        b"GET",
        b"/v1/bookings?cursor=a&cursor=b",
        &[],
        b"",
    );
    add(
        "repeated event_type_id",
        b"GET",
        format!("/v1/slots?event_type_id={et}&event_type_id={et}&start=2030-01-01&end=2030-01-02")
            .as_bytes(),
        &[],
        b"",
    );
    add(
        "repeated Idempotency-Key",
        b"POST",
        b"/v1/bookings",
        &[
            ("Content-Type", b"application/json"),
            ("Idempotency-Key", b"a"),
            ("Idempotency-Key", b"b"),
        ],
        booking("2030-01-01T10:00:00Z").as_bytes(),
    );
    // 10 KB header values.
    let ten_kb = "x".repeat(10 * 1024);
    for name in [
        "Authorization",
        "Idempotency-Key",
        "If-Match",
        "X-Forwarded-For",
        "Content-Type",
        "Accept",
    ] {
        let path = format!("/v1/bookings/{uid}");
        add(
            &format!("10 KB {name}"),
            b"PATCH",
            path.as_bytes(),
            &[(name, ten_kb.as_bytes())],
            b"{}",
        );
    }
    // Forged cursors.
    let nil = "00000000-0000-0000-0000-000000000000";
    for (path, raw) in [
        (
            "/v1/bookings",
            format!("start_at_desc|i|{nil}|{}", i64::MIN),
        ),
        (
            "/v1/bookings",
            format!("start_at_desc|i|{nil}|{}", i64::MAX),
        ),
        ("/v1/bookings", format!("start_at_desc|t|{nil}|x")),
        (
            "/v1/event-types?sort=title_asc",
            format!("title_asc|i|{nil}|1"),
        ),
        (
            "/v1/event-types",
            format!("created_at_desc|i|{nil}|-99999999999999999"),
        ),
        ("/v1/bookings", "garbage".to_owned()),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        add(
            &format!("cursor {}", &raw[..raw.len().min(30)]),
            b"GET",
            format!("{path}{sep}cursor={}", b64(&raw)).as_bytes(),
            &[],
            b"",
        );
    }
    add(
        "cursor not base64",
        b"GET",
        b"/v1/bookings?cursor=%21%21%21",
        &[],
        b"",
    );
    // Invented methods.
    for m in [
        "FOO",
        "PROPFIND",
        "BREW",
        "get",
        "M-SEARCH",
        &"X".repeat(2000),
    ] {
        add(
            &format!("method {}", &m[..m.len().min(12)]),
            m.as_bytes(),
            b"/v1/bookings",
            &[],
            b"",
        );
    }
    // Paths.
    add("path traversal", b"GET", b"/v1/../../etc/passwd", &[], b"");
    add(
        "long path",
        b"GET",
        format!("/v1/bookings/{}", "a".repeat(8000)).as_bytes(),
        &[],
        b"",
    );
    add(
        "confirm unknown",
        b"POST",
        b"/v1/bookings/00000000-0000-0000-0000-000000000000/confirm",
        json,
        b"",
    );
    cases
}

/// Sends every case of the corpus once, `concurrency` at a time.
pub async fn run(t: &Target, concurrency: usize) -> Vec<Outcome> {
    run_cases(t.addr, corpus(t), concurrency).await
}

/// Sends `cases` to `addr`, `concurrency` at a time, in order of the result.
pub async fn run_cases(addr: SocketAddr, cases: Vec<Case>, concurrency: usize) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(cases.len());
    for batch in cases.chunks(concurrency.max(1)) {
        let handles: Vec<_> = batch
            .iter()
            .cloned()
            .map(|c| {
                tokio::spawn(async move {
                    let answer = raw::send(addr, &c.raw).await.map_err(|e| format!("{e:#}"));
                    Outcome {
                        label: c.label,
                        may_close: c.may_close,
                        answer,
                    }
                })
            })
            .collect();
        for h in handles {
            if let Ok(o) = h.await {
                out.push(o);
            }
        }
    }
    out
}
