//! A small typed HTTP client over `reqwest` for black-box tests, and [`Resp`], a buffered
//! response with assertion helpers for the contract's envelopes and headers.
//!
//! The client never retries, never follows redirects and never hides a status: tests see
//! exactly what the server sent.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A client bound to one base URL and, optionally, one bearer token.
#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// A fully read response: status, headers, raw text and the parsed JSON (or `Null`).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body parsed as JSON; `Value::Null` when empty or not JSON.
    pub body: Value,
    /// `METHOD path`, for assertion messages.
    pub what: String,
}

impl ApiClient {
    /// A client for `base` (e.g. `http://127.0.0.1:4321`) sending `token` as a bearer token.
    pub fn new(base: impl Into<String>, token: Option<String>) -> Self {
        webhooks::install_crypto_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(8)
            .build()
            .expect("reqwest client");
        Self {
            http,
            base: base.into(),
            token,
        }
    }

    /// The same server with another token (`None`: anonymous).
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            token: token.map(str::to_owned),
        }
    }

    /// The base URL, without trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The bearer token this client sends.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, &[], None).await
    }

    /// `HEAD path`.
    pub async fn head(&self, path: &str) -> Resp {
        self.request(Method::HEAD, path, &[], None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Resp {
        self.request(Method::DELETE, path, &[], None).await
    }

    /// `POST path` with a JSON body and an optional `Idempotency-Key`.
    pub async fn post_json(&self, path: &str, body: &Value, key: Option<&str>) -> Resp {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(k) = key {
            headers.push(("idempotency-key", k));
        }
        self.request(
            Method::POST,
            path,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// `PATCH path` with a JSON body, optional `If-Match` (sent verbatim) and optional
    /// `Idempotency-Key`.
    pub async fn patch_json(
        &self,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
        key: Option<&str>,
    ) -> Resp {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(m) = if_match {
            headers.push(("if-match", m));
        }
        if let Some(k) = key {
            headers.push(("idempotency-key", k));
        }
        self.request(
            Method::PATCH,
            path,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Any request. `headers` are added after `Authorization` (so a test may override it with
    /// its own `authorization` entry, which replaces the client's token).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let url = format!("{}{}", self.base, path);
        let what = format!("{method} {path}");
        let mut req = self.http.request(method, &url);
        let overrides_auth = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
        if let (Some(t), false) = (&self.token, overrides_auth) {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: transport error: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading body: {e}"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
            what,
        }
    }
}

/// True for `req_` followed by 32 lowercase hex digits.
pub fn is_request_id(s: &str) -> bool {
    s.strip_prefix("req_").is_some_and(|h| {
        h.len() == 32
            && h.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

impl Resp {
    /// A header's value as text (the first one).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// A header parsed as an integer.
    pub fn header_i64(&self, name: &str) -> Option<i64> {
        self.header(name).and_then(|v| v.trim().parse().ok())
    }

    /// `body.data`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// `body.meta`.
    pub fn meta(&self) -> &Value {
        &self.body["meta"]
    }

    /// `body.error.code`, if this is an error envelope.
    pub fn code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }

    /// `body.error.details`.
    pub fn details(&self) -> &Value {
        &self.body["error"]["details"]
    }

    /// A short description for assertion messages.
    pub fn describe(&self) -> String {
        let mut t = self.text.clone();
        if t.len() > 1500 {
            t.truncate(1500);
            t.push('…');
        }
        format!("{} → {} {}", self.what, self.status, t)
    }

    /// Asserts the status.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status: {}",
            self.describe()
        );
        self
    }

    /// Asserts `X-Request-Id` is `req_` + 32 hex.
    #[track_caller]
    pub fn request_id(&self) -> &str {
        let id = self
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id: {}", self.describe()));
        assert!(
            is_request_id(id),
            "bad X-Request-Id {id:?}: {}",
            self.describe()
        );
        id
    }

    /// Asserts a success envelope with the given status whose `meta.request_id` equals the
    /// `X-Request-Id` header; returns `data`.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        self.assert_status(status);
        let id = self.request_id();
        assert_eq!(
            self.body["meta"]["request_id"].as_str(),
            Some(id),
            "meta.request_id must equal X-Request-Id: {}",
            self.describe()
        );
        assert!(
            self.body.get("error").is_none(),
            "success carries error: {}",
            self.describe()
        );
        self.data()
    }

    /// Asserts an error envelope with this status and code, whose `error.request_id` equals
    /// `X-Request-Id`, with a non-empty message and an object `details`; returns `details`.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Value {
        self.assert_status(status);
        assert_eq!(self.code(), Some(code), "error code: {}", self.describe());
        let id = self.request_id();
        let e = &self.body["error"];
        assert_eq!(
            e["request_id"].as_str(),
            Some(id),
            "error.request_id must equal X-Request-Id: {}",
            self.describe()
        );
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error.message: {}",
            self.describe()
        );
        assert!(
            e["details"].is_object(),
            "error.details must be an object: {}",
            self.describe()
        );
        assert!(
            self.body.get("data").is_none(),
            "error wrapped in data: {}",
            self.describe()
        );
        self.details()
    }

    /// As [`Resp::err`] for `400 invalid_query_param` naming `param` in `details.param`.
    #[track_caller]
    pub fn bad_param(&self, param: &str) -> &Value {
        let d = self.err(400, "invalid_query_param");
        assert_eq!(
            d["param"].as_str(),
            Some(param),
            "details.param: {}",
            self.describe()
        );
        d
    }

    /// Asserts the status is not a 5xx.
    #[track_caller]
    pub fn not_5xx(&self) -> &Self {
        assert!(self.status < 500, "server error: {}", self.describe());
        self
    }

    /// Asserts the `X-RateLimit-*`, `RateLimit` and `RateLimit-Policy` headers are present and
    /// well formed; returns `(limit, remaining, reset)`.
    #[track_caller]
    pub fn rate_limit_headers(&self) -> (i64, i64, i64) {
        let get = |n: &str| {
            self.header_i64(n)
                .unwrap_or_else(|| panic!("missing/invalid {n}: {}", self.describe()))
        };
        let limit = get("x-ratelimit-limit");
        let remaining = get("x-ratelimit-remaining");
        let reset = get("x-ratelimit-reset");
        assert!(
            (0..=limit).contains(&remaining),
            "remaining {remaining} outside 0..={limit}"
        );
        assert!(
            self.header("ratelimit").is_some(),
            "missing RateLimit: {}",
            self.describe()
        );
        assert!(
            self.header("ratelimit-policy").is_some(),
            "missing RateLimit-Policy: {}",
            self.describe()
        );
        (limit, remaining, reset)
    }

    /// The `ETag` header.
    #[track_caller]
    pub fn etag(&self) -> &str {
        self.header("etag")
            .unwrap_or_else(|| panic!("no ETag: {}", self.describe()))
    }

    /// The target of a `Link: <…>; rel="next"` header, if any.
    pub fn link_next(&self) -> Option<String> {
        for v in self.header_all("link") {
            for part in v.split(',') {
                let part = part.trim();
                if part.contains("rel=\"next\"") || part.contains("rel=next") {
                    let start = part.find('<')? + 1;
                    let end = part.find('>')?;
                    return Some(part[start..end].to_owned());
                }
            }
        }
        None
    }
}
