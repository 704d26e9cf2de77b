//! [`BookingStore`]: booking reads, the filtered and keyset-paginated list, the slot engine's
//! inputs, and the entry into a booking write ([`BookingStore::begin`] → [`MemoryBookingTx`]).
//!
//! [`slot_inputs`] reads through a [`View`]: the stored rows, overlaid by a booking
//! transaction's staged rows when it reads inside one.

use crate::MemoryStore;
use crate::page::keyset;
use crate::state::{State, StoredBooking, ms, tenant};
use crate::tx::MemoryBookingTx;
use async_trait::async_trait;
use domain::booking::{Booking, BookingStatus};
use domain::event_type::EventType;
use domain::ids::{BookingUid, EventTypeId, OrganizationId};
use domain::pagination::{CursorValue, Page};
use domain::ports::{
    BookingQuery, BookingSort, BookingStore, BookingTx, BookingWriteError, StoreError,
};
use domain::slots::{BusyBlock, CountedBooking, HostInput, InputRanges, SlotInputs};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// The bookings one organization sees: stored rows, with a transaction's staged rows in place
/// of (or beside) them.
pub(crate) struct View<'a> {
    pub state: &'a State,
    pub org: OrganizationId,
    pub staged: Option<&'a BTreeMap<BookingUid, StoredBooking>>,
}

impl<'a> View<'a> {
    pub(crate) fn rows(&self) -> impl Iterator<Item = &'a StoredBooking> + 'a {
        let staged = self.staged;
        let stored = self
            .state
            .bookings
            .range(tenant(self.org))
            .map(|(_, b)| b)
            .filter(move |b| staged.is_none_or(|s| !s.contains_key(&b.booking.uid)));
        stored.chain(staged.into_iter().flat_map(|s| s.values()))
    }

    pub(crate) fn get(&self, uid: BookingUid) -> Option<&'a StoredBooking> {
        self.staged
            .and_then(|s| s.get(&uid))
            .or_else(|| self.state.bookings.get(&(self.org, uid)))
    }
}

/// Everything the slot engine needs for `window` of `event_type` (see
/// [`domain::slots::input_ranges`]). A host whose schedule is missing is an error, never an
/// empty availability.
pub(crate) fn slot_inputs(
    view: &View<'_>,
    event_type: &EventType,
    ranges: InputRanges,
    now: Timestamp,
) -> Result<SlotInputs, StoreError> {
    let org = event_type.organization_id;
    if org != view.org {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "slot inputs of organization {org} read through organization {}",
            view.org
        )));
    }
    let holding: Vec<&Booking> = view
        .rows()
        .map(|s| &s.booking)
        .filter(|b| b.status.holds_time())
        .collect();
    let mut hosts = Vec::with_capacity(event_type.hosts.len());
    for host in &event_type.hosts {
        let schedule = view
            .state
            .schedules
            .get(&(org, host.schedule_id))
            .cloned()
            .ok_or_else(|| StoreError::missing_host_schedule(event_type, host))?;
        let busy = holding
            .iter()
            .filter(|b| {
                b.host_user_id == host.user_id
                    && ms(b.blocked.end()) > ms(ranges.busy.start())
                    && ms(b.blocked.start()) < ms(ranges.busy.end())
            })
            .map(|b| BusyBlock {
                blocked: b.blocked,
                event_type_id: b.event_type_id,
                start: b.start,
            })
            .collect();
        hosts.push(HostInput {
            user_id: host.user_id,
            schedule,
            busy,
        });
    }
    let counted = match ranges.counted {
        None => Vec::new(),
        Some(range) => {
            let mut counted: Vec<&&Booking> = holding
                .iter()
                .filter(|b| {
                    b.event_type_id == event_type.id
                        && ms(b.start) >= ms(range.start())
                        && ms(b.start) < ms(range.end())
                })
                .collect();
            counted.sort_by_key(|b| (ms(b.start), b.uid));
            counted
                .into_iter()
                .map(|b| CountedBooking {
                    start: b.start,
                    host_user_id: b.host_user_id,
                })
                .collect()
        }
    };
    Ok(SlotInputs {
        event_type: event_type.clone(),
        hosts,
        counted,
        now,
    })
}

fn matches(b: &Booking, q: &BookingQuery) -> bool {
    let status_ok = if q.statuses.is_empty() {
        q.include_cancelled || b.status != BookingStatus::Canceled
    } else {
        q.statuses.contains(&b.status)
    };
    status_ok
        && q.event_type_id.is_none_or(|et| b.event_type_id == et)
        && (q.host_user_ids.is_empty() || q.host_user_ids.contains(&b.host_user_id))
        && q.attendee_email
            .as_ref()
            .is_none_or(|e| b.attendees.iter().any(|a| &a.email == e))
        && q.start_from.is_none_or(|t| ms(b.start) >= ms(t))
        && q.start_to.is_none_or(|t| ms(b.start) <= ms(t))
        && q.updated_since.is_none_or(|t| ms(b.updated_at) >= ms(t))
}

/// The sort key of `b` under `sort`.
fn sort_key(sort: BookingSort, b: &Booking) -> Timestamp {
    match sort {
        BookingSort::StartAtDesc | BookingSort::StartAtAsc => b.start,
        BookingSort::CreatedAtDesc | BookingSort::CreatedAtAsc => b.created_at,
        BookingSort::UpdatedAtAsc | BookingSort::UpdatedAtDesc => b.updated_at,
    }
}

fn descending(sort: BookingSort) -> bool {
    matches!(
        sort,
        BookingSort::StartAtDesc | BookingSort::CreatedAtDesc | BookingSort::UpdatedAtDesc
    )
}

#[async_trait]
impl BookingStore for MemoryStore {
    async fn get_booking(
        &self,
        org: OrganizationId,
        uid: BookingUid,
    ) -> Result<Option<Booking>, StoreError> {
        Ok(self
            .state()
            .bookings
            .get(&(org, uid))
            .map(|s| s.booking.clone()))
    }

    async fn list_bookings(
        &self,
        org: OrganizationId,
        query: &BookingQuery,
    ) -> Result<Page<Booking>, StoreError> {
        let rows: Vec<Booking> = self
            .state()
            .bookings
            .range(tenant(org))
            .map(|(_, s)| &s.booking)
            .filter(|b| matches(b, query))
            .cloned()
            .collect();
        let sort = query.sort;
        Ok(keyset(
            rows,
            sort.as_str(),
            descending(sort),
            &query.page,
            |b| (CursorValue::Int(ms(sort_key(sort, b))), b.uid.as_uuid()),
        ))
    }

    async fn slot_inputs(
        &self,
        event_type: &EventType,
        ranges: InputRanges,
        now: Timestamp,
    ) -> Result<SlotInputs, StoreError> {
        let state = self.state();
        let view = View {
            state: &state,
            org: event_type.organization_id,
            staged: None,
        };
        slot_inputs(&view, event_type, ranges, now)
    }

    async fn begin(
        &self,
        org: OrganizationId,
        _event_type: EventTypeId,
    ) -> Result<Box<dyn BookingTx>, BookingWriteError> {
        let turn = self.write_turn().await;
        Ok(Box::new(MemoryBookingTx::new(self.clone(), org, turn)))
    }
}
