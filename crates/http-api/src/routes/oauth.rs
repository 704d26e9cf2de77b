//! OAuth 2.1 endpoints (§5, §6.2) and discovery: `GET|POST /v1/oauth/authorize` (sign-in and
//! consent pages), `POST /v1/oauth/token`, `/revoke` (RFC 7009), `/introspect` (RFC 7662),
//! `/.well-known/oauth-authorization-server` (RFC 8414) and
//! `/.well-known/oauth-protected-resource` (RFC 9728). Bodies are raw (no v1 envelope); token
//! endpoint errors are RFC 6749 §5.2 bodies written with the `oauth2` crate's wire types.
//!
//! The authorize flow is stateless on the server: a session cookie (`slotbook_oauth`,
//! `HttpOnly`, `SameSite=Lax`, `Secure` unless the public base URL is loopback http, path
//! `/v1/oauth/`) carries `<org>.<user>.<csrf>` sealed with HMAC-SHA256 under the pepper; every
//! form carries the same CSRF token (double submit, compared in constant time). The handlers
//! only parse, call [`domain::oauth_service::OAuthService`] and render `pages`.

use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use domain::ids::{OrganizationId, UserId};
use domain::oauth_service::{
    AuthorizeError, AuthorizeRequest, ClientCredentials, RedirectError, TokenError,
    ValidAuthorization,
};
use oauth2::StandardErrorResponse;
use oauth2::basic::BasicErrorResponseType;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use std::collections::HashMap;

const COOKIE: &str = "slotbook_oauth";
const AUTHORIZE_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// The OAuth and discovery routes (undocumented in OpenAPI: raw RFC bodies).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/oauth/authorize",
            get(authorize_get).post(authorize_post),
        )
        .route("/v1/oauth/token", axum::routing::post(token))
        .route("/v1/oauth/revoke", axum::routing::post(revoke))
        .route("/v1/oauth/introspect", axum::routing::post(introspect))
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(protected_resource_metadata),
        )
}

// ---- form parsing ----

/// Parses `application/x-www-form-urlencoded`; a repeated parameter is an error (RFC 6749 §3.1).
fn parse_form(bytes: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        if out.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(format!("parameter '{k}' is repeated"));
        }
    }
    Ok(out)
}

fn base(state: &AppState) -> &str {
    state.config.public_base_url.trim_end_matches('/')
}

// ---- RFC 6749 §5.2 errors ----

fn oauth_error_type(code: &str) -> BasicErrorResponseType {
    match code {
        "invalid_request" => BasicErrorResponseType::InvalidRequest,
        "invalid_client" => BasicErrorResponseType::InvalidClient,
        "invalid_grant" => BasicErrorResponseType::InvalidGrant,
        "unauthorized_client" => BasicErrorResponseType::UnauthorizedClient,
        "unsupported_grant_type" => BasicErrorResponseType::UnsupportedGrantType,
        "invalid_scope" => BasicErrorResponseType::InvalidScope,
        other => BasicErrorResponseType::Extension(other.to_owned()),
    }
}

fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn raw_json(status: StatusCode, body: String) -> Response {
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    no_store(&mut resp);
    resp
}

fn error_body(code: &str, description: &str) -> String {
    let e: StandardErrorResponse<BasicErrorResponseType> =
        StandardErrorResponse::new(oauth_error_type(code), Some(description.to_owned()), None);
    serde_json::to_string(&e).unwrap_or_else(|_| format!("{{\"error\":\"{code}\"}}"))
}

fn token_error(e: TokenError) -> Response {
    let (status, desc, basic) = match &e {
        TokenError::InvalidClient { basic, description } => {
            (StatusCode::UNAUTHORIZED, description.clone(), *basic)
        }
        TokenError::InvalidRequest(d)
        | TokenError::InvalidGrant(d)
        | TokenError::UnauthorizedClient(d)
        | TokenError::UnsupportedGrantType(d)
        | TokenError::InvalidScope(d) => (StatusCode::BAD_REQUEST, d.clone(), false),
        TokenError::Store(err) => {
            tracing::error!(error = ?err, "OAuth endpoint store failure");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server failed; retry later".to_owned(),
                false,
            )
        }
    };
    let mut resp = raw_json(status, error_body(e.code(), &desc));
    if basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"42min\""),
        );
    }
    resp
}

fn invalid_request(d: &str) -> Response {
    token_error(TokenError::InvalidRequest(d.to_owned()))
}

/// Client authentication from `Authorization: Basic` or the form (RFC 6749 §2.3.1).
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<ClientCredentials, Response> {
    let body_id = form.get("client_id").filter(|s| !s.is_empty()).cloned();
    let body_secret = form.get("client_secret").filter(|s| !s.is_empty()).cloned();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let basic_fail = || {
            token_error(TokenError::InvalidClient {
                basic: true,
                description: "Malformed HTTP Basic client credentials".into(),
            })
        };
        let value = value.to_str().map_err(|_| basic_fail())?;
        let (scheme, b64) = value.trim().split_once(' ').ok_or_else(basic_fail)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(invalid_request(
                "Only HTTP Basic client authentication is accepted in the Authorization header",
            ));
        }
        if body_secret.is_some() {
            return Err(invalid_request(
                "Use one client authentication method, not Basic and client_secret together",
            ));
        }
        let decoded = STANDARD.decode(b64.trim()).map_err(|_| basic_fail())?;
        let decoded = String::from_utf8(decoded).map_err(|_| basic_fail())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(basic_fail)?;
        let unescape = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (id, secret) = (unescape(id), unescape(secret));
        if body_id.as_ref().is_some_and(|b| *b != id) {
            return Err(invalid_request(
                "client_id differs from the Basic credentials",
            ));
        }
        return Ok(ClientCredentials::Basic {
            client_id: id,
            secret,
        });
    }
    Ok(match (body_id, body_secret) {
        (Some(client_id), Some(secret)) => ClientCredentials::Post { client_id, secret },
        (Some(client_id), None) => ClientCredentials::None { client_id },
        (None, _) => ClientCredentials::Missing,
    })
}

// ---- token endpoint ----

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return invalid_request(&e),
    };
    let creds = match client_credentials(&headers, &form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let get = |k: &str| form.get(k).map(String::as_str);
    let result = match get("grant_type") {
        None | Some("") => return invalid_request("grant_type is required"),
        Some("authorization_code") => {
            state
                .oauth
                .exchange_code(
                    &creds,
                    get("code"),
                    get("redirect_uri"),
                    get("code_verifier"),
                )
                .await
        }
        Some("refresh_token") => {
            state
                .oauth
                .refresh(&creds, get("refresh_token"), get("scope"))
                .await
        }
        Some(other) => Err(TokenError::UnsupportedGrantType(format!(
            "grant_type '{other}' is not supported; use authorization_code or refresh_token"
        ))),
    };
    match result {
        Err(e) => token_error(e),
        Ok(issued) => {
            let body = TokenResponse {
                access_token: &issued.access_token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                scope: issued.scopes.to_string(),
                refresh_token: issued.refresh_token.as_deref(),
            };
            match serde_json::to_string(&body) {
                Ok(s) => raw_json(StatusCode::OK, s),
                Err(e) => token_error(TokenError::Store(domain::ports::StoreError::Unknown(
                    e.into(),
                ))),
            }
        }
    }
}

async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return invalid_request(&e),
    };
    let creds = match client_credentials(&headers, &form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match state
        .oauth
        .revoke(&creds, form.get("token").map(String::as_str))
        .await
    {
        Ok(()) => {
            let mut r = StatusCode::OK.into_response();
            no_store(&mut r);
            r
        }
        Err(e) => token_error(e),
    }
}

#[derive(Serialize)]
struct ActiveToken<'a> {
    active: bool,
    scope: String,
    client_id: &'a str,
    username: &'a str,
    token_type: &'static str,
    exp: i64,
    iat: i64,
    sub: String,
    iss: &'a str,
}

async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return invalid_request(&e),
    };
    let creds = match client_credentials(&headers, &form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match state
        .oauth
        .introspect(&creds, form.get("token").map(String::as_str))
        .await
    {
        Err(e) => token_error(e),
        Ok(None) => raw_json(StatusCode::OK, "{\"active\":false}".to_owned()),
        Ok(Some(i)) => {
            let body = ActiveToken {
                active: true,
                scope: i.scopes.to_string(),
                client_id: &i.client_id,
                username: &i.username,
                token_type: match i.kind {
                    domain::oauth::TokenKind::Access => "Bearer",
                    domain::oauth::TokenKind::Refresh => "refresh_token",
                },
                exp: i.expires_at.as_second(),
                iat: i.issued_at.as_second(),
                sub: i.subject.to_string(),
                iss: base(&state),
            };
            raw_json(
                StatusCode::OK,
                serde_json::to_string(&body).unwrap_or_else(|_| "{\"active\":false}".into()),
            )
        }
    }
}

// ---- discovery ----

#[derive(Serialize)]
struct AuthorizationServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_endpoint: Option<String>,
    response_types_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 2],
    code_challenge_methods_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    revocation_endpoint_auth_methods_supported: [&'static str; 3],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    scopes_supported: &'static [&'static str],
}

/// The RFC 8414 document (§5.3).
pub fn authorization_server_document(base: &str, registration: bool) -> String {
    let doc = AuthorizationServerMetadata {
        issuer: base.to_owned(),
        authorization_endpoint: format!("{base}/v1/oauth/authorize"),
        token_endpoint: format!("{base}/v1/oauth/token"),
        revocation_endpoint: format!("{base}/v1/oauth/revoke"),
        introspection_endpoint: format!("{base}/v1/oauth/introspect"),
        registration_endpoint: registration.then(|| format!("{base}/v1/oauth/register")),
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        revocation_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
        ],
        scopes_supported: domain::access::ACTIVE_AND_RESERVED_SCOPES,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

#[derive(Serialize)]
struct ProtectedResourceMetadata<'a> {
    resource: &'a str,
    authorization_servers: [&'a str; 1],
    scopes_supported: &'static [&'static str],
    bearer_methods_supported: [&'static str; 1],
}

/// The RFC 9728 document (§6.2).
pub fn protected_resource_document(base: &str) -> String {
    serde_json::to_string(&ProtectedResourceMetadata {
        resource: base,
        authorization_servers: [base],
        scopes_supported: domain::access::ACTIVE_AND_RESERVED_SCOPES,
        bearer_methods_supported: ["header"],
    })
    .unwrap_or_default()
}

fn discovery(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn authorization_server_metadata(State(state): State<AppState>) -> Response {
    discovery(authorization_server_document(
        base(&state),
        state.config.oauth_dynamic_registration,
    ))
}

async fn protected_resource_metadata(State(state): State<AppState>) -> Response {
    discovery(protected_resource_document(base(&state)))
}

// ---- authorize: session cookie and CSRF ----

/// The contents of the sealed session cookie.
struct Session {
    user: Option<(OrganizationId, UserId)>,
    csrf: String,
}

fn mac(state: &AppState, payload: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, state.pepper.expose());
    let tag = ring::hmac::sign(&key, format!("oauth-session:{payload}").as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

fn seal(state: &AppState, s: &Session) -> String {
    let user = match s.user {
        Some((o, u)) => format!("{o}.{u}"),
        None => "-.-".to_owned(),
    };
    let payload = format!("{user}.{}", s.csrf);
    let tag = mac(state, &payload);
    format!("{payload}.{tag}")
}

fn open(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)?;
    let (payload, tag) = raw.rsplit_once('.')?;
    if !auth::oauth::constant_time_eq(mac(state, payload).as_bytes(), tag.as_bytes()) {
        return None;
    }
    let mut parts = payload.split('.');
    let (org, user, csrf) = (parts.next()?, parts.next()?, parts.next()?);
    let user = match (org, user) {
        ("-", "-") => None,
        (o, u) => Some((o.parse().ok()?, u.parse().ok()?)),
    };
    Some(Session {
        user,
        csrf: csrf.to_owned(),
    })
}

fn new_csrf() -> Option<String> {
    let mut b = [0u8; 24];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(URL_SAFE_NO_PAD.encode(b))
}

fn is_loopback_http(base: &str) -> bool {
    base.starts_with("http://127.")
        || base.starts_with("http://localhost")
        || base.starts_with("http://[::1]")
}

fn cookie_header(state: &AppState, s: &Session) -> Option<HeaderValue> {
    let secure = if is_loopback_http(base(state)) {
        ""
    } else {
        "; Secure"
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/v1/oauth/; HttpOnly; SameSite=Lax{secure}",
        seal(state, s)
    ))
    .ok()
}

/// The CSP source of the origin a form on the page may end up at through a redirect: the
/// client's redirect URI (`https://host[:port]`, `http://127.0.0.1:port`, or a private-use
/// `scheme:`). Browsers apply `form-action` to the redirects that follow a form submission, so
/// without it approving would be blocked. `None` when the URI has characters a CSP source
/// cannot carry (then only `'self'` is allowed).
fn form_target_source(redirect_uri: &str) -> Option<String> {
    let (scheme, rest) = redirect_uri.split_once(':')?;
    let source = match rest.strip_prefix("//") {
        Some(after) if scheme == "http" || scheme == "https" => {
            let authority = after.split(['/', '?']).next().unwrap_or("");
            format!("{scheme}://{authority}")
        }
        _ => format!("{scheme}:"),
    };
    source
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+-.:/[]".contains(&b))
        .then_some(source)
}

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    html_for(status, body, None)
}

/// An HTML page; `redirect_uri` is where its form may redirect to (see [`form_target_source`]).
fn html_for(
    status: StatusCode,
    body: Result<String, askama::Error>,
    redirect_uri: Option<&str>,
) -> Response {
    let form_action = match redirect_uri.and_then(form_target_source) {
        Some(src) => format!("'self' {src}"),
        None => "'self'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; frame-ancestors 'none'"
    );
    match (body, HeaderValue::from_str(&csp)) {
        (Ok(b), Ok(csp)) => {
            let mut r = (
                status,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CONTENT_SECURITY_POLICY, csp),
                    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                ],
                b,
            )
                .into_response();
            no_store(&mut r);
            r
        }
        (Err(e), _) => {
            tracing::error!(error = %e, "rendering an OAuth page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        (_, Err(e)) => {
            tracing::error!(error = %e, "building the CSP of an OAuth page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    html(status, pages::error(title, message))
}

fn server_error() -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server failed. Please try again in a moment.",
    )
}

/// `redirect_uri` plus query parameters, RFC 9207 `iss` included.
fn redirect_to(state: &AppState, uri: &str, params: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    q.append_pair("iss", base(state));
    let sep = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{sep}{}", q.finish());
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response();
            no_store(&mut r);
            r
        }
        Err(_) => server_error(),
    }
}

fn redirect_error(state: &AppState, e: &RedirectError) -> Response {
    let mut params = vec![
        ("error", e.error),
        ("error_description", e.description.as_str()),
    ];
    if let Some(s) = &e.state {
        params.push(("state", s.as_str()));
    }
    redirect_to(state, &e.redirect_uri, &params)
}

fn authorize_request(params: &HashMap<String, String>) -> AuthorizeRequest {
    let get = |k: &str| params.get(k).cloned();
    AuthorizeRequest {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
    }
}

fn hidden(params: &HashMap<String, String>) -> Vec<pages::Hidden> {
    AUTHORIZE_PARAMS
        .iter()
        .filter_map(|k| {
            params.get(*k).map(|v| pages::Hidden {
                name: (*k).to_owned(),
                value: v.clone(),
            })
        })
        .collect()
}

/// Validates; the error responses (page or redirect) come back as `Err`.
async fn validate(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<ValidAuthorization, Response> {
    match state
        .oauth
        .validate_authorization(&authorize_request(params))
        .await
    {
        Ok(v) => Ok(v),
        Err(AuthorizeError::Untrusted { description }) => Err(error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            &description,
        )),
        Err(AuthorizeError::Redirect(e)) => Err(redirect_error(state, &e)),
        Err(AuthorizeError::Store(e)) => {
            tracing::error!(error = ?e, "authorize: store failure");
            Err(server_error())
        }
    }
}

fn with_cookie(mut resp: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

async fn show_consent_or_sign_in(
    state: &AppState,
    params: &HashMap<String, String>,
    auth: &ValidAuthorization,
    session: Session,
    sign_in_error: Option<&str>,
    email: &str,
) -> Response {
    let cookie = cookie_header(state, &session);
    let user = match session.user {
        Some((org, id)) => match state.oauth.user(org, id).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = ?e, "authorize: store failure");
                return server_error();
            }
        },
        None => None,
    };
    let hidden = hidden(params);
    let page = match user {
        Some(u) => {
            let scopes: Vec<&str> = auth.scopes.iter().collect();
            html_for(
                StatusCode::OK,
                pages::consent(
                    &auth.client.name,
                    u.email.as_str(),
                    &session.csrf,
                    &hidden,
                    &scopes,
                ),
                Some(&auth.redirect_uri),
            )
        }
        None => html_for(
            if sign_in_error.is_some() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::OK
            },
            pages::sign_in(
                &auth.client.name,
                &session.csrf,
                &hidden,
                sign_in_error,
                email,
            ),
            Some(&auth.redirect_uri),
        ),
    };
    with_cookie(page, cookie)
}

async fn authorize_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match parse_form(query.as_deref().unwrap_or("").as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid",
                &e,
            );
        }
    };
    let auth = match validate(&state, &params).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let session = match open(&state, &headers) {
        Some(s) => s,
        None => match new_csrf() {
            Some(csrf) => Session { user: None, csrf },
            None => return server_error(),
        },
    };
    show_consent_or_sign_in(&state, &params, &auth, session, None, "").await
}

async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match parse_form(&body) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "The form is not valid", &e),
    };
    let csrf_fail = || {
        error_page(
            StatusCode::BAD_REQUEST,
            "This form has expired",
            "The security token of the form is missing or belongs to another session. Go back to the application and start again.",
        )
    };
    let Some(session) = open(&state, &headers) else {
        return csrf_fail();
    };
    let presented = form.get("csrf_token").map(String::as_str).unwrap_or("");
    if presented.is_empty()
        || !auth::oauth::constant_time_eq(presented.as_bytes(), session.csrf.as_bytes())
    {
        return csrf_fail();
    }
    let auth = match validate(&state, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match form.get("action").map(String::as_str) {
        Some("sign_in") => {
            let email = form.get("email").map(String::as_str).unwrap_or("");
            let password = form.get("password").map(String::as_str).unwrap_or("");
            match state.oauth.sign_in(email, password).await {
                Ok(Some(user)) => {
                    // A fresh CSRF token on sign-in (no fixation of a pre-sign-in token).
                    let Some(csrf) = new_csrf() else {
                        return server_error();
                    };
                    let s = Session {
                        user: Some((user.organization_id, user.id)),
                        csrf,
                    };
                    show_consent_or_sign_in(&state, &form, &auth, s, None, "").await
                }
                Ok(None) => {
                    show_consent_or_sign_in(
                        &state,
                        &form,
                        &auth,
                        session,
                        Some("The e-mail address or password is not right."),
                        email,
                    )
                    .await
                }
                Err(e) => {
                    tracing::error!(error = ?e, "sign-in: store failure");
                    server_error()
                }
            }
        }
        Some("approve") => {
            let user = match session.user {
                Some((org, id)) => match state.oauth.user(org, id).await {
                    Ok(u) => u,
                    Err(_) => return server_error(),
                },
                None => None,
            };
            let Some(user) = user else {
                return show_consent_or_sign_in(&state, &form, &auth, session, None, "").await;
            };
            match state.oauth.approve(&auth, &user).await {
                Ok(code) => {
                    let mut params = vec![("code", code.as_str())];
                    if let Some(s) = &auth.state {
                        params.push(("state", s.as_str()));
                    }
                    redirect_to(&state, &auth.redirect_uri, &params)
                }
                Err(e) => {
                    tracing::error!(error = ?e, "approve: store failure");
                    server_error()
                }
            }
        }
        Some("deny") => redirect_error(
            &state,
            &auth.redirect_error("access_denied", "The user denied the request"),
        ),
        _ => error_page(
            StatusCode::BAD_REQUEST,
            "The form is not valid",
            "Unknown action.",
        ),
    }
}
