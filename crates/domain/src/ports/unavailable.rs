//! "The store cannot serve this call right now": the one failure kind a caller may retry.
//!
//! A store sets it for a pool acquire timeout, a refused, reset or closed connection, a
//! database that is shutting down or starting up, a write lock (SQLite busy/locked, Postgres
//! lock timeout) not taken in time and a full writer queue. It travels *inside* the
//! `anyhow::Error` of every `…::Unknown` variant (as an [`StoreUnavailable`] in the error chain), so
//! it survives each service's own error enum without a new variant in every one of them;
//! adapters ask [`unavailable_kind`] and answer `503 service_unavailable` with `Retry-After`
//! instead of a 500.

use super::{BookingWriteError, CreateError, DeleteError, StoreError, UpdateError};
use std::error::Error as StdError;

/// Why the store is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnavailableKind {
    /// No pooled connection within the acquire timeout (pool exhausted or database down).
    PoolTimeout,
    /// The connection was refused, reset or closed, or the database is shutting down or
    /// starting up.
    ConnectionLost,
    /// A write lock was not taken within the lock timeout (SQLite busy/locked, Postgres
    /// `lock_not_available`, a statement timeout).
    LockTimeout,
    /// Too many writers are already waiting for their turn.
    QueueFull,
}

impl UnavailableKind {
    /// A stable label (logs, metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            UnavailableKind::PoolTimeout => "pool_timeout",
            UnavailableKind::ConnectionLost => "connection_lost",
            UnavailableKind::LockTimeout => "lock_timeout",
            UnavailableKind::QueueFull => "queue_full",
        }
    }
}

impl std::fmt::Display for UnavailableKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The marker error a store puts into the chain; its source is the driver's error.
#[derive(Debug, thiserror::Error)]
#[error("the store is unavailable ({kind})")]
pub struct StoreUnavailable {
    pub kind: UnavailableKind,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl StoreUnavailable {
    pub fn new(kind: UnavailableKind, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// Without an underlying error (e.g. the store's own writer queue is full).
    pub fn bare(kind: UnavailableKind) -> Self {
        Self { kind, source: None }
    }
}

impl StoreError {
    /// A [`StoreError`] of kind `kind` caused by `source`.
    pub fn unavailable(
        kind: UnavailableKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        StoreError::Unknown(anyhow::Error::new(StoreUnavailable::new(kind, source)))
    }

    /// The unavailability this error reports, if it is one.
    pub fn unavailable_kind(&self) -> Option<UnavailableKind> {
        let StoreError::Unknown(e) = self;
        unavailable_kind(e)
    }
}

/// The [`StoreUnavailable`] kind anywhere in `e`'s chain (under contexts and wrapping errors).
pub fn unavailable_kind(e: &anyhow::Error) -> Option<UnavailableKind> {
    if let Some(u) = e.downcast_ref::<StoreUnavailable>() {
        return Some(u.kind);
    }
    e.chain().find_map(kind_of)
}

/// [`unavailable_kind`] for a plain error chain.
pub fn unavailable_kind_in(e: &(dyn StdError + 'static)) -> Option<UnavailableKind> {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(k) = kind_of(c) {
            return Some(k);
        }
        cur = c.source();
    }
    None
}

/// One link: the marker itself, or a domain error whose `#[error(transparent)]` would hide
/// the top of the `anyhow::Error` it wraps.
fn kind_of(c: &(dyn StdError + 'static)) -> Option<UnavailableKind> {
    if let Some(u) = c.downcast_ref::<StoreUnavailable>() {
        return Some(u.kind);
    }
    let inner = if let Some(StoreError::Unknown(e)) = c.downcast_ref::<StoreError>() {
        e
    } else if let Some(CreateError::Unknown(e)) = c.downcast_ref::<CreateError>() {
        e
    } else if let Some(UpdateError::Unknown(e)) = c.downcast_ref::<UpdateError>() {
        e
    } else if let Some(DeleteError::Unknown(e)) = c.downcast_ref::<DeleteError>() {
        e
    } else if let Some(BookingWriteError::Unknown(e)) = c.downcast_ref::<BookingWriteError>() {
        e
    } else {
        return None;
    };
    inner.downcast_ref::<StoreUnavailable>().map(|u| u.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    fn io() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused")
    }

    #[test]
    fn found_under_contexts_and_wrappers() {
        let e = StoreError::unavailable(UnavailableKind::PoolTimeout, io());
        assert_eq!(e.unavailable_kind(), Some(UnavailableKind::PoolTimeout));
        let StoreError::Unknown(inner) = e;
        let ctx = inner.context("reading a token").context("authenticating");
        assert_eq!(unavailable_kind(&ctx), Some(UnavailableKind::PoolTimeout));

        // Wrapped by a transparent domain error, then into anyhow again.
        let wrapped = anyhow::Error::new(CreateError::Unknown(anyhow::Error::new(
            StoreUnavailable::bare(UnavailableKind::QueueFull),
        )));
        assert_eq!(unavailable_kind(&wrapped), Some(UnavailableKind::QueueFull));
        assert_eq!(
            unavailable_kind_in(wrapped.as_ref()),
            Some(UnavailableKind::QueueFull)
        );

        // A booking write's failure (how a create under pool exhaustion reaches the HTTP
        // layer: `CreateBookingError::Unknown(BookingWriteError::Unknown(..).into())`).
        let write = anyhow::Error::new(BookingWriteError::Unknown(anyhow::Error::new(
            StoreUnavailable::bare(UnavailableKind::PoolTimeout),
        )));
        assert_eq!(unavailable_kind(&write), Some(UnavailableKind::PoolTimeout));
    }

    #[test]
    fn other_errors_are_not_unavailable() {
        let e = anyhow::Error::new(io()).context("reading");
        assert_eq!(unavailable_kind(&e), None);
        assert_eq!(StoreError::Unknown(e).unavailable_kind(), None);
        let r: Result<(), std::io::Error> = Err(io());
        assert_eq!(unavailable_kind(&r.context("x").unwrap_err()), None);
    }
}
