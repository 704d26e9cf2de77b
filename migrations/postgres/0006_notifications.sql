-- Notifications (issue 16): the e-mails booking changes send. The outbox gets a second,
-- independent consumer cursor (the webhook fan-out keeps `lease_until` / `done_at`), and each
-- message becomes one row per (event, kind, recipient) with its rendered content and its own
-- attempt state.

ALTER TABLE outbox ADD COLUMN notify_lease_until timestamptz;
ALTER TABLE outbox ADD COLUMN notified_at timestamptz;
-- Messages written before notifications existed are not sent now (no mail for old bookings).
UPDATE outbox SET notified_at = created_at;
CREATE INDEX outbox_unnotified ON outbox (created_at, id) WHERE notified_at IS NULL;

CREATE TABLE notifications (
    organization_id uuid        NOT NULL,
    id              uuid        NOT NULL,
    outbox_id       uuid        NOT NULL,
    booking_uid     uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('created', 'rescheduled', 'canceled', 'reminder')),
    recipient_email text        NOT NULL,
    recipient_name  text,
    recipient_zone  text        NOT NULL,
    recipient_role  text        NOT NULL CHECK (recipient_role IN ('attendee', 'guest', 'host')),
    subject         text        NOT NULL,
    body_text       text        NOT NULL,
    body_html       text        NOT NULL,
    ics_method      text        CHECK (ics_method IN ('REQUEST', 'CANCEL')),
    ics             text,
    state           text        NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease_until     timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT notifications_pkey PRIMARY KEY (organization_id, id)
);
-- at most once per recipient per event (the outbox id is the idempotency key)
CREATE UNIQUE INDEX notifications_once
    ON notifications (organization_id, outbox_id, kind, lower(recipient_email));
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_booking ON notifications (organization_id, booking_uid) WHERE state = 'pending';
CREATE INDEX notifications_list ON notifications (organization_id, created_at, id);
