//! The authorize pages in a real browser (headless Chromium through `testkit::Browser`): sign
//! in (a wrong password first), approve on the consent page, land on the client's redirect URI
//! with a code that the `oauth2` crate exchanges for a working token; then, still signed in,
//! deny a second request and land with `error=access_denied`, `state` and `iss`; a third request
//! from a self-registered (RFC 7591) app shows the "not verified" notice. Every page is
//! saved under `<target>/test-output/oauth_browser/` (see `testkit::browser`).
//!
//! One server (SQLite) for both runs: the browser is the slow part, and the store side of the
//! flow runs on both databases in `oauth.rs`.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use std::collections::HashMap;
use testkit::{Backend, Browser, Receiver};

const PASSWORD: &str = "correct horse battery";

fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    reqwest::Url::parse(&format!("http://x/?{q}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_approve_then_deny_in_chromium() {
    let app = testkit::spawn_app(Backend::Sqlite).await.unwrap();
    app.set_owner_password(&app.a, PASSWORD).await;
    let receiver = Receiver::start().await;
    let redirect = receiver.url("/cb");
    let c = app
        .create_oauth_client(
            true,
            &[&redirect],
            &["user:read", "bookings:read", "offline_access"],
        )
        .await;
    let oauth = BasicClient::new(ClientId::new(c.client_id.clone()))
        .set_client_secret(ClientSecret::new(c.secret.clone().unwrap()))
        .set_auth_uri(AuthUrl::new(format!("{}/v1/oauth/authorize", app.base_url)).unwrap())
        .set_token_uri(TokenUrl::new(format!("{}/v1/oauth/token", app.base_url)).unwrap())
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let browser = Browser::start("oauth_browser").await;

    // ---- run 1: sign in and approve ----
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("user:read".into()))
        .add_scope(Scope::new("bookings:read".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    browser.goto(url.as_str()).await;
    browser.wait_for("input#email").await;
    browser.screenshot("sign-in").await;
    let text = browser.text().await;
    assert!(text.contains("Sign in to continue to Test App"), "{text}");

    browser.fill("input#email", &app.a.email).await;
    browser.fill("input#password", "not the password").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("p.error").await;
    browser.screenshot("sign-in-wrong-password").await;
    let text = browser.text().await;
    assert!(
        text.contains("The e-mail address or password is not right."),
        "{text}"
    );

    // The e-mail address is kept; the password is not.
    browser.fill("input#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("button[value=approve]").await;
    browser.screenshot("consent").await;
    let text = browser.text().await;
    assert!(
        text.contains("Allow Test App to use your account?"),
        "{text}"
    );
    assert!(text.contains(&app.a.email), "{text}");
    for words in [
        "See your name, e-mail address, time zone and organization",
        "See your bookings and who booked them",
    ] {
        assert!(text.contains(words), "{words:?} missing in {text}");
    }

    // The stylesheet (served from the binary, no inline style) reached the page: `main` is the
    // narrow white card of style.css.
    let width = browser
        .step(
            "read the computed style",
            browser.client.execute(
                "return getComputedStyle(document.querySelector('main')).maxWidth;",
                vec![],
            ),
        )
        .await;
    assert_ne!(width, serde_json::json!("none"), "style.css did not apply");
    assert!(!text.contains("not verified"), "{text}");

    browser.click("button[value=approve]").await;
    let landed = browser
        .wait_for_url("the redirect with a code", |u| u.starts_with(&redirect))
        .await;
    browser.screenshot("redirected-with-code").await;
    let q = query_of(&landed);
    assert_eq!(q.get("state"), Some(state.secret()), "{landed}");
    assert_eq!(q.get("iss"), Some(&app.base_url), "{landed}");
    let code = q
        .get("code")
        .unwrap_or_else(|| panic!("no code in {landed}"));
    let tokens = oauth
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&crate::oauth::send)
        .await
        .unwrap();
    let ping = app
        .client(tokens.access_token().secret())
        .get("/v1/_ping")
        .await;
    assert_eq!(ping.status, 200, "{:?}", ping.body);
    assert_eq!(ping.body["data"]["auth_type"], "oauth");
    assert_eq!(ping.body["data"]["client_id"], c.client_id.as_str());

    // ---- run 2: still signed in, deny ----
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("bookings:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    browser.goto(url.as_str()).await;
    browser.wait_for("button[value=deny]").await;
    browser.screenshot("consent-signed-in").await;
    browser.click("button[value=deny]").await;
    let landed = browser
        .wait_for_url("the redirect with an error", |u| u.starts_with(&redirect))
        .await;
    browser.screenshot("redirected-with-error").await;
    let q = query_of(&landed);
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("access_denied"),
        "{landed}"
    );
    assert_eq!(q.get("state"), Some(state.secret()), "{landed}");
    assert_eq!(q.get("iss"), Some(&app.base_url), "{landed}");
    assert!(!q.contains_key("code"), "{landed}");

    // ---- run 3: an application that registered itself (RFC 7591) is marked unverified ----
    let dynamic = app
        .oauth_service()
        .create_client(domain::oauth_service::NewClient {
            name: "Self Registered".into(),
            kind: domain::oauth::ClientKind::Public,
            redirect_uris: vec![redirect.clone()],
            scopes: vec!["bookings:read".into()],
            dynamic: true,
        })
        .await
        .unwrap();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let url = format!(
        "{}/v1/oauth/authorize?response_type=code&client_id={}&scope=bookings:read&state=s3&code_challenge={}&code_challenge_method=S256",
        app.base_url,
        dynamic.client.client_id,
        challenge.as_str()
    );
    browser.goto(&url).await;
    browser.wait_for("div.unverified").await;
    browser.screenshot("consent-unverified").await;
    let text = browser.text().await;
    assert!(text.contains("This application is not verified."), "{text}");
    assert!(text.contains("Self Registered"), "{text}");
    let origin = redirect.split("/cb").next().unwrap();
    assert!(text.contains(&format!("sends you to {origin}")), "{text}");
    browser.click("button[value=deny]").await;
    browser
        .wait_for_url("the redirect after denying", |u| u.starts_with(&redirect))
        .await;

    let shots = std::fs::read_dir(&browser.output).unwrap().count();
    assert_eq!(shots, 7, "screenshots in {}", browser.output.display());
    browser.close().await;
}
