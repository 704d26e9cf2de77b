-- Notifications (issue 16): the e-mails booking changes send. The outbox gets a second,
-- independent consumer cursor (the webhook fan-out keeps `lease_until` / `done_at`), and each
-- message becomes one row per (event, kind, recipient) with its rendered content and its own
-- attempt state.

ALTER TABLE outbox ADD COLUMN notify_lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN notified_at INTEGER;
-- Messages written before notifications existed are not sent now (no mail for old bookings).
UPDATE outbox SET notified_at = created_at;
CREATE INDEX outbox_unnotified ON outbox (created_at, id) WHERE notified_at IS NULL;

CREATE TABLE notifications (
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    id              BLOB    NOT NULL,
    outbox_id       BLOB    NOT NULL,
    booking_uid     BLOB    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('created', 'rescheduled', 'canceled', 'reminder')),
    recipient_email TEXT    NOT NULL,
    recipient_name  TEXT,
    recipient_zone  TEXT    NOT NULL,
    recipient_role  TEXT    NOT NULL CHECK (recipient_role IN ('attendee', 'guest', 'host')),
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL,
    -- REQUEST or CANCEL with its iCalendar text, or both NULL
    ics_method      TEXT    CHECK (ics_method IN ('REQUEST', 'CANCEL')),
    ics             TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until     INTEGER,
    last_error      TEXT,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
) WITHOUT ROWID;
-- at most once per recipient per event (the outbox id is the idempotency key)
CREATE UNIQUE INDEX notifications_once
    ON notifications (organization_id, outbox_id, kind, lower(recipient_email));
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_booking ON notifications (organization_id, booking_uid) WHERE state = 'pending';
CREATE INDEX notifications_list ON notifications (organization_id, created_at, id);
