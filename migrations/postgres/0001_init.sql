-- Slotbook PostgreSQL schema, version 1. Forward-only: never edit once applied.
--
-- Tenancy by construction: every tenant table carries organization_id, leads its keys and unique
-- constraints with it and is referenced through composite (organization_id, id) keys, so the
-- schema can be distributed by organization (Citus). Deliberate global exceptions:
-- users.username (public URLs), personal_access_tokens.lookup (the token names its own
-- organization), and the worker-side tables outbox claiming and rate_limit_counters.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    plan        text,
    created_at  timestamptz NOT NULL
);

CREATE TABLE users (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id              uuid NOT NULL,
    username        text,
    email           text NOT NULL,
    first_name      text,
    last_name       text,
    timezone        text,
    locale          text,
    avatar_url      text,
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    password_hash   text,
    created_at      timestamptz NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (organization_id, id)
);
-- Global exception: usernames form public URLs.
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_email_key ON users (organization_id, lower(email));
CREATE INDEX users_created ON users (organization_id, created_at, id);

CREATE TABLE schedules (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    id              uuid NOT NULL,
    user_id         uuid NOT NULL,
    name            text NOT NULL,
    time_zone       text NOT NULL,
    rules           jsonb NOT NULL,
    overrides       jsonb NOT NULL,
    version         bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT schedules_pkey PRIMARY KEY (organization_id, id)
);
CREATE INDEX schedules_user ON schedules (organization_id, user_id, created_at, id);

CREATE TABLE event_types (
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    id                     uuid NOT NULL,
    owner_user_id          uuid NOT NULL,
    slug                   text NOT NULL,
    title                  text NOT NULL,
    description            text,
    duration_minutes       bigint NOT NULL,
    slot_interval_minutes  bigint NOT NULL,
    active                 boolean NOT NULL,
    scheduling_type        text NOT NULL CHECK (scheduling_type IN ('individual', 'group', 'collective')),
    -- [{"user_id": "...", "schedule_id": "..."}] in round-robin order
    hosts                  jsonb NOT NULL,
    color                  text NOT NULL,
    buffer_before_minutes  bigint NOT NULL,
    buffer_after_minutes   bigint NOT NULL,
    minimum_notice_hours   bigint NOT NULL,
    future_limit_days      bigint NOT NULL,
    max_per_day            bigint,
    max_per_week           bigint,
    max_per_month          bigint,
    seats                  bigint NOT NULL,
    requires_confirmation  boolean NOT NULL,
    allow_reschedule       boolean NOT NULL,
    allow_cancel           boolean NOT NULL,
    locations              jsonb NOT NULL,
    questions              jsonb NOT NULL,
    version                bigint NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT event_types_pkey PRIMARY KEY (organization_id, id),
    CONSTRAINT event_types_slug_key UNIQUE (organization_id, owner_user_id, slug)
);
CREATE INDEX event_types_created ON event_types (organization_id, created_at, id);
CREATE INDEX event_types_title ON event_types (organization_id, (title COLLATE "C"), id);
CREATE INDEX event_types_hosts ON event_types USING gin (hosts jsonb_path_ops);

CREATE TABLE bookings (
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    uid                    uuid NOT NULL,
    version                bigint NOT NULL,
    event_type_id          uuid NOT NULL,
    event_type_slug        text,
    title                  text,
    status                 text NOT NULL CHECK (status IN ('confirmed', 'pending', 'canceled', 'rescheduled')),
    start_at               timestamptz NOT NULL,
    end_at                 timestamptz NOT NULL,
    -- [start - buffer_before, end + buffer_after)
    blocked                tstzrange NOT NULL,
    -- the booking uid, or '<event_type_id>/<start epoch ms>' for the seats of one group slot
    slot_key               text NOT NULL,
    timezone               text NOT NULL,
    host_user_id           uuid NOT NULL,
    attendees              jsonb NOT NULL,
    guests                 jsonb NOT NULL,
    location               jsonb,
    metadata               jsonb,
    responses              jsonb,
    utm_source             text,
    utm_medium             text,
    utm_campaign           text,
    calendar_sync_status   text NOT NULL,
    calendar_event_id      text,
    rescheduled_from_uid   uuid,
    reschedule_generation  integer NOT NULL,
    cancelled_at           timestamptz,
    cancellation_reason    text,
    no_show_at             timestamptz,
    no_show_reason         text,
    rescheduled_at         timestamptz,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT bookings_pkey PRIMARY KEY (organization_id, uid),
    CONSTRAINT bookings_blocked_check CHECK (NOT isempty(blocked) AND lower_inc(blocked) AND NOT upper_inc(blocked)),
    -- No double booking, ever: the database itself refuses overlapping time-holding bookings of
    -- one host (seats of one group slot share a slot_key and may coexist).
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        organization_id WITH =,
        host_user_id WITH =,
        blocked WITH &&,
        slot_key WITH <>
    ) WHERE (status IN ('confirmed', 'pending'))
);
CREATE INDEX bookings_start ON bookings (organization_id, start_at, uid);
CREATE INDEX bookings_created ON bookings (organization_id, created_at, uid);
CREATE INDEX bookings_updated ON bookings (organization_id, updated_at, uid);
CREATE INDEX bookings_event_type_start ON bookings (organization_id, event_type_id, start_at);
CREATE INDEX bookings_attendees ON bookings USING gin (attendees jsonb_path_ops);

CREATE TABLE idempotency_keys (
    organization_id  uuid NOT NULL,
    owner            text NOT NULL,
    key              text NOT NULL,
    fingerprint      text NOT NULL,
    reserved_at      timestamptz NOT NULL,
    response_status  integer,
    response_headers jsonb,
    response_body    text,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (organization_id, owner, key)
);

CREATE TABLE outbox (
    organization_id  uuid NOT NULL,
    id               uuid NOT NULL,
    event            text NOT NULL,
    payload          text NOT NULL,
    created_at       timestamptz NOT NULL,
    lease_until      timestamptz,
    done_at          timestamptz,
    CONSTRAINT outbox_pkey PRIMARY KEY (organization_id, id)
);
CREATE INDEX outbox_undelivered ON outbox (created_at, id) WHERE done_at IS NULL;
CREATE INDEX outbox_org_undelivered ON outbox (organization_id, created_at, id) WHERE done_at IS NULL;

CREATE TABLE personal_access_tokens (
    organization_id  uuid NOT NULL,
    id               uuid NOT NULL,
    user_id          uuid NOT NULL,
    name             text NOT NULL,
    lookup           text NOT NULL,
    secret_hash      bytea NOT NULL,
    scopes           text[] NOT NULL,
    last_four        text NOT NULL,
    expires_at       timestamptz,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL,
    CONSTRAINT personal_access_tokens_pkey PRIMARY KEY (organization_id, id)
);
-- Global exception: the public lookup id finds the token (and thereby its organization).
CREATE UNIQUE INDEX personal_access_tokens_lookup_key ON personal_access_tokens (lookup);
CREATE UNIQUE INDEX personal_access_tokens_name_key ON personal_access_tokens (organization_id, lower(name));

-- Fixed-window rate-limit counters: disposable, so UNLOGGED (not crash-safe, not replicated).
CREATE UNLOGGED TABLE rate_limit_counters (
    bucket        text NOT NULL,
    window_start  bigint NOT NULL,
    count         bigint NOT NULL,
    CONSTRAINT rate_limit_counters_pkey PRIMARY KEY (bucket, window_start)
);
