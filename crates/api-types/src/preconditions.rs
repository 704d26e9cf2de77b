//! `ETag` / `If-Match` for optimistic locking (§2.9, §6.1.6): the tag is the quoted decimal
//! version (`"3"`); `If-Match` accepts `"3"` and the weak form `W/"3"`, nothing else.

/// The `ETag` header value of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses an `If-Match` value into the expected version; `None` when it is not `"<int>"` or
/// `W/"<int>"`.
pub fn parse_if_match(value: &str) -> Option<i64> {
    let v = value.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    inner.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match("\"3\""), Some(3));
        assert_eq!(parse_if_match("W/\"3\""), Some(3));
        assert_eq!(parse_if_match(" \"12\" "), Some(12));
        for bad in [
            "3", "\"\"", "*", "\"3", "W/3", "\"3.0\"", "\"abc\"", "w/\"3\"", "\"+3\"",
        ] {
            assert_eq!(parse_if_match(bad), None, "{bad}");
        }
        assert_eq!(etag(7), "\"7\"");
        assert_eq!(parse_if_match(&etag(42)), Some(42));
    }
}
