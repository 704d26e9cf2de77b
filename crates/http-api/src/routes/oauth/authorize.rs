//! `GET|POST /v1/oauth/authorize`: the sign-in and consent pages, the sealed session cookie,
//! CSRF checks, and the redirects back to the client (code, or `error` with `state` and `iss`
//! per RFC 9207). Errors found before the client and redirect URI are trusted are pages.

use super::{base, no_store, parse_form};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::ids::{OrganizationId, UserId};
use domain::oauth_service::{AuthorizeError, AuthorizeRequest, RedirectError, ValidAuthorization};
use ring::rand::{SecureRandom, SystemRandom};
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
    // No inline style or script: the one stylesheet is `pages::oauth_css_url()` ('self').
    let csp = format!(
        "default-src 'none'; style-src 'self'; form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
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
            let origin = form_target_source(&auth.redirect_uri);
            let app = pages::App {
                name: &auth.client.name,
                unverified: auth.client.dynamic,
                redirect_origin: origin.as_deref().unwrap_or(&auth.redirect_uri),
            };
            html_for(
                StatusCode::OK,
                pages::consent(app, u.email.as_str(), &session.csrf, &hidden, &scopes),
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

pub(super) async fn authorize_get(
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

pub(super) async fn authorize_post(
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

/// `GET /v1/oauth/style-<hash>.css`: the sign-in, consent and error pages' stylesheet,
/// embedded and content-addressed (cached for a year), served here so that the pages keep
/// their look with `[pages] enabled = false`.
pub(super) async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}
