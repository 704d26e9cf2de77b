-- OAuth 2.1 authorization server (§5, §6.2): clients, authorization codes, grant families and
-- the access/refresh tokens issued from them. Only peppered HMAC-SHA256 hashes of secrets are
-- stored. Clients are deployment-wide (a third-party app serves many organizations); codes,
-- families and tokens carry the organization they act in.

CREATE TABLE oauth_clients (
    client_id       text PRIMARY KEY,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('confidential', 'public')),
    secret_hash     bytea,
    redirect_uris   text[] NOT NULL,
    allowed_scopes  text[] NOT NULL,
    dynamic         boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    revoked_at      timestamptz
);

-- One row per authorization code, created with the code; revoked_at kills every token of it.
CREATE TABLE oauth_families (
    id              uuid PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    user_id         uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    revoked_at      timestamptz
);

CREATE TABLE oauth_codes (
    lookup          text PRIMARY KEY,
    secret_hash     bytea NOT NULL,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    user_id         uuid NOT NULL,
    redirect_uri    text NOT NULL,
    redirect_uri_defaulted boolean NOT NULL,
    code_challenge  text NOT NULL,
    scopes          text[] NOT NULL,
    family_id       uuid NOT NULL REFERENCES oauth_families (id),
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);

CREATE TABLE oauth_tokens (
    lookup          text PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('access', 'refresh')),
    secret_hash     bytea NOT NULL,
    family_id       uuid NOT NULL REFERENCES oauth_families (id),
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    user_id         uuid NOT NULL,
    scopes          text[] NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    rotated_at      timestamptz
);

CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
