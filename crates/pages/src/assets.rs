//! The booking pages' static assets, embedded in the binary: one stylesheet (the sign-in and
//! consent pages' `style.css` followed by the booking additions), the optional time-zone script,
//! and per-colour accent sheets. URLs carry a content hash, so responses may be cached for a
//! year (`immutable`): a new binary with new assets has new URLs.

use std::sync::OnceLock;

/// `style.css` + `booking.css`, served as one file.
pub fn stylesheet() -> &'static str {
    static CSS: OnceLock<String> = OnceLock::new();
    CSS.get_or_init(|| {
        format!(
            "{}\n{}",
            crate::STYLESHEET,
            include_str!("../assets/booking.css")
        )
    })
}

/// The optional script: detects the visitor's zone with `Intl` when the URL names none.
pub const SCRIPT: &str = include_str!("../assets/tz.js");

/// Where assets are served.
pub const PREFIX: &str = "/_assets/";

/// FNV-1a, 64 bit: a content fingerprint for cache-busting URLs (not a security hash).
pub(crate) fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `/_assets/slotbook-<hash>.css`.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("{PREFIX}slotbook-{:016x}.css", fnv(stylesheet())))
}

/// `/_assets/tz-<hash>.js`.
pub fn js_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("{PREFIX}tz-{:016x}.js", fnv(SCRIPT)))
}

/// An asset by its file name under [`PREFIX`]: (content type, body).
pub fn lookup(name: &str) -> Option<(&'static str, String)> {
    if Some(name) == css_url().strip_prefix(PREFIX) {
        return Some(("text/css; charset=utf-8", stylesheet().to_owned()));
    }
    if Some(name) == js_url().strip_prefix(PREFIX) {
        return Some(("text/javascript; charset=utf-8", SCRIPT.to_owned()));
    }
    let hex = name.strip_prefix("accent-")?.strip_suffix(".css")?;
    let rgb = parse_hex(hex)?;
    Some(("text/css; charset=utf-8", accent_css(rgb)))
}

/// `/_assets/accent-<rrggbb>.css` for an event type colour (`#rrggbb` or `#rgb`); `None` for
/// anything else (the default accent then applies).
pub fn accent_url(color: &str) -> Option<String> {
    let rgb = parse_hex(color.strip_prefix('#')?)?;
    Some(format!(
        "{PREFIX}accent-{:02x}{:02x}{:02x}.css",
        rgb.0, rgb.1, rgb.2
    ))
}

fn parse_hex(hex: &str) -> Option<(u8, u8, u8)> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        6 => Some((v(&hex[0..2])?, v(&hex[2..4])?, v(&hex[4..6])?)),
        3 => {
            let d = |i: usize| v(&hex[i..=i]).map(|x| x * 17);
            Some((d(0)?, d(1)?, d(2)?))
        }
        _ => None,
    }
}

/// WCAG relative luminance.
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let c = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.039_28 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b)
}

/// WCAG contrast ratio of two colours.
pub fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

const WHITE: (u8, u8, u8) = (255, 255, 255);
const BLACK: (u8, u8, u8) = (0, 0, 0);
/// The light tint behind calendar days (`#eef3fb`): accent text must also read on it.
const TINT: (u8, u8, u8) = (0xee, 0xf3, 0xfb);

/// The accent sheet: the colour itself for fills (with black or white text, whichever
/// contrasts more — one of them always reaches 4.5:1), and a version darkened until it reaches
/// 4.5:1 on white and on the day tint for text and links (WCAG 2.2 AA).
pub fn accent_css(rgb: (u8, u8, u8)) -> String {
    let on = if contrast(rgb, WHITE) >= contrast(rgb, BLACK) {
        "#fff"
    } else {
        "#000"
    };
    let mut text = rgb;
    for _ in 0..64 {
        if contrast(text, WHITE) >= 4.5 && contrast(text, TINT) >= 4.5 {
            break;
        }
        let dark = |v: u8| (f64::from(v) * 0.9) as u8;
        text = (dark(text.0), dark(text.1), dark(text.2));
    }
    format!(
        ":root {{ --accent: #{:02x}{:02x}{:02x}; --on-accent: {on}; --accent-text: #{:02x}{:02x}{:02x}; }}\n",
        rgb.0, rgb.1, rgb.2, text.0, text.1, text.2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_content_addressed_and_served() {
        let css = css_url().strip_prefix(PREFIX).unwrap();
        let (ty, body) = lookup(css).unwrap();
        assert_eq!(ty, "text/css; charset=utf-8");
        assert!(body.contains("table.calendar") && body.contains(":focus-visible"));
        assert!(lookup(js_url().strip_prefix(PREFIX).unwrap()).is_some());
        assert!(lookup("slotbook-0000000000000000.css").is_none());
        assert!(lookup("accent-zzzzzz.css").is_none());
    }

    #[test]
    fn accents_always_reach_aa_contrast() {
        assert_eq!(
            accent_url("#7C3AED").as_deref(),
            Some("/_assets/accent-7c3aed.css")
        );
        assert_eq!(
            accent_url("#fc0").as_deref(),
            Some("/_assets/accent-ffcc00.css")
        );
        assert_eq!(accent_url("red"), None);
        assert_eq!(accent_url("#12345"), None);
        for rgb in [
            (255, 255, 0),
            (124, 58, 237),
            (0, 0, 0),
            (255, 255, 255),
            (0, 200, 255),
            (119, 119, 119),
        ] {
            let css = accent_css(rgb);
            let text = css.split("--accent-text: #").nth(1).unwrap();
            let t = parse_hex(&text[..6]).unwrap();
            assert!(contrast(t, WHITE) >= 4.5, "{css}");
            assert!(contrast(t, TINT) >= 4.5, "{css}");
            let on = if css.contains("--on-accent: #fff") {
                WHITE
            } else {
                BLACK
            };
            assert!(contrast(rgb, on) >= 4.5, "{css}");
        }
    }
}
