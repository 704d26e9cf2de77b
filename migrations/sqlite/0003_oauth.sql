-- OAuth 2.1 authorization server (§5, §6.2): clients, authorization codes, grant families and
-- the access/refresh tokens issued from them. Only peppered HMAC-SHA256 hashes of secrets are
-- stored. Clients are deployment-wide (a third-party app serves many organizations); codes,
-- families and tokens carry the organization they act in. Instants are INTEGER milliseconds.

CREATE TABLE oauth_clients (
    client_id       TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('confidential', 'public')),
    secret_hash     BLOB,
    -- JSON array of strings
    redirect_uris   TEXT    NOT NULL,
    -- space-separated, expanded
    allowed_scopes  TEXT    NOT NULL,
    dynamic         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
) WITHOUT ROWID;

-- One row per authorization code, created with the code; revoked_at kills every token of it.
CREATE TABLE oauth_families (
    id              BLOB    NOT NULL PRIMARY KEY,
    client_id       TEXT    NOT NULL REFERENCES oauth_clients (client_id),
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    user_id         BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
) WITHOUT ROWID;

CREATE TABLE oauth_codes (
    lookup          TEXT    NOT NULL PRIMARY KEY,
    secret_hash     BLOB    NOT NULL,
    client_id       TEXT    NOT NULL REFERENCES oauth_clients (client_id),
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    user_id         BLOB    NOT NULL,
    redirect_uri    TEXT    NOT NULL,
    redirect_uri_defaulted INTEGER NOT NULL,
    code_challenge  TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    family_id       BLOB    NOT NULL REFERENCES oauth_families (id),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
) WITHOUT ROWID;

CREATE TABLE oauth_tokens (
    lookup          TEXT    NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    secret_hash     BLOB    NOT NULL,
    family_id       BLOB    NOT NULL REFERENCES oauth_families (id),
    client_id       TEXT    NOT NULL REFERENCES oauth_clients (client_id),
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    user_id         BLOB    NOT NULL,
    scopes          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    rotated_at      INTEGER
) WITHOUT ROWID;

CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
