//! The sign-in, consent and error pages as HTML (issue 14): they link one stylesheet served
//! from the binary under a CSP without `'unsafe-inline'` — also with `[pages] enabled = false`,
//! when the booking pages' `/_assets/` do not exist — and a dynamically registered (RFC 7591)
//! application is marked unverified on the consent page, naming where it sends the user.

use crate::oauth::{PASSWORD, cookie_of, csrf_of, hidden_of, http};
use http_api::state::PagesConfig;
use serde_json::json;
use testkit::{ApiConfig, TestApp, both_backends};

both_backends!(
    config = ApiConfig {
        oauth_dynamic_registration: true,
        pages: PagesConfig { enabled: false, ..PagesConfig::default() },
        ..ApiConfig::default()
    };
    pages_use_a_served_stylesheet_under_a_strict_csp,
    self_registered_apps_are_marked_unverified,
);

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[track_caller]
fn assert_strict_csp(headers: &reqwest::header::HeaderMap) {
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self';"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// The `href` of the page's one stylesheet; the page has no inline style at all.
fn stylesheet_of(html: &str) -> String {
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "{html}"
    );
    let marker = "<link rel=\"stylesheet\" href=\"";
    let i = html.find(marker).expect("a stylesheet link") + marker.len();
    html[i..].split('"').next().unwrap().to_owned()
}

/// Signs the owner in on the authorize page at `query` and returns the consent page.
async fn consent_page(app: &TestApp, query: &str) -> (reqwest::header::HeaderMap, String) {
    let h = http();
    let r = h
        .get(format!("{}/v1/oauth/authorize?{query}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = cookie_of(&r);
    let page = r.text().await.unwrap();
    let mut form = hidden_of(&page);
    form.push(("csrf_token".into(), csrf_of(&page)));
    form.push(("action".into(), "sign_in".into()));
    form.push(("email".into(), app.a.email.clone()));
    form.push(("password".into(), PASSWORD.into()));
    let r = h
        .post(format!("{}/v1/oauth/authorize", app.base_url))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    (headers, r.text().await.unwrap())
}

async fn pages_use_a_served_stylesheet_under_a_strict_csp(app: TestApp) {
    app.set_owner_password(&app.a, PASSWORD).await;
    let c = app
        .create_oauth_client(true, &["https://app.example/cb"], &["user:read"])
        .await;
    let query = format!(
        "response_type=code&client_id={}&scope=user:read&code_challenge={CHALLENGE}&code_challenge_method=S256",
        c.client_id
    );
    // Sign-in page.
    let r = http()
        .get(format!("{}/v1/oauth/authorize?{query}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_strict_csp(r.headers());
    let sign_in = r.text().await.unwrap();
    let href = stylesheet_of(&sign_in);
    assert!(
        href.starts_with("/v1/oauth/style-") && href.ends_with(".css"),
        "{href}"
    );
    // Consent page.
    let (headers, consent) = consent_page(&app, &query).await;
    assert_strict_csp(&headers);
    assert_eq!(stylesheet_of(&consent), href);
    assert!(!consent.contains("not verified"), "{consent}");
    // Error page (an unknown client).
    let r = http()
        .get(format!(
            "{}/v1/oauth/authorize?response_type=code&client_id=nope",
            app.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_strict_csp(r.headers());
    assert_eq!(stylesheet_of(&r.text().await.unwrap()), href);
    // The sheet itself, with the booking pages switched off.
    let r = http()
        .get(format!("{}{href}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let css = r.text().await.unwrap();
    assert!(
        css.contains(":focus-visible") && css.contains(".unverified"),
        "{css}"
    );
    // Another hash is not served; the booking pages' assets are off.
    let r = http()
        .get(format!(
            "{}/v1/oauth/style-0000000000000000.css",
            app.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let booking_css = pages::assets::css_url();
    let r = http()
        .get(format!("{}{booking_css}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "[pages] enabled = false");
}

async fn self_registered_apps_are_marked_unverified(app: TestApp) {
    app.set_owner_password(&app.a, PASSWORD).await;
    let r = http()
        .post(format!("{}/v1/oauth/register", app.base_url))
        .json(&json!({
            "client_name": "Totally Official Calendar",
            "redirect_uris": ["https://calendar.example/oauth/cb"],
            "token_endpoint_auth_method": "none",
            "scope": "user:read",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    let id = body["client_id"].as_str().unwrap();
    let (_, consent) = consent_page(
        &app,
        &format!(
            "response_type=code&client_id={id}&scope=user:read&code_challenge={CHALLENGE}&code_challenge_method=S256"
        ),
    )
    .await;
    let notice = consent
        .split("<div class=\"unverified\" role=\"note\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no unverified notice in {consent}"));
    let notice = notice.split("</div>").next().unwrap();
    assert!(
        notice.contains("<strong>This application is not verified.</strong>"),
        "{notice}"
    );
    assert!(notice.contains("Totally Official Calendar"), "{notice}");
    assert!(
        notice.contains("sends you to https://calendar.example."),
        "{notice}"
    );
    // The notice comes before the buttons, right under the heading.
    let h1 = consent.find("</h1>").unwrap();
    let div = consent.find("class=\"unverified\"").unwrap();
    let allow = consent.find("value=\"approve\"").unwrap();
    assert!(h1 < div && div < allow, "{consent}");
}
