-- Slotbook on SQLite: the initial schema.
--
-- Conventions: every tenant table carries organization_id and every key and uniqueness rule
-- includes it (except the deployment-wide ones the ports name: users.username and
-- personal_access_tokens.lookup). Identifiers are 16-byte UUID blobs. Instants are INTEGER
-- milliseconds since the Unix epoch (text timestamps of varying precision sort wrongly).
-- Nested values are JSON text. Small, append-mostly tables are WITHOUT ROWID: one b-tree page
-- less to write per row. Forward-only: never edit a migration once released.

CREATE TABLE organizations (
    id          BLOB    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    plan        TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    id              BLOB    NOT NULL,
    username        TEXT,
    email           TEXT    NOT NULL,
    -- lower-cased e-mail: addresses are unique per organization, case-insensitively
    email_key       TEXT    NOT NULL,
    first_name      TEXT,
    last_name       TEXT,
    timezone        TEXT,
    locale          TEXT,
    avatar_url      TEXT,
    role            TEXT    NOT NULL,
    password_hash   TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
-- usernames form public URLs: unique across the deployment
CREATE UNIQUE INDEX users_username_uq ON users (username) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX users_email_uq ON users (organization_id, email_key);
CREATE INDEX users_created ON users (organization_id, created_at, id);

CREATE TABLE schedules (
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    id              BLOB    NOT NULL,
    user_id         BLOB    NOT NULL,
    name            TEXT    NOT NULL,
    zone            TEXT    NOT NULL,
    rules           TEXT    NOT NULL,
    overrides       TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX schedules_user ON schedules (organization_id, user_id, created_at, id);

CREATE TABLE event_types (
    organization_id         BLOB    NOT NULL REFERENCES organizations (id),
    id                      BLOB    NOT NULL,
    owner_user_id           BLOB    NOT NULL,
    slug                    TEXT    NOT NULL,
    title                   TEXT    NOT NULL,
    description             TEXT,
    duration_minutes        INTEGER NOT NULL,
    slot_interval_minutes   INTEGER NOT NULL,
    active                  INTEGER NOT NULL,
    scheduling_type         TEXT    NOT NULL,
    hosts                   TEXT    NOT NULL,
    color                   TEXT    NOT NULL,
    buffer_before_minutes   INTEGER NOT NULL,
    buffer_after_minutes    INTEGER NOT NULL,
    minimum_notice_hours    INTEGER NOT NULL,
    future_limit_days       INTEGER NOT NULL,
    max_per_day             INTEGER,
    max_per_week            INTEGER,
    max_per_month           INTEGER,
    seats                   INTEGER NOT NULL,
    requires_confirmation   INTEGER NOT NULL,
    allow_reschedule        INTEGER NOT NULL,
    allow_cancel            INTEGER NOT NULL,
    locations               TEXT    NOT NULL,
    questions               TEXT    NOT NULL,
    version                 INTEGER NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX event_types_slug_uq ON event_types (organization_id, owner_user_id, slug);
CREATE INDEX event_types_created ON event_types (organization_id, created_at, id);
CREATE INDEX event_types_title ON event_types (organization_id, title, id);

-- The hosts of each event type, in order, for filtering by host and for refusing to delete a
-- schedule still in use. Written together with event_types.hosts (the copy that is read).
CREATE TABLE event_type_hosts (
    organization_id BLOB    NOT NULL,
    event_type_id   BLOB    NOT NULL,
    position        INTEGER NOT NULL,
    user_id         BLOB    NOT NULL,
    schedule_id     BLOB    NOT NULL,
    PRIMARY KEY (organization_id, event_type_id, position),
    FOREIGN KEY (organization_id, event_type_id)
        REFERENCES event_types (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX event_type_hosts_user ON event_type_hosts (organization_id, user_id);
CREATE INDEX event_type_hosts_schedule ON event_type_hosts (organization_id, schedule_id);

CREATE TABLE bookings (
    organization_id         BLOB    NOT NULL REFERENCES organizations (id),
    uid                     BLOB    NOT NULL,
    version                 INTEGER NOT NULL,
    event_type_id           BLOB    NOT NULL,
    event_type_slug         TEXT,
    title                   TEXT,
    status                  TEXT    NOT NULL,
    start_at                INTEGER NOT NULL,
    end_at                  INTEGER NOT NULL,
    -- [start - buffer_before, end + buffer_after): the time the host cannot be booked
    blocked_start           INTEGER NOT NULL,
    blocked_end             INTEGER NOT NULL,
    timezone                TEXT    NOT NULL,
    host_user_id            BLOB    NOT NULL,
    -- 1 for a seat of a group slot: seats of one slot (same event type and start) may coexist
    shares_seats            INTEGER NOT NULL,
    attendees               TEXT    NOT NULL,
    guests                  TEXT    NOT NULL,
    location                TEXT,
    metadata                TEXT,
    responses               TEXT,
    utm_source              TEXT,
    utm_medium              TEXT,
    utm_campaign            TEXT,
    calendar_sync_status    TEXT    NOT NULL,
    calendar_event_id       TEXT,
    rescheduled_from_uid    BLOB,
    reschedule_generation   INTEGER NOT NULL,
    cancelled_at            INTEGER,
    cancellation_reason     TEXT,
    no_show_at              INTEGER,
    no_show_reason          TEXT,
    rescheduled_at          INTEGER,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    PRIMARY KEY (organization_id, uid),
    CHECK (blocked_start < blocked_end)
);
-- The double-booking guard and busy-time reads: time-holding bookings of one host by the end
-- of their blocked range (new bookings usually lie after most existing ones, so scanning
-- "ends after the new start" touches few rows).
CREATE INDEX bookings_host_busy ON bookings (organization_id, host_user_id, blocked_end, blocked_start)
    WHERE status IN ('confirmed', 'pending');
CREATE INDEX bookings_start ON bookings (organization_id, start_at, uid);
CREATE INDEX bookings_created ON bookings (organization_id, created_at, uid);
CREATE INDEX bookings_updated ON bookings (organization_id, updated_at, uid);
CREATE INDEX bookings_event_type ON bookings (organization_id, event_type_id, start_at);

-- Every attendee e-mail of every booking, for the exact-match `attendee_email` filter. Kept in
-- step with bookings.attendees by the triggers below.
CREATE TABLE booking_attendees (
    organization_id BLOB    NOT NULL,
    booking_uid     BLOB    NOT NULL,
    position        INTEGER NOT NULL,
    email           TEXT    NOT NULL,
    PRIMARY KEY (organization_id, booking_uid, position),
    FOREIGN KEY (organization_id, booking_uid)
        REFERENCES bookings (organization_id, uid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX booking_attendees_email ON booking_attendees (organization_id, email);

CREATE TRIGGER bookings_attendees_insert AFTER INSERT ON bookings
BEGIN
    INSERT INTO booking_attendees (organization_id, booking_uid, position, email)
    SELECT NEW.organization_id, NEW.uid, CAST(a.key AS INTEGER), a.value ->> '$.email'
    FROM json_each(NEW.attendees) AS a;
END;

CREATE TRIGGER bookings_attendees_update AFTER UPDATE OF attendees ON bookings
WHEN OLD.attendees IS NOT NEW.attendees
BEGIN
    DELETE FROM booking_attendees
    WHERE organization_id = NEW.organization_id AND booking_uid = NEW.uid;
    INSERT INTO booking_attendees (organization_id, booking_uid, position, email)
    SELECT NEW.organization_id, NEW.uid, CAST(a.key AS INTEGER), a.value ->> '$.email'
    FROM json_each(NEW.attendees) AS a;
END;

CREATE TABLE idempotency_keys (
    organization_id     BLOB    NOT NULL REFERENCES organizations (id),
    owner               TEXT    NOT NULL,
    key                 TEXT    NOT NULL,
    fingerprint         TEXT    NOT NULL,
    -- 'in_progress' or 'done'
    state               TEXT    NOT NULL,
    response_status     INTEGER,
    response_headers    TEXT,
    response_body       TEXT,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (organization_id, owner, key)
);

CREATE TABLE outbox (
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    id              BLOB    NOT NULL,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    lease_until     INTEGER,
    done_at         INTEGER,
    PRIMARY KEY (organization_id, id)
) WITHOUT ROWID;
CREATE INDEX outbox_undone ON outbox (created_at, id) WHERE done_at IS NULL;

CREATE TABLE personal_access_tokens (
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    id              BLOB    NOT NULL,
    user_id         BLOB    NOT NULL,
    name            TEXT    NOT NULL,
    -- lower-cased name: names are unique per organization, case-insensitively
    name_key        TEXT    NOT NULL,
    lookup          TEXT    NOT NULL,
    secret_hash     BLOB    NOT NULL,
    scopes          TEXT    NOT NULL,
    last_four       TEXT    NOT NULL,
    expires_at      INTEGER,
    revoked_at      INTEGER,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
);
-- the one deployment-wide key: a presented token names its lookup id before its organization
CREATE UNIQUE INDEX pats_lookup_uq ON personal_access_tokens (lookup);
CREATE UNIQUE INDEX pats_name_uq ON personal_access_tokens (organization_id, name_key);
CREATE INDEX pats_created ON personal_access_tokens (organization_id, created_at, id);
