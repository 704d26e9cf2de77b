//! Server-rendered HTML: the public booking pages ([`booking`], assets in [`assets`]) and the
//! OAuth sign-in, consent and error pages (askama templates with auto-escaping, no inline
//! style or script at all, so the pages work without JavaScript under a CSP without
//! `'unsafe-inline'`). The OAuth pages link one stylesheet, [`STYLESHEET`] (the booking pages'
//! base look), at the content-addressed [`oauth_css_url`], which the OAuth routes serve — so it
//! exists whether or not the booking pages (`/_assets/`) are enabled. This crate only renders:
//! the HTTP adapter (`http-api`) parses requests, checks CSRF tokens and cookies and calls the
//! domain.
//!
//! Every page names the application and describes each requested scope in words (see
//! [`describe_scope`]); forms use labels, visible focus and a native submit button.

pub mod assets;
pub mod booking;
pub mod invitee;

use askama::Template;

/// The OAuth pages' stylesheet, also the first part of the booking pages' sheet (one product
/// look).
pub const STYLESHEET: &str = include_str!("../templates/style.css");

/// Where the OAuth pages' stylesheet is served: `/v1/oauth/style-<hash>.css` (content hash,
/// so it may be cached for a year).
pub fn oauth_css_url() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| format!("/v1/oauth/style-{:016x}.css", assets::fnv(STYLESHEET)))
}

/// A hidden form field carrying an authorization request parameter.
#[derive(Debug, Clone)]
pub struct Hidden {
    pub name: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn<'a> {
    css_url: &'a str,
    app_name: &'a str,
    csrf: &'a str,
    hidden: &'a [Hidden],
    error: Option<&'a str>,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct Consent<'a> {
    css_url: &'a str,
    app_name: &'a str,
    user_label: &'a str,
    csrf: &'a str,
    hidden: &'a [Hidden],
    scopes: Vec<(String, &'static str)>,
    /// Set for an application that registered itself (RFC 7591): where it sends the user back.
    unverified: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    css_url: &'a str,
    title: &'a str,
    message: &'a str,
}

/// The sign-in page (e-mail and password) of the authorization flow.
pub fn sign_in(
    app_name: &str,
    csrf: &str,
    hidden: &[Hidden],
    error: Option<&str>,
    email: &str,
) -> Result<String, askama::Error> {
    SignIn {
        css_url: oauth_css_url(),
        app_name,
        csrf,
        hidden,
        error,
        email,
    }
    .render()
}

/// Who asks on the consent page.
#[derive(Debug, Clone, Copy)]
pub struct App<'a> {
    pub name: &'a str,
    /// Registered by itself through RFC 7591 rather than by an administrator: its name is
    /// unchecked, and the page says so in a notice that names `redirect_origin`.
    pub unverified: bool,
    /// Where approving or denying sends the user (scheme and host of the redirect URI).
    pub redirect_origin: &'a str,
}

/// The consent page: approve or deny the named scopes for the app.
pub fn consent(
    app: App<'_>,
    user_label: &str,
    csrf: &str,
    hidden: &[Hidden],
    scopes: &[&str],
) -> Result<String, askama::Error> {
    Consent {
        css_url: oauth_css_url(),
        app_name: app.name,
        user_label,
        csrf,
        hidden,
        scopes: scopes
            .iter()
            .map(|s| ((*s).to_owned(), describe_scope(s)))
            .collect(),
        unverified: app.unverified.then_some(app.redirect_origin),
    }
    .render()
}

/// An error page (for errors that must not be redirected to an untrusted client).
pub fn error(title: &str, message: &str) -> Result<String, askama::Error> {
    ErrorPage {
        css_url: oauth_css_url(),
        title,
        message,
    }
    .render()
}

/// What a scope lets the app do, in words a person understands.
pub fn describe_scope(scope: &str) -> &'static str {
    match scope {
        "user:read" => "See your name, e-mail address, time zone and organization",
        "event_types:read" => "See your event types (the kinds of meetings people can book)",
        "event_types:create" => "Create new event types",
        "event_types:update" => "Change your event types",
        "event_types:delete" => "Delete your event types",
        "slots:read" => "See when you are free to be booked",
        "bookings:read" => "See your bookings and who booked them",
        "bookings:create" => "Book meetings on your calendar",
        "bookings:cancel" => "Cancel your bookings",
        "bookings:reschedule" => "Move your bookings to another time",
        "bookings:update" => "Change the details of your bookings",
        "webhooks:read" => "See the webhooks that notify other services",
        "webhooks:write" => {
            "Create, change and delete webhooks that send your booking data elsewhere"
        }
        "availability:read" => "See your availability schedules",
        "availability:write" => "Change your availability schedules",
        "offline_access" => "Keep this access when you are not using the app (a refresh token)",
        "users:read" => "See the people in your organization",
        "meetings:read" => "See your meetings",
        "meetings:write" => "Change your meetings",
        "contacts:read" => "See your contacts",
        "single_use_links:read" => "See your single-use booking links",
        "single_use_links:write" => "Create and change single-use booking links",
        "roundtables:read" => "See your round tables",
        "roundtables:write" => "Change your round tables",
        "routing_forms:read" => "See your routing forms",
        "routing_forms:create" => "Create routing forms",
        "routing_forms:update" => "Change your routing forms",
        "series:read" => "See your recurring meeting series",
        "series:write" => "Create and change recurring meeting series",
        _ => "Access described by this permission name",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pages_escape_and_describe() {
        let hidden = vec![Hidden {
            name: "state".into(),
            value: "\"><script>".into(),
        }];
        let app = App {
            name: "<App>",
            unverified: false,
            redirect_origin: "https://app.example",
        };
        let html = consent(app, "a@example.com", "tok", &hidden, &["bookings:read"]).unwrap();
        assert!(!html.contains("<App>") && html.contains("App"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("See your bookings and who booked them"));
        assert!(html.contains("name=\"csrf_token\" value=\"tok\""));
        assert!(!html.contains("not verified"));
        for page in [
            html.clone(),
            sign_in("App", "tok", &hidden, None, "").unwrap(),
            error("Oops", "x").unwrap(),
        ] {
            assert!(
                !page.contains("<style") && !page.contains("style="),
                "{page}"
            );
            assert!(
                page.contains(&format!(
                    "<link rel=\"stylesheet\" href=\"{}\">",
                    oauth_css_url()
                )),
                "{page}"
            );
        }
        let html = consent(
            App {
                unverified: true,
                ..app
            },
            "a@example.com",
            "tok",
            &hidden,
            &["bookings:read"],
        )
        .unwrap();
        assert!(html.contains("not verified"), "{html}");
        assert!(html.contains("https://app.example"), "{html}");
        let html = sign_in("App", "tok", &hidden, Some("Wrong"), "").unwrap();
        assert!(html.contains("<label for=\"email\">"));
        assert!(html.contains("Wrong"));
        let html = error("Oops", "Bad <thing>").unwrap();
        assert!(!html.contains("<thing>") && html.contains("Bad "));
    }
}
