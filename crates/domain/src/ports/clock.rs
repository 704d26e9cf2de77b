//! Time and identity sources.

use jiff::Timestamp;
use uuid::Uuid;

/// The current instant. Production reads the system clock; tests use a settable clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// New identifiers. Production generates UUIDv7 (time-ordered, §6.1.11).
pub trait IdGen: Send + Sync {
    fn new_id(&self) -> Uuid;
}
