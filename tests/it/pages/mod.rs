//! The public booking pages (issue 15) through real HTTP on both stores: the host and event type
//! pages (`views`), route precedence and the `[pages]` switch, security headers, assets and the
//! page rate-limit buckets. Shared HTML helpers live here.

mod booking;
mod browser;
mod email;
mod views;

use testkit::{Resp, TestApp};

/// The text between `after` and the next `until` following the first `after` in `html`.
pub fn between<'a>(html: &'a str, after: &str, until: &str) -> Option<&'a str> {
    let start = html.find(after)? + after.len();
    let len = html[start..].find(until)?;
    Some(&html[start..start + len])
}

/// Every `href="…"` value in `html` that starts with `prefix` (HTML-unescaped `&amp;`).
pub fn hrefs(html: &str, prefix: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&").replace("&#38;", "&"))
        .filter(|h| h.starts_with(prefix))
        .collect()
}

/// `GET path` as an anonymous browser would (asking for HTML).
pub async fn get(app: &TestApp, path: &str) -> Resp {
    app.anon()
        .request(
            http::Method::GET,
            path,
            &[("accept", "text/html,*/*;q=0.8")],
            None,
        )
        .await
}

/// Asserts an HTML page with the page security headers.
pub fn assert_page(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.describe());
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{}",
        r.what
    );
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(!r.text.contains("<script>"), "inline script in {}", r.what);
    assert!(!r.text.contains("<style"), "inline style in {}", r.what);
    assert!(
        !r.text.contains(" style=\""),
        "inline style attribute in {}",
        r.what
    );
}
