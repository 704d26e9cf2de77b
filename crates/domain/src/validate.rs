//! Small validating constructors shared by the model: field-level errors that the HTTP layer
//! reports as `validation_error` with `details.fields`.

use std::fmt;

/// One failing field and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted field path as the client sent it, e.g. `attendee.email`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects field errors so a request reports every failing field at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records an error.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when an error names `field`.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Records every error of `other`.
    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }
}

/// The stored version is not the one the caller expected (optimistic concurrency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("version {current} is stored, {expected} was expected")]
pub struct StaleVersion {
    pub current: i64,
    pub expected: i64,
}

/// The optimistic version check, in one place: a write based on version `expected` may
/// proceed only while `current` (the stored version) is still `expected`.
pub fn version_matches(current: i64, expected: i64) -> Result<(), StaleVersion> {
    if current == expected {
        Ok(())
    } else {
        Err(StaleVersion { current, expected })
    }
}

/// Checks a string's length in characters; records an error naming the limit.
pub fn max_chars(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters"));
    }
}

/// An e-mail address: ASCII only, one `@`, a non-empty local part and a dotted domain, ≤ 254
/// characters. Accented local parts are rejected, as the contract requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Validates an address; the error message says what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        if !s.is_ascii() {
            return Err("must contain ASCII characters only".into());
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("must look like name@example.com".into());
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be a deliverable address like name@example.com".into())
        }
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in international format (see [`check_phone`]), at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Validates a number; the error message says what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars().count() > 64 {
            return Err("must be at most 64 characters".into());
        }
        check_phone(s)?;
        Ok(Self(s.to_owned()))
    }

    /// The number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in international format: `+` then 7–15 digits (spaces, dashes and dots allowed
/// between digits).
pub fn check_phone(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix('+') else {
        return Err("must be in international format, starting with +".into());
    };
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    let only_allowed = rest
        .chars()
        .all(|c| c.is_ascii_digit() || " -.".contains(c));
    if only_allowed && (7..=15).contains(&digits) {
        Ok(())
    } else {
        Err("must be + followed by 7 to 15 digits".into())
    }
}

/// Parses an IANA zone name into a zone, with a message naming the problem.
pub fn parse_time_zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    if name.is_empty() || name.len() > 64 {
        return Err("must be an IANA time zone name such as Europe/Berlin".into());
    }
    crate::tzdb::lookup(name)
        .map_err(|_| format!("unknown time zone '{name}'; use an IANA name such as Europe/Berlin"))
}

/// The first instant the API accepts: 0001-01-01T00:00:00Z (epoch milliseconds).
pub const MIN_INSTANT_MS: i64 = -62_135_596_800_000;
/// The last instant the API accepts: 9999-12-31T23:59:59.999Z (epoch milliseconds).
pub const MAX_INSTANT_MS: i64 = 253_402_300_799_999;

/// Instants outside the years 0001–9999 (UTC) are refused everywhere a client gives one: no
/// store can hold them the same way (Postgres `timestamptz` starts at 4713 BC, SQLite text
/// sorts `-0001` wrongly), and no calendar means them.
pub fn check_instant_range(t: jiff::Timestamp) -> Result<jiff::Timestamp, String> {
    let ms = t.as_millisecond();
    if (MIN_INSTANT_MS..=MAX_INSTANT_MS).contains(&ms) {
        Ok(t)
    } else {
        Err("must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z".into())
    }
}

/// Civil dates outside the years 0001–9999 are refused (see [`check_instant_range`]).
pub fn check_date_range(d: jiff::civil::Date) -> Result<jiff::civil::Date, String> {
    if (1..=9999).contains(&d.year()) {
        Ok(d)
    } else {
        Err("must be a date between 0001-01-01 and 9999-12-31".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_range_is_years_0001_to_9999() {
        for ok in [
            "0001-01-01T00:00:00Z",
            "9999-12-30T21:59:59.999Z",
            "2026-05-01T00:00:00Z",
        ] {
            assert!(check_instant_range(ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "0000-12-31T23:59:59.999Z",
            "-000001-01-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
        ] {
            assert!(check_instant_range(bad.parse().unwrap()).is_err(), "{bad}");
        }
        assert!(check_date_range("0000-01-01".parse().unwrap()).is_err());
        assert!(check_date_range("0001-01-01".parse().unwrap()).is_ok());
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "x_y@ex-ample.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@.co",
            "jöhn@example.com",
            "a..b@ex.com",
            "a@b.c",
            "a b@ex.com",
            "a@ex_ample.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert!(check_phone("+49 30 1234567").is_ok());
        assert!(check_phone("+14155550123").is_ok());
        assert!(check_phone("030 1234567").is_err());
        assert!(check_phone("+12").is_err());
        assert!(check_phone("+1415abc0123").is_err());
    }

    #[test]
    fn zones() {
        assert!(parse_time_zone("Europe/Berlin").is_ok());
        assert!(
            parse_time_zone("Mars/Olympus")
                .unwrap_err()
                .contains("Mars/Olympus")
        );
    }
}
