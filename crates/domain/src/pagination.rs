//! Keyset (cursor) pagination: pages of at most 100 rows, default 20, with opaque base64url
//! cursors that stay stable while rows are inserted.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// A page size, clamped into `1..=100` (values above the max are clamped, not rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    /// From a client value: `0` or negatives are refused, values above 100 become 100.
    pub fn new(n: i64) -> Result<Self, String> {
        if n < 1 {
            return Err("limit must be at least 1".into());
        }
        Ok(Self(n.min(i64::from(MAX_LIMIT)) as u32))
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

/// The sort key of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorValue {
    /// Instants as epoch milliseconds.
    Int(i64),
    Text(String),
}

/// What a sort's cursor carries: an instant (epoch milliseconds) or a text key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Instant,
    Text,
}

/// Position after which the next page starts: the last row's sort key and id (the tiebreak),
/// bound to the sort it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort: String,
    pub value: CursorValue,
    pub id: Uuid,
}

impl Cursor {
    /// The opaque base64url string clients see.
    pub fn encode(&self) -> String {
        let raw = match &self.value {
            CursorValue::Int(n) => format!("{}|i|{}|{}", self.sort, self.id, n),
            CursorValue::Text(t) => format!("{}|t|{}|{}", self.sort, self.id, t),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Decodes a cursor made for `sort`, whose key is of `kind`; a forged cursor (another
    /// sort, another kind of key, an instant outside the years 0001–9999) is an error a client
    /// can act on, never a value the stores cannot bind.
    pub fn decode_as(s: &str, sort: &str, kind: CursorKind) -> Result<Self, String> {
        let c = Self::decode(s, sort)?;
        let ok = match (&c.value, kind) {
            (CursorValue::Int(ms), CursorKind::Instant) => {
                (crate::validate::MIN_INSTANT_MS..=crate::validate::MAX_INSTANT_MS).contains(ms)
            }
            (CursorValue::Text(_), CursorKind::Text) => true,
            _ => false,
        };
        if !ok {
            return Err(
                "cursor is not valid; pass meta.next_cursor from the previous page unchanged"
                    .into(),
            );
        }
        Ok(c)
    }

    /// Decodes a cursor made for `sort`; anything else is an error a client can act on.
    pub fn decode(s: &str, sort: &str) -> Result<Self, String> {
        let bad = || {
            "cursor is not valid; pass meta.next_cursor from the previous page unchanged"
                .to_string()
        };
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = raw.splitn(4, '|');
        let (Some(cs), Some(kind), Some(id), Some(val)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if cs != sort {
            return Err(
                "cursor was made for a different sort; re-send the same sort with each page".into(),
            );
        }
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        let value = match kind {
            "i" => CursorValue::Int(val.parse().map_err(|_| bad())?),
            "t" => CursorValue::Text(val.to_owned()),
            _ => return Err(bad()),
        };
        Ok(Self {
            sort: sort.to_owned(),
            value,
            id,
        })
    }
}

/// A request for one page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Limit,
    pub after: Option<Cursor>,
}

/// One page of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when `has_more`.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only signals `has_more`.
    pub fn from_overfetch(
        mut rows: Vec<T>,
        limit: Limit,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let has_more = rows.len() > limit.get() as usize;
        rows.truncate(limit.get() as usize);
        let next_cursor = if has_more {
            rows.last().map(|r| cursor_of(r).encode())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_clamp_above_and_refuse_below() {
        assert_eq!(Limit::new(1000).unwrap().get(), 100);
        assert_eq!(Limit::new(7).unwrap().get(), 7);
        assert!(Limit::new(0).is_err());
        assert_eq!(Limit::default().get(), 20);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            sort: "start_at_desc".into(),
            value: CursorValue::Int(-5),
            id: Uuid::nil(),
        };
        let s = c.encode();
        assert!(
            s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        );
        assert_eq!(Cursor::decode(&s, "start_at_desc").unwrap(), c);
        assert!(Cursor::decode(&s, "start_at_asc").is_err());
        assert!(Cursor::decode("!!", "start_at_desc").is_err());
        let t = Cursor {
            sort: "title_asc".into(),
            value: CursorValue::Text("a|b".into()),
            id: Uuid::nil(),
        };
        assert_eq!(Cursor::decode(&t.encode(), "title_asc").unwrap(), t);
        assert!(Cursor::decode_as(&t.encode(), "title_asc", CursorKind::Text).is_ok());
        assert!(Cursor::decode_as(&t.encode(), "title_asc", CursorKind::Instant).is_err());
        assert!(Cursor::decode_as(&s, "start_at_desc", CursorKind::Instant).is_ok());
        let forged = Cursor {
            value: CursorValue::Int(i64::MIN),
            ..c
        };
        assert!(Cursor::decode_as(&forged.encode(), "start_at_desc", CursorKind::Instant).is_err());
    }

    #[test]
    fn overfetch_sets_has_more() {
        let p = Page::from_overfetch(vec![1, 2, 3], Limit::new(2).unwrap(), |n| Cursor {
            sort: "s".into(),
            value: CursorValue::Int(*n),
            id: Uuid::nil(),
        });
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.has_more);
        assert!(p.next_cursor.is_some());
        let q = Page::from_overfetch(vec![1], Limit::new(2).unwrap(), |n| Cursor {
            sort: "s".into(),
            value: CursorValue::Int(*n),
            id: Uuid::nil(),
        });
        assert!(!q.has_more && q.next_cursor.is_none());
    }
}
