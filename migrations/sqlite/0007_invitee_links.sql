-- Invitee self-service links (issue 15): one random token per booking, stored as its peppered
-- hash (to find the booking a presented link names) and sealed (so that later e-mails can
-- carry the same link). Created lazily, the first time a page or an e-mail needs the link.

CREATE TABLE invitee_links (
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    booking_uid     BLOB    NOT NULL,
    token_hash      BLOB    NOT NULL,
    sealed_token    BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, booking_uid),
    FOREIGN KEY (organization_id, booking_uid) REFERENCES bookings (organization_id, uid),
    UNIQUE (organization_id, token_hash)
);
