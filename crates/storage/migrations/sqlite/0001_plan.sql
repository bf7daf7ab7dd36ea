-- The plan's reference data, members, claims and authorizations (SQLite).
-- Dates are ISO-8601 text, money is integer cents, booleans are 0/1.

CREATE TABLE networks (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('community', 'delegated')),
    phone TEXT NOT NULL
);

CREATE TABLE providers (
    npi            TEXT PRIMARY KEY,
    tin            TEXT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    credential     TEXT NOT NULL,
    taxonomy_code  TEXT NOT NULL,
    specialty      TEXT NOT NULL,
    languages      TEXT NOT NULL,      -- comma-separated ISO 639-1 codes
    street         TEXT NOT NULL,
    city           TEXT NOT NULL,
    state          TEXT NOT NULL,
    zip            TEXT NOT NULL,
    phone          TEXT NOT NULL,
    lat            REAL NOT NULL,
    lon            REAL NOT NULL,
    accepting_new  INTEGER NOT NULL,
    contracted     INTEGER NOT NULL,
    networks       TEXT NOT NULL       -- comma-separated network codes
);
CREATE INDEX providers_tin ON providers (tin);

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    name_key    TEXT NOT NULL,    -- lower-cased last name: one case-insensitive lookup on both backends
    birth_date  TEXT NOT NULL,
    sex         TEXT NOT NULL
);
CREATE INDEX members_name_birth ON members (name_key, birth_date);

-- Kept apart from members so that no query that reads a member can select these by accident:
-- the portal never shows a member's address or phone.
CREATE TABLE member_contacts (
    member_id TEXT PRIMARY KEY REFERENCES members (id),
    street    TEXT NOT NULL,
    city      TEXT NOT NULL,
    zip       TEXT NOT NULL,
    phone     TEXT NOT NULL
);

CREATE TABLE eligibility_spans (
    member_id         TEXT NOT NULL REFERENCES members (id),
    start_date        TEXT NOT NULL,
    end_date          TEXT,
    line_of_business  TEXT NOT NULL,
    network           TEXT NOT NULL REFERENCES networks (code),
    pcp_npi           TEXT,
    PRIMARY KEY (member_id, start_date)
) WITHOUT ROWID;

CREATE TABLE claims (
    number            TEXT PRIMARY KEY,
    form              TEXT NOT NULL,
    patient_account   TEXT NOT NULL,
    member_id         TEXT NOT NULL REFERENCES members (id),
    billing_npi       TEXT NOT NULL,
    rendering_npi     TEXT,
    diagnoses         TEXT NOT NULL,   -- comma-separated ICD-10-CM, principal first
    place_of_service  TEXT NOT NULL,
    received          TEXT NOT NULL,
    status            TEXT NOT NULL,
    payment_number    TEXT,
    payment_date      TEXT
);
CREATE INDEX claims_member ON claims (member_id);
CREATE INDEX claims_billing ON claims (billing_npi, received);

CREATE TABLE claim_lines (
    claim_number  TEXT NOT NULL REFERENCES claims (number),
    line_number   INTEGER NOT NULL,
    procedure     TEXT NOT NULL,
    modifiers     TEXT NOT NULL,
    revenue_code  TEXT,
    units         INTEGER NOT NULL,
    service_date  TEXT NOT NULL,
    billed        INTEGER NOT NULL,
    allowed       INTEGER NOT NULL,
    paid          INTEGER NOT NULL,
    PRIMARY KEY (claim_number, line_number)
) WITHOUT ROWID;

CREATE TABLE claim_adjustments (
    claim_number  TEXT NOT NULL,
    line_number   INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    group_code    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    amount        INTEGER NOT NULL,
    remark        TEXT,
    PRIMARY KEY (claim_number, line_number, seq),
    FOREIGN KEY (claim_number, line_number) REFERENCES claim_lines (claim_number, line_number)
) WITHOUT ROWID;

CREATE TABLE auth_requests (
    number            TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    urgency           TEXT NOT NULL,
    member_id         TEXT NOT NULL REFERENCES members (id),
    requesting_npi    TEXT NOT NULL,
    servicing_npi     TEXT NOT NULL,
    diagnoses         TEXT NOT NULL,
    place_of_service  TEXT NOT NULL,
    from_date         TEXT NOT NULL,
    to_date           TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    status            TEXT NOT NULL,
    decided_at        TEXT,
    denial_code       TEXT,
    denial_text       TEXT
);
CREATE INDEX auth_requests_member ON auth_requests (member_id);
CREATE INDEX auth_requests_requesting ON auth_requests (requesting_npi);

CREATE TABLE auth_services (
    auth_number     TEXT NOT NULL REFERENCES auth_requests (number),
    seq             INTEGER NOT NULL,
    procedure       TEXT NOT NULL,
    units           INTEGER NOT NULL,
    approved_units  INTEGER,
    PRIMARY KEY (auth_number, seq)
) WITHOUT ROWID;

CREATE TABLE trainings (
    code      TEXT PRIMARY KEY,
    title     TEXT NOT NULL,
    topic     TEXT NOT NULL,
    minutes   INTEGER NOT NULL,
    required  INTEGER NOT NULL
);

CREATE TABLE organizations (
    id    INTEGER PRIMARY KEY,
    kind  TEXT NOT NULL,
    name  TEXT NOT NULL,
    tin   TEXT
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    email          TEXT NOT NULL,
    role           TEXT NOT NULL,
    org_id         INTEGER NOT NULL REFERENCES organizations (id),
    password_hash  TEXT NOT NULL,
    status         TEXT NOT NULL
);
