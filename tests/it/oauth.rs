//! OAuth 2.1 (§5, §6.2): the `oauth2` crate as an independent client runs authorize → sign in
//! → consent → code → token → API call → refresh → replay (family revoked) → revoke; code
//! reuse revokes what the code issued; the discovery documents byte for byte; the RFC errors.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use serde_json::Value;
use testkit::{TestApp, both_backends};

both_backends!(
    full_flow_with_the_oauth2_crate,
    code_reuse_revokes_the_tokens_it_issued,
    discovery_documents_are_exact,
    authorize_errors_before_and_after_trust,
    token_endpoint_errors,
    introspection_and_revocation,
);

const REDIRECT: &str = "https://app.example/cb";
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `oauth2` crate's async HTTP client over reqwest (no redirects).
pub(crate) async fn send(req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, std::io::Error> {
    let handle = tokio::spawn(async move {
        let client = http();
        let (parts, body) = req.into_parts();
        let mut r = client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body);
        r = r.timeout(std::time::Duration::from_secs(30));
        let resp = r.send().await.map_err(std::io::Error::other)?;
        let mut b = oauth2::http::Response::builder().status(resp.status());
        for (k, v) in resp.headers() {
            b = b.header(k, v);
        }
        let bytes = resp.bytes().await.map_err(std::io::Error::other)?;
        b.body(bytes.to_vec()).map_err(std::io::Error::other)
    });
    handle.await.map_err(std::io::Error::other)?
}

pub(crate) fn cookie_of(r: &reqwest::Response) -> String {
    let set = r
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

pub(crate) fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let i = html.find(marker).expect("a CSRF field") + marker.len();
    html[i..].split('"').next().unwrap().to_owned()
}

/// Hidden fields of the page's form, as (name, value).
pub(crate) fn hidden_of(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|s| {
            let (name, rest) = s.split_once("\" value=\"").unwrap();
            let value = rest.split('"').next().unwrap();
            let unescape = value
                .replace("&#34;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#60;", "<")
                .replace("&#62;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
                .replace("&#38;", "&");
            (name.to_owned(), unescape)
        })
        .filter(|(n, _)| n != "csrf_token" && n != "action")
        .collect()
}

pub(crate) fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded_parse(q)
}

fn form_urlencoded_parse(q: &str) -> std::collections::HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let h = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(h, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn client(
    app: &TestApp,
    id: &str,
    secret: Option<&str>,
) -> oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    let c = BasicClient::new(ClientId::new(id.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{}/v1/oauth/authorize", app.base_url)).unwrap())
        .set_token_uri(TokenUrl::new(format!("{}/v1/oauth/token", app.base_url)).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());
    match secret {
        Some(s) => c.set_client_secret(ClientSecret::new(s.to_owned())),
        None => c,
    }
}

/// Drives authorize → sign in → consent (approve) and returns the redirect's query.
async fn authorize(
    app: &TestApp,
    url: &str,
    email: &str,
) -> std::collections::HashMap<String, String> {
    let h = http();
    let r = h.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = cookie_of(&r);
    let page = r.text().await.unwrap();
    assert!(page.contains("Sign in to continue to Test App"), "{page}");
    let mut form = hidden_of(&page);
    form.push(("csrf_token".into(), csrf_of(&page)));
    form.push(("action".into(), "sign_in".into()));
    form.push(("email".into(), email.into()));
    form.push(("password".into(), PASSWORD.into()));
    let r = h
        .post(format!("{}/v1/oauth/authorize", app.base_url))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = cookie_of(&r);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Allow Test App to use your account?"),
        "{page}"
    );
    for scope in ["user:read", "bookings:read"] {
        if url.contains(&format!("scope={scope}"))
            || url.contains(&format!("+{scope}"))
            || url.contains(&format!("%20{scope}"))
        {
            assert!(page.contains(pages_description(scope)), "{page}");
        }
    }
    let mut form = hidden_of(&page);
    form.push(("csrf_token".into(), csrf_of(&page)));
    form.push(("action".into(), "approve".into()));
    let r = h
        .post(format!("{}/v1/oauth/authorize", app.base_url))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    query_of(&location)
}

fn pages_description(scope: &str) -> &'static str {
    match scope {
        "user:read" => "See your name, e-mail address, time zone and organization",
        _ => "See your bookings and who booked them",
    }
}

async fn setup(app: &TestApp) -> testkit::OAuthClientFixture {
    app.set_owner_password(&app.a, PASSWORD).await;
    app.create_oauth_client(
        true,
        &[REDIRECT],
        &["user:read", "bookings:read", "offline_access"],
    )
    .await
}

async fn ping(app: &TestApp, token: &str) -> testkit::Resp {
    app.client(token).get("/v1/_ping").await
}

async fn full_flow_with_the_oauth2_crate(app: TestApp) {
    let c = setup(&app).await;
    let oc = client(&app, &c.client_id, c.secret.as_deref());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oc
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("bookings:read".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let q = authorize(&app, url.as_str(), &app.a.email).await;
    assert_eq!(q.get("state"), Some(state.secret()));
    assert_eq!(q.get("iss"), Some(&app.base_url));
    let code = q["code"].clone();
    let tokens = oc
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .unwrap();
    let access = tokens.access_token().secret().clone();
    assert!(access.starts_with("42min_at_"), "{access}");
    assert_eq!(
        tokens.expires_in(),
        Some(std::time::Duration::from_secs(3600))
    );
    let refresh = tokens.refresh_token().unwrap().secret().clone();
    assert!(refresh.starts_with("42min_rt_"));
    // The API accepts it with exactly the granted scopes.
    let p = ping(&app, &access).await;
    let d = p.ok(200);
    assert_eq!(d["auth_type"], "oauth");
    assert_eq!(d["client_id"], c.client_id.as_str());
    assert_eq!(d["account_id"], app.a.org_id.to_string());
    assert_eq!(
        d["scopes"],
        serde_json::json!(["bookings:read", "offline_access"])
    );
    app.client(&access).get("/v1/bookings").await.ok(200);
    app.client(&access)
        .get("/v1/me")
        .await
        .err(403, "insufficient_scope");
    // Refresh rotates.
    let next = oc
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .request_async(&send)
        .await
        .unwrap();
    let access2 = next.access_token().secret().clone();
    let refresh2 = next.refresh_token().unwrap().secret().clone();
    assert_ne!(refresh2, refresh);
    ping(&app, &access2).await.ok(200);
    // Replaying the rotated refresh token revokes the family.
    let replay = oc
        .exchange_refresh_token(&RefreshToken::new(refresh))
        .request_async(&send)
        .await;
    match replay {
        Err(oauth2::RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error().as_ref(), "invalid_grant")
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
    ping(&app, &access2).await.err(401, "token_revoked");
    ping(&app, &access).await.err(401, "token_revoked");
    let again = oc
        .exchange_refresh_token(&RefreshToken::new(refresh2))
        .request_async(&send)
        .await;
    assert!(again.is_err());
}

async fn code_of(app: &TestApp, c: &testkit::OAuthClientFixture) -> (String, PkceCodeVerifier) {
    let oc = client(app, &c.client_id, c.secret.as_deref());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = oc
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("user:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let q = authorize(app, url.as_str(), &app.a.email).await;
    (q["code"].clone(), verifier)
}

async fn token_form(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut r = http()
        .post(format!("{}/v1/oauth/token", app.base_url))
        .form(form);
    if let Some((u, p)) = basic {
        r = r.basic_auth(u, Some(p));
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    (status, headers, r.json().await.unwrap())
}

async fn code_reuse_revokes_the_tokens_it_issued(app: TestApp) {
    let c = setup(&app).await;
    let (code, verifier) = code_of(&app, &c).await;
    let secret = c.secret.clone().unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.secret().as_str()),
    ];
    let (s, _, body) = token_form(&app, Some((&c.client_id, &secret)), &form).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "user:read");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let access = body["access_token"].as_str().unwrap().to_owned();
    app.client(&access).get("/v1/me").await.ok(200);
    let (s, _, body) = token_form(&app, Some((&c.client_id, &secret)), &form).await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());
    ping(&app, &access).await.err(401, "token_revoked");
}

async fn discovery_documents_are_exact(app: TestApp) {
    let b = &app.base_url;
    let scopes = r#"["user:read","event_types:read","event_types:create","event_types:update","event_types:delete","slots:read","bookings:read","bookings:create","bookings:cancel","bookings:reschedule","bookings:update","webhooks:read","webhooks:write","availability:read","availability:write"]"#;
    let expected = format!(
        r#"{{"issuer":"{b}","authorization_endpoint":"{b}/v1/oauth/authorize","token_endpoint":"{b}/v1/oauth/token","revocation_endpoint":"{b}/v1/oauth/revoke","introspection_endpoint":"{b}/v1/oauth/introspect","response_types_supported":["code"],"grant_types_supported":["authorization_code","refresh_token"],"code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],"revocation_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],"introspection_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],"scopes_supported":{scopes}}}"#
    );
    let r = http()
        .get(format!("{b}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), expected);
    let expected = format!(
        r#"{{"resource":"{b}","authorization_servers":["{b}"],"scopes_supported":{scopes},"bearer_methods_supported":["header"]}}"#
    );
    let r = http()
        .get(format!("{b}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), expected);
}

async fn authorize_errors_before_and_after_trust(app: TestApp) {
    let c = setup(&app).await;
    let b = &app.base_url;
    let ch = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let get = |q: String| {
        let url = format!("{b}/v1/oauth/authorize?{q}");
        async move { http().get(url).send().await.unwrap() }
    };
    let id = &c.client_id;
    let cb = "https%3A%2F%2Fapp.example%2Fcb";
    // Before trust: a page, never a redirect.
    for q in [
        format!(
            "response_type=code&client_id=nope&redirect_uri={cb}&scope=user:read&code_challenge={ch}&code_challenge_method=S256"
        ),
        format!(
            "response_type=code&client_id={id}&redirect_uri={cb}%2F&scope=user:read&code_challenge={ch}&code_challenge_method=S256"
        ),
        format!(
            "response_type=code&client_id={id}&redirect_uri=https%3A%2F%2FAPP.example%2Fcb&scope=user:read&code_challenge={ch}&code_challenge_method=S256"
        ),
        format!(
            "response_type=code&client_id={id}&redirect_uri={cb}%3Fx%3D1&scope=user:read&code_challenge={ch}&code_challenge_method=S256"
        ),
        format!(
            "response_type=code&client_id={id}&redirect_uri={cb}%23f&scope=user:read&code_challenge={ch}&code_challenge_method=S256"
        ),
    ] {
        let r = get(q.clone()).await;
        assert_eq!(r.status(), 400, "{q}");
        assert!(r.headers().get("location").is_none());
        assert!(r.text().await.unwrap().contains("not valid"));
    }
    // After trust: redirected with error, state and iss.
    for (q, err) in [
        (
            format!(
                "response_type=token&client_id={id}&redirect_uri={cb}&scope=user:read&state=s1&code_challenge={ch}&code_challenge_method=S256"
            ),
            "unsupported_response_type",
        ),
        (
            format!("response_type=code&client_id={id}&redirect_uri={cb}&scope=user:read&state=s1"),
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&client_id={id}&redirect_uri={cb}&scope=user:read&state=s1&code_challenge={ch}&code_challenge_method=plain"
            ),
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&client_id={id}&redirect_uri={cb}&scope=webhooks:write&state=s1&code_challenge={ch}&code_challenge_method=S256"
            ),
            "invalid_scope",
        ),
    ] {
        let r = get(q.clone()).await;
        assert_eq!(r.status(), 303, "{q}");
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        let p = query_of(&loc);
        assert_eq!(p["error"], err, "{q}");
        assert_eq!(p["state"], "s1");
        assert_eq!(p["iss"], app.base_url);
        assert!(p.contains_key("error_description"));
    }
    // CSRF: a form without the session's token is refused; denial redirects access_denied.
    let url = format!(
        "response_type=code&client_id={id}&redirect_uri={cb}&scope=user:read&state=s2&code_challenge={ch}&code_challenge_method=S256"
    );
    let r = get(url.clone()).await;
    let cookie = cookie_of(&r);
    let page = r.text().await.unwrap();
    let mut form = hidden_of(&page);
    form.push(("action".into(), "deny".into()));
    let post = |cookie: Option<String>, form: Vec<(String, String)>| async move {
        let mut r = http().post(format!("{b}/v1/oauth/authorize")).form(&form);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send().await.unwrap()
    };
    let r = post(Some(cookie.clone()), form.clone()).await;
    assert_eq!(r.status(), 400, "missing CSRF token");
    let mut other = form.clone();
    let other_page = get(url.clone()).await.text().await.unwrap();
    other.push(("csrf_token".into(), csrf_of(&other_page)));
    let r = post(Some(cookie.clone()), other).await;
    assert_eq!(r.status(), 400, "CSRF token of another session");
    let mut ok = form.clone();
    ok.push(("csrf_token".into(), csrf_of(&page)));
    let r = post(Some(cookie), ok).await;
    assert_eq!(r.status(), 303);
    let p = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "s2");
}

async fn token_endpoint_errors(app: TestApp) {
    let c = setup(&app).await;
    let secret = c.secret.clone().unwrap();
    let id = c.client_id.as_str();
    for gt in ["password", "client_credentials"] {
        let (s, _, body) = token_form(&app, Some((id, &secret)), &[("grant_type", gt)]).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (400, Some("unsupported_grant_type"))
        );
    }
    let (s, h, body) = token_form(
        &app,
        Some((id, "42min_cs_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        &[("grant_type", "authorization_code"), ("code", "x")],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let (s, h, body) = token_form(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "nope"),
            ("code", "x"),
        ],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(h.get("www-authenticate").is_none());
    // Wrong verifier, wrong redirect URI, another client's code, an expired code.
    let (code, _) = code_of(&app, &c).await;
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let (s, _, body) = token_form(
        &app,
        Some((id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", wrong),
        ],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    let (code, v) = code_of(&app, &c).await;
    let (s, _, body) = token_form(
        &app,
        Some((id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example/other"),
            ("code_verifier", v.secret()),
        ],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    let other = app
        .create_oauth_client(false, &[REDIRECT], &["user:read"])
        .await;
    let (code, v) = code_of(&app, &c).await;
    let (s, _, body) = token_form(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &other.client_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", v.secret()),
        ],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    let (code, v) = code_of(&app, &c).await;
    app.clock.advance(jiff::SignedDuration::from_secs(601));
    let (s, _, body) = token_form(
        &app,
        Some((id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", v.secret()),
        ],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _, body) = token_form(
        &app,
        Some((id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_request")));
}

async fn introspection_and_revocation(app: TestApp) {
    let c = setup(&app).await;
    let secret = c.secret.clone().unwrap();
    let (code, v) = code_of(&app, &c).await;
    let (_, _, body) = token_form(
        &app,
        Some((&c.client_id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", v.secret()),
        ],
    )
    .await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let introspect = |basic: Option<(String, String)>, token: String| {
        let url = format!("{}/v1/oauth/introspect", app.base_url);
        async move {
            let mut r = http().post(url).form(&[("token", token)]);
            if let Some((u, p)) = basic {
                r = r.basic_auth(u, Some(p));
            }
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let creds = Some((c.client_id.clone(), secret.clone()));
    let (s, body) = introspect(None, access.clone()).await;
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("invalid_client"));
    let (s, _) = introspect(Some((c.client_id.clone(), "wrong".into())), access.clone()).await;
    assert_eq!(s, 401);
    let (s, body) = introspect(creds.clone(), access.clone()).await;
    assert_eq!(s, 200);
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["active"], true);
    assert_eq!(j["client_id"], c.client_id.as_str());
    assert_eq!(j["scope"], "user:read");
    assert_eq!(j["sub"], app.a.owner.user_id.to_string());
    assert_eq!(j["iss"], app.base_url.as_str());
    let (_, body) = introspect(creds.clone(), "42min_at_nope".into()).await;
    assert_eq!(body, r#"{"active":false}"#);
    // Revoke (RFC 7009): 200, unknown tokens too; the token is dead at once.
    let revoke = |token: String| {
        let url = format!("{}/v1/oauth/revoke", app.base_url);
        let (u, p) = (c.client_id.clone(), secret.clone());
        async move {
            http()
                .post(url)
                .basic_auth(u, Some(p))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(revoke("unknown".into()).await, 200);
    assert_eq!(revoke(access.clone()).await, 200);
    ping(&app, &access).await.err(401, "token_revoked");
    let (_, body) = introspect(creds, access.clone()).await;
    assert_eq!(body, r#"{"active":false}"#);
    // Tokens in the query string are never read.
    app.anon()
        .get(&format!("/v1/_ping?access_token={access}"))
        .await
        .err(401, "invalid_token");
}
