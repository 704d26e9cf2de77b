-- Webhook subscriptions (§4.1) and their deliveries: one row per (subscription, outbox event)
-- with its own attempt state, so one outbox message can serve several subscribers.

CREATE TABLE webhooks (
    organization_id      uuid NOT NULL,
    id                   uuid NOT NULL,
    -- the credential sandbox: `pat:<token id>` or `oauth:<client id>`
    owner                text NOT NULL,
    url                  text NOT NULL,
    -- REST (underscore) event names
    events               text[] NOT NULL,
    description          text,
    status               text NOT NULL CHECK (status IN ('active', 'paused')),
    paused_reason        text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    -- the signing secret, sealed (AEAD) with a key derived from the server pepper
    sealed_secret        bytea NOT NULL,
    last_delivery_at     timestamptz,
    last_delivery_ok     boolean,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT webhooks_pkey PRIMARY KEY (organization_id, id)
);
CREATE INDEX webhooks_owner ON webhooks (organization_id, owner, created_at, id);

CREATE TABLE webhook_deliveries (
    organization_id  uuid NOT NULL,
    id               uuid NOT NULL,
    webhook_id       uuid NOT NULL,
    -- the outbox message (the envelope's `evt_` id)
    event_id         uuid NOT NULL,
    event            text NOT NULL,
    event_created_at timestamptz NOT NULL,
    data             text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    state            text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    status_code      integer,
    error            text,
    delivered_at     timestamptz,
    last_attempt_at  timestamptz,
    created_at       timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (organization_id, id),
    CONSTRAINT webhook_deliveries_webhook_fkey FOREIGN KEY (organization_id, webhook_id)
        REFERENCES webhooks (organization_id, id) ON DELETE CASCADE
);
-- fan-out is idempotent: one delivery per subscription and event
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (organization_id, webhook_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (organization_id, webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE state <> 'pending';
CREATE INDEX outbox_done ON outbox (done_at) WHERE done_at IS NOT NULL;

-- New work wakes the delivery workers at once.
CREATE FUNCTION slotbook_notify_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('slotbook_webhooks', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION slotbook_notify_webhooks();
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION slotbook_notify_webhooks();
