//! The storage behaviour suite that every Slotbook store runs.
//!
//! One `pub async fn` per behaviour takes a fresh `Arc<dyn Storage>` and asserts what the port
//! traits of `domain::ports` document: round trips of every aggregate, uniqueness rules,
//! optimistic versions, keyset pagination, every booking filter, idempotency, the outbox,
//! tokens, OAuth clients, codes and token families, tenancy, atomicity of booking writes and — under real concurrency — that no host is
//! ever double-booked. A store runs the whole suite with [`contract_tests!`]:
//!
//! ```text
//! async fn fresh() -> std::sync::Arc<SqliteStore> { /* a new, migrated database */ }
//! store_contract::contract_tests!(fresh(), overlap_count = |s| s.count_overlapping_bookings());
//! ```
//!
//! Besides the suite, [`side_by_side`] is the figure both stores' booking benchmarks report.
//!
//! The suite never talks to a database itself and never depends on a concrete store; it must not
//! weaken an assertion to suit one backend — a behaviour both stores cannot meet is a port
//! question, not a test question.

// This crate is test support: its assertions panic by design, like the tests that call it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod atomicity;
pub mod bookings;
pub mod concurrency;
pub mod directory;
pub mod event_types;
pub mod faults;
pub mod fixtures;
pub mod idempotency;
pub mod invitee_links;
pub mod new_booking;
pub mod notifications;
pub mod oauth;
pub mod outbox;
pub mod pagination;
pub mod schedules;
pub mod side_by_side;
pub mod tenancy;
pub mod tokens;
pub mod webhooks;

pub use concurrency::OverlapCount;
use std::sync::Arc;

/// Something a test keeps alive until it ends (e.g. a temporary directory removed on drop).
pub type Guard = Box<dyn std::any::Any + Send>;

/// What a factory may yield: a store; a store and a [`Guard`] to drop when the test ends; or
/// `None` to skip the test (the factory has already said why, loudly).
pub trait FreshStore<S: ?Sized> {
    fn into_fresh(self) -> Option<(Arc<S>, Guard)>;
}

impl<S: ?Sized> FreshStore<S> for Arc<S> {
    fn into_fresh(self) -> Option<(Arc<S>, Guard)> {
        Some((self, Box::new(())))
    }
}

impl<S: ?Sized, G: Send + 'static> FreshStore<S> for (Arc<S>, G) {
    fn into_fresh(self) -> Option<(Arc<S>, Guard)> {
        Some((self.0, Box::new(self.1)))
    }
}

impl<S: ?Sized, T: FreshStore<S>> FreshStore<S> for Option<T> {
    fn into_fresh(self) -> Option<(Arc<S>, Guard)> {
        self.and_then(FreshStore::into_fresh)
    }
}

/// Expands to one `#[tokio::test]` (multi-threaded, 4 workers) per behaviour, grouped in modules
/// named after this crate's modules.
///
/// The first argument is an expression evaluating to a future (e.g. `fresh()` or an `async`
/// block) that yields a fresh store as `Arc<S>`, `(Arc<S>, guard)` or an `Option` of either
/// (`None` skips the test); it is evaluated once per test. Paths in it resolve as in the invoking module.
///
/// With `overlap_count = |s| expr`, the storm behaviour also asks the database: `s` is the
/// store as `Arc<S>` and `expr` a future of `anyhow::Result<i64>` counting overlapping
/// time-holding bookings of one host.
#[macro_export]
macro_rules! contract_tests {
    ($factory:expr $(,)?) => {
        $crate::__contract_behaviours!($factory);
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn concurrency_storm_never_overlaps() {
            let Some((store, _guard)) = $crate::FreshStore::into_fresh($factory.await) else {
                return;
            };
            $crate::concurrency::storm_never_overlaps(store, None).await;
        }
    };
    ($factory:expr, overlap_count = |$s:ident| $count:expr $(,)?) => {
        $crate::__contract_behaviours!($factory);
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn concurrency_storm_never_overlaps() {
            let Some((store, _guard)) = $crate::FreshStore::into_fresh($factory.await) else {
                return;
            };
            let probe = store.clone();
            let count: $crate::OverlapCount = ::std::boxed::Box::new(move || {
                let $s = probe.clone();
                ::std::boxed::Box::pin(async move { $count.await })
            });
            $crate::concurrency::storm_never_overlaps(store, Some(count)).await;
        }
    };
}

/// Internal: the behaviours that take only a store.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_behaviours {
    ($factory:expr) => {
        $crate::__contract_behaviours!(@modules $factory;
            directory {
                organizations_round_trip,
                users_round_trip,
                usernames_are_unique_across_the_deployment,
                public_usernames_are_found_across_the_deployment,
                emails_are_unique_per_organization,
                set_password_hash_writes_and_reports_missing,
                user_roles_change_and_users_are_removed,
            }
            schedules {
                schedules_round_trip,
                schedule_updates_are_optimistic,
                schedule_delete_refused_while_in_use,
                schedule_updates_commit_outbox,
            }
            event_types {
                event_types_round_trip,
                event_type_slugs_are_unique_per_owner,
                event_type_updates_are_optimistic_with_outbox,
                event_type_delete_commits_outbox,
                event_type_delete_refused_while_bookings_hold_time,
                event_type_filters,
            }
            bookings {
                bookings_round_trip,
                booking_updates_are_optimistic_and_drop_rolls_back,
                booking_filters,
            }
            pagination {
                page_size_defaults_to_20_and_caps_at_100,
                every_booking_sort_walks_all_rows_in_order,
                booking_pages_are_stable_under_inserts,
                every_event_type_sort_walks_all_rows_in_order,
            }
            idempotency {
                reserve_complete_replay,
                released_keys_can_be_reserved_again,
                completed_keys_expire_after_24_hours,
                abandoned_reservations_can_be_taken_over,
                stale_nonces_neither_complete_nor_release,
                late_booking_completion_commits_nothing,
                keys_are_scoped_by_organization_and_owner,
                concurrent_reservations_have_one_winner,
                expired_keys_are_purged_in_bounded_batches,
            }
            outbox {
                claims_lease_messages,
                done_messages_are_never_claimed_again,
                concurrent_claimers_never_share_a_message,
            }
            tokens {
                tokens_round_trip,
                token_lookup_crosses_tenants,
                revoked_tokens_are_never_active,
                token_names_are_unique_case_insensitively,
                at_most_42_active_tokens,
                concurrent_token_creation_respects_the_cap,
            }
            oauth {
                oauth_clients_round_trip,
                users_by_email_cross_tenants_case_insensitively,
                codes_are_single_use,
                family_revocation_covers_every_token,
                refresh_rotation_has_one_winner,
                revoking_a_client_revokes_its_tokens,
            }
            concurrency {
                one_slot_many_writers_exactly_one_wins,
                adjacent_bookings_are_both_accepted,
                cancel_then_rebook_the_same_slot,
                group_seats_are_filled_exactly,
                round_robin_assigns_each_host_once,
                overlapping_inserts_are_refused_per_host,
                racing_inserts_across_event_types_one_wins,
                writes_on_a_changed_booking_decide_again,
            }
            atomicity {
                booking_tx_commits_all_or_nothing,
                failed_create_leaves_nothing_behind,
                reschedule_is_atomic,
            }
            new_booking {
                new_booking_unit_writes_booking_outbox_and_replay,
                new_booking_unit_refuses_overlap_and_writes_nothing,
                new_booking_unit_failure_leaves_nothing,
            }
            tenancy {
                other_tenants_rows_are_invisible,
            }
            notifications {
                notification_cursor_is_independent_of_webhooks,
                notification_fan_out_is_idempotent_and_claims_lease,
                canceled_bookings_reminders_are_skipped,
                notification_lists_are_per_tenant,
            }
            invitee_links {
                invitee_links_round_trip_and_first_wins,
                racing_link_writers_agree,
                invitee_links_issue_once_and_resolve,
            }
            webhooks {
                webhooks_round_trip,
                fan_out_is_idempotent_and_claims_lease,
                exhausted_deliveries_pause_and_success_resets,
                deliveries_page_newest_first_and_purge,
                outbox_purge_waits_for_notifications,
                concurrent_delivery_claims_are_disjoint,
            }
        );
    };
    (@modules $factory:expr; $($module:ident { $($name:ident),* $(,)? })*) => {
        $(
            mod $module {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $name() {
                        let Some((store, _guard)) = $crate::FreshStore::into_fresh($factory.await) else {
                            return;
                        };
                        $crate::$module::$name(store).await;
                    }
                )*
            }
        )*
    };
}
