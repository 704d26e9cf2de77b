//! Principals, scopes and the rules for who may do what.
//!
//! Aliases (`event_types:write`, `bookings:write`, …) are expanded **at grant time**: a stored
//! [`ScopeSet`] never contains an alias, so runtime checks see the expanded set.

use crate::ids::{OrganizationId, TokenId, UserId};
use crate::organization::Role;
use std::collections::BTreeSet;
use std::fmt;

/// Every scope Slotbook knows: the contract's active and reserved scopes, plus those declared
/// for OAuth flows and MCP. Aliases are not scopes; see [`expand`].
pub const KNOWN_SCOPES: &[&str] = &[
    "user:read",
    "event_types:read",
    "event_types:create",
    "event_types:update",
    "event_types:delete",
    "slots:read",
    "bookings:read",
    "bookings:create",
    "bookings:cancel",
    "bookings:reschedule",
    "bookings:update",
    "webhooks:read",
    "webhooks:write",
    "availability:read",
    "availability:write",
    "users:read",
    "meetings:read",
    "meetings:write",
    "contacts:read",
    "single_use_links:read",
    "single_use_links:write",
    "roundtables:read",
    "roundtables:write",
    "routing_forms:read",
    "routing_forms:create",
    "routing_forms:update",
    "offline_access",
    "series:read",
    "series:write",
];

/// The contract's active and reserved scopes (discovery's `scopes_supported`).
pub const ACTIVE_AND_RESERVED_SCOPES: &[&str] = &[
    "user:read",
    "event_types:read",
    "event_types:create",
    "event_types:update",
    "event_types:delete",
    "slots:read",
    "bookings:read",
    "bookings:create",
    "bookings:cancel",
    "bookings:reschedule",
    "bookings:update",
    "webhooks:read",
    "webhooks:write",
    "availability:read",
    "availability:write",
];

/// Alias scopes and what they expand to.
pub const ALIASES: &[(&str, &[&str])] = &[
    (
        "event_types:write",
        &[
            "event_types:create",
            "event_types:update",
            "event_types:delete",
        ],
    ),
    (
        "bookings:write",
        &[
            "bookings:create",
            "bookings:cancel",
            "bookings:reschedule",
            "bookings:update",
        ],
    ),
    (
        "mcp:scheduling:read",
        &[
            "user:read",
            "event_types:read",
            "slots:read",
            "bookings:read",
            "series:read",
        ],
    ),
    (
        "mcp:scheduling:write",
        &[
            "bookings:create",
            "bookings:cancel",
            "bookings:reschedule",
            "bookings:update",
            "series:write",
        ],
    ),
];

/// A set of concrete (expanded) scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

/// A scope name that is neither known nor an alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope '{0}'")]
pub struct UnknownScope(pub String);

/// Expands requested scope names (aliases included) into a concrete set; unknown names fail.
pub fn expand<'a>(requested: impl IntoIterator<Item = &'a str>) -> Result<ScopeSet, UnknownScope> {
    let mut out = BTreeSet::new();
    for name in requested {
        if let Some((_, members)) = ALIASES.iter().find(|(a, _)| *a == name) {
            out.extend(members.iter().map(|s| (*s).to_owned()));
        } else if KNOWN_SCOPES.contains(&name) {
            out.insert(name.to_owned());
        } else {
            return Err(UnknownScope(name.to_owned()));
        }
    }
    Ok(ScopeSet(out))
}

impl ScopeSet {
    /// Rebuilds a stored set; names that are no longer known are dropped.
    pub fn from_stored<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            names
                .into_iter()
                .filter(|n| KNOWN_SCOPES.contains(n))
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when every scope of `other` is in `self`.
    pub fn is_superset(&self, other: &ScopeSet) -> bool {
        other.0.is_subset(&self.0)
    }
}

impl fmt::Display for ScopeSet {
    /// Space-separated, as OAuth writes scope lists.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<&str> = self.iter().collect();
        f.write_str(&v.join(" "))
    }
}

/// How a caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A personal access token; webhooks it creates are owned by this token.
    Pat { token_id: TokenId },
    /// An OAuth access token issued to `client_id`.
    OAuth { client_id: String },
}

/// Who is calling: the organization and user a credential acts for, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub credential: Credential,
    pub scopes: ScopeSet,
    /// The user's role as read when this request authenticated (never cached), so a user who
    /// lost the owner or admin role loses organization-wide writes at the next request.
    pub role: Role,
}

/// The outcome of a scope check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("This action requires the '{required}' scope")]
pub struct MissingScope {
    pub required: &'static str,
}

impl Principal {
    /// Requires one scope.
    pub fn require(&self, scope: &'static str) -> Result<(), MissingScope> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(MissingScope { required: scope })
        }
    }

    /// `"pat"` or `"oauth"`.
    pub fn auth_type(&self) -> &'static str {
        match self.credential {
            Credential::Pat { .. } => "pat",
            Credential::OAuth { .. } => "oauth",
        }
    }

    /// Stable name of the credential owner, used to scope idempotency keys and webhook
    /// ownership: `pat:<token id>` or `oauth:<client id>:<user id>`.
    pub fn owner_key(&self) -> String {
        match &self.credential {
            Credential::Pat { token_id } => format!("pat:{token_id}"),
            Credential::OAuth { client_id } => format!("oauth:{client_id}:{}", self.user_id),
        }
    }
}

/// Every v1 operation and the one scope it requires (`None`: any valid token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Ping,
    Me,
    ListEventTypes,
    GetEventType,
    CreateEventType,
    UpdateEventType,
    DeleteEventType,
    ListSlots,
    CheckSlot,
    ListBookings,
    GetBooking,
    CreateBooking,
    UpdateBooking,
    CancelBooking,
    RescheduleBooking,
    ListSchedules,
    GetSchedule,
    CreateSchedule,
    UpdateSchedule,
    DeleteSchedule,
}

impl Operation {
    /// The scope this operation requires.
    pub fn required_scope(&self) -> Option<&'static str> {
        use Operation::*;
        Some(match self {
            Ping => return None,
            Me => "user:read",
            ListEventTypes | GetEventType => "event_types:read",
            CreateEventType => "event_types:create",
            UpdateEventType => "event_types:update",
            DeleteEventType => "event_types:delete",
            ListSlots | CheckSlot => "slots:read",
            ListBookings | GetBooking => "bookings:read",
            CreateBooking => "bookings:create",
            UpdateBooking => "bookings:update",
            CancelBooking => "bookings:cancel",
            RescheduleBooking => "bookings:reschedule",
            ListSchedules | GetSchedule => "availability:read",
            CreateSchedule | UpdateSchedule | DeleteSchedule => "availability:write",
        })
    }
}

impl Operation {
    /// Writes that change the organization's configuration rather than one booking or the
    /// caller's own data: event types (any owner and hosts) and schedules of any user
    /// (update, delete). Only owners and admins may make them, whatever the token's scopes.
    /// Creating a schedule makes one for the caller, so it is not one of them.
    pub fn is_organization_wide_write(&self) -> bool {
        use Operation::*;
        matches!(
            self,
            CreateEventType | UpdateEventType | DeleteEventType | UpdateSchedule | DeleteSchedule
        )
    }
}

/// Why a principal may not run an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// `403 insufficient_scope`.
    #[error(transparent)]
    MissingScope(#[from] MissingScope),
    /// `403 forbidden`: the scope is there, but the user's role does not allow the operation.
    #[error(
        "Only owners and admins may change the organization's event types and schedules; this user is a {role}"
    )]
    RoleTooLow { role: &'static str },
}

impl Principal {
    /// Checks the scope an operation requires, then the role an organization-wide write
    /// requires ([`Operation::is_organization_wide_write`]: owners and admins).
    pub fn authorize(&self, op: Operation) -> Result<(), Denied> {
        if let Some(s) = op.required_scope() {
            self.require(s)?;
        }
        if op.is_organization_wide_write() && !self.role.may_write_organization() {
            return Err(Denied::RoleTooLow {
                role: self.role.as_str(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_expand_at_grant_time() {
        let s = expand(["bookings:write", "user:read"]).unwrap();
        let v: Vec<&str> = s.iter().collect();
        assert_eq!(
            v,
            vec![
                "bookings:cancel",
                "bookings:create",
                "bookings:reschedule",
                "bookings:update",
                "user:read"
            ]
        );
        assert!(!s.contains("bookings:write"));
    }

    #[test]
    fn unknown_scopes_are_refused() {
        assert_eq!(
            expand(["bookings:delete"]),
            Err(UnknownScope("bookings:delete".into()))
        );
    }

    #[test]
    fn every_operation_scope_is_known() {
        use Operation::*;
        for op in [
            Me,
            ListEventTypes,
            CreateEventType,
            ListSlots,
            CreateBooking,
            UpdateBooking,
            CancelBooking,
            RescheduleBooking,
            ListSchedules,
            CreateSchedule,
        ] {
            let s = op.required_scope().unwrap();
            assert!(KNOWN_SCOPES.contains(&s), "{s}");
        }
        assert_eq!(Ping.required_scope(), None);
    }

    #[test]
    fn authorize_reports_the_missing_scope() {
        let p = Principal {
            organization_id: OrganizationId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            credential: Credential::Pat {
                token_id: TokenId(uuid::Uuid::nil()),
            },
            scopes: expand(["bookings:read"]).unwrap(),
            role: Role::Owner,
        };
        assert!(p.authorize(Operation::GetBooking).is_ok());
        let e = p.authorize(Operation::CreateBooking).unwrap_err();
        assert_eq!(
            e.to_string(),
            "This action requires the 'bookings:create' scope"
        );
    }

    #[test]
    fn organization_wide_writes_need_an_owner_or_admin() {
        let mut p = Principal {
            organization_id: OrganizationId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            credential: Credential::OAuth {
                client_id: "c".into(),
            },
            scopes: expand(["event_types:write", "availability:write", "bookings:write"]).unwrap(),
            role: Role::Admin,
        };
        assert!(p.authorize(Operation::UpdateEventType).is_ok());
        p.role = Role::Member;
        for op in [
            Operation::CreateEventType,
            Operation::UpdateEventType,
            Operation::DeleteEventType,
            Operation::UpdateSchedule,
            Operation::DeleteSchedule,
        ] {
            assert_eq!(
                p.authorize(op),
                Err(Denied::RoleTooLow { role: "member" }),
                "{op:?}"
            );
        }
        // Booking writes and the caller's own schedule are not organization-wide.
        assert!(p.authorize(Operation::CancelBooking).is_ok());
        assert!(p.authorize(Operation::CreateSchedule).is_ok());
        // The scope is checked first.
        p.scopes = expand(["bookings:read"]).unwrap();
        assert!(matches!(
            p.authorize(Operation::UpdateEventType),
            Err(Denied::MissingScope(_))
        ));
    }
}
