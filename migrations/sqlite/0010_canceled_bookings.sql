-- `GET /v1/bookings?status=canceled` (issue 18 item 5): a partial index of the canceled
-- bookings in the list's default order, so the filter reads its page from this index instead of
-- walking every booking in `bookings_start` order and skipping the nine in ten that are not
-- canceled (whose table rows are scattered: the walk grew with the history). Only canceled
-- rows are in it, so creating a booking does not write it; a cancellation adds one entry. The
-- store names the status literally (`status = 'canceled'`) when it is the only one asked for:
-- the planner uses a partial index only when the query's WHERE implies the index's.
CREATE INDEX bookings_canceled_start ON bookings (organization_id, start_at, uid)
    WHERE status = 'canceled';
