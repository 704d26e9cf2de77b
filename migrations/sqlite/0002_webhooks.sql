-- Webhook subscriptions (§4.1) and their deliveries: one row per (subscription, outbox event)
-- with its own attempt state, so one outbox message can serve several subscribers.

CREATE TABLE webhooks (
    organization_id      BLOB    NOT NULL REFERENCES organizations (id),
    id                   BLOB    NOT NULL,
    -- the credential sandbox: `pat:<token id>` or `oauth:<client id>`
    owner                TEXT    NOT NULL,
    url                  TEXT    NOT NULL,
    -- space-separated REST (underscore) event names
    events               TEXT    NOT NULL,
    description          TEXT,
    status               TEXT    NOT NULL CHECK (status IN ('active', 'paused')),
    paused_reason        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- the signing secret, sealed (AEAD) with a key derived from the server pepper
    sealed_secret        BLOB    NOT NULL,
    last_delivery_at     INTEGER,
    last_delivery_ok     INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
) WITHOUT ROWID;
CREATE INDEX webhooks_owner ON webhooks (organization_id, owner, created_at, id);

CREATE TABLE webhook_deliveries (
    organization_id  BLOB    NOT NULL,
    id               BLOB    NOT NULL,
    webhook_id       BLOB    NOT NULL,
    -- the outbox message (the envelope's `evt_` id)
    event_id         BLOB    NOT NULL,
    event            TEXT    NOT NULL,
    event_created_at INTEGER NOT NULL,
    data             TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    next_attempt_at  INTEGER,
    lease_until      INTEGER,
    status_code      INTEGER,
    error            TEXT,
    delivered_at     INTEGER,
    last_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, webhook_id) REFERENCES webhooks (organization_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
-- fan-out is idempotent: one delivery per subscription and event
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (organization_id, webhook_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (organization_id, webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE state <> 'pending';
CREATE INDEX outbox_done ON outbox (done_at) WHERE done_at IS NOT NULL;
