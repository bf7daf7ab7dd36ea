-- Accounts and access: what organisations and users may act for, sign-in state kept in the
-- database (so lockout holds across instances), MFA, sessions, the verification queue with its
-- affiliation proofs, and the outbox of messages to people.

ALTER TABLE organizations ADD COLUMN network TEXT;
ALTER TABLE organizations ADD COLUMN claims_allowed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX organizations_tin ON organizations (tin);

ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failure_window_start TEXT;
ALTER TABLE users ADD COLUMN locked_until TEXT;
CREATE INDEX users_org ON users (org_id);

-- TINs a (billing-service) user may act for besides the organisation's own, each granted apart.
CREATE TABLE user_tins (
    user_id     INTEGER NOT NULL REFERENCES users (id),
    tin         TEXT NOT NULL,
    granted_by  INTEGER NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, tin)
);

CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE activations (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

-- Only the SHA-256 of the cookie token is kept.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    stage         TEXT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    source        TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    pending_totp  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE registrations (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    phone            TEXT NOT NULL,
    npi              TEXT NOT NULL,
    tin              TEXT NOT NULL,
    office_name      TEXT NOT NULL,
    office_role      TEXT NOT NULL,
    user_id          INTEGER REFERENCES users (id),
    note             TEXT NOT NULL,
    submitted_at     TEXT NOT NULL,
    source           TEXT NOT NULL,
    status           TEXT NOT NULL,
    decided_at       TEXT,
    decided_by       INTEGER,
    decided_by_name  TEXT,
    reason           TEXT
);
CREATE INDEX registrations_queue ON registrations (status, submitted_at);
CREATE INDEX registrations_tin ON registrations (tin);

CREATE TABLE documents (
    id               INTEGER PRIMARY KEY,
    registration_id  INTEGER NOT NULL REFERENCES registrations (id),
    filename         TEXT NOT NULL,
    media_type       TEXT NOT NULL,
    size             INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    bytes            BLOB NOT NULL,
    uploaded_by      INTEGER,
    uploaded_at      TEXT NOT NULL
);
CREATE INDEX documents_registration ON documents (registration_id);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    to_addr     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
