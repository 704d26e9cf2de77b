//! Typed identifiers. Every id is a UUID (v7 for new rows, see [`crate::ports::IdGen`]); the
//! newtypes keep an event type id from being passed where a booking uid is expected.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization (the contract's "account").
    OrganizationId
);
id_type!(
    /// A user inside one organization.
    UserId
);
id_type!(
    /// An availability schedule.
    ScheduleId
);
id_type!(
    /// An event type (a bookable meeting kind).
    EventTypeId
);
id_type!(
    /// A booking's `uid`.
    BookingUid
);
id_type!(
    /// A personal access token's row id.
    TokenId
);
id_type!(
    /// An outbox message (a domain event waiting for delivery).
    OutboxId
);
