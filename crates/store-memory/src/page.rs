//! Keyset pagination over rows in memory, with the SQL stores' semantics: order by the sort key
//! then the id, both in one direction; a cursor keeps the rows strictly after `(value, id)`;
//! the page is built from `limit + 1` rows (the extra one only signals `has_more`).

use domain::pagination::{Cursor, CursorValue, Page, PageRequest};
use std::cmp::Ordering;
use uuid::Uuid;

/// SQLite's cross-type order: every integer sorts before every text.
fn compare(a: &CursorValue, b: &CursorValue) -> Ordering {
    match (a, b) {
        (CursorValue::Int(x), CursorValue::Int(y)) => x.cmp(y),
        (CursorValue::Text(x), CursorValue::Text(y)) => x.cmp(y),
        (CursorValue::Int(_), CursorValue::Text(_)) => Ordering::Less,
        (CursorValue::Text(_), CursorValue::Int(_)) => Ordering::Greater,
    }
}

/// One page of `rows` (already filtered) in the order of `key_of`, `desc` or ascending.
pub(crate) fn keyset<T>(
    rows: Vec<T>,
    sort: &str,
    desc: bool,
    page: &PageRequest,
    key_of: impl Fn(&T) -> (CursorValue, Uuid),
) -> Page<T> {
    let mut keyed: Vec<((CursorValue, Uuid), T)> =
        rows.into_iter().map(|r| (key_of(&r), r)).collect();
    let order = |a: &(CursorValue, Uuid), b: &(CursorValue, Uuid)| {
        let o = compare(&a.0, &b.0).then(a.1.cmp(&b.1));
        if desc { o.reverse() } else { o }
    };
    if let Some(after) = &page.after {
        let cursor = (after.value.clone(), after.id);
        keyed.retain(|(k, _)| order(k, &cursor) == Ordering::Greater);
    }
    keyed.sort_by(|a, b| order(&a.0, &b.0));
    keyed.truncate(page.limit.get() as usize + 1);
    let items: Vec<T> = keyed.into_iter().map(|(_, r)| r).collect();
    Page::from_overfetch(items, page.limit, |r| {
        let (value, id) = key_of(r);
        Cursor {
            sort: sort.to_owned(),
            value,
            id,
        }
    })
}
