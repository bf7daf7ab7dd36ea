-- Referrals and prior authorizations on the legal clocks: the fields of the review workflow
-- (line of business, urgency reason, notes, pend and information times, the stored deadline for
-- ordering the queue, the reviewer, the auto-approval rule, the appeal), the timeline, the
-- attachments, the plan's auth-required and auto-approval rules, and office notifications.

ALTER TABLE auth_requests ADD COLUMN line_of_business TEXT NOT NULL DEFAULT 'medi_cal';
ALTER TABLE auth_requests ADD COLUMN urgency_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN clinical_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN pended_at TEXT;
ALTER TABLE auth_requests ADD COLUMN info_received_at TEXT;
-- Computed by the domain clock on every write; kept for ordering the queue.
ALTER TABLE auth_requests ADD COLUMN due_at TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN reviewer_id INTEGER;
ALTER TABLE auth_requests ADD COLUMN reviewer_name TEXT;
ALTER TABLE auth_requests ADD COLUMN auto_rule TEXT;
ALTER TABLE auth_requests ADD COLUMN appeal_decided_at TEXT;
ALTER TABLE auth_requests ADD COLUMN appeal_overturned INTEGER;
-- The requester's trace (X12 278 TRN02): a resubmitted request is recognised, not doubled.
ALTER TABLE auth_requests ADD COLUMN trace TEXT;
CREATE UNIQUE INDEX auth_requests_trace ON auth_requests (requesting_npi, trace);
CREATE INDEX auth_requests_queue ON auth_requests (status, due_at);
CREATE INDEX auth_requests_decided ON auth_requests (decided_at);

ALTER TABLE auth_services ADD COLUMN approved_from TEXT;
ALTER TABLE auth_services ADD COLUMN approved_to TEXT;

-- Numbers of requests made in the portal or by 278 (seeded ones use the member sequence).
CREATE TABLE auth_number_seq (
    id  INTEGER PRIMARY KEY AUTOINCREMENT
);

CREATE TABLE auth_events (
    auth_number  TEXT NOT NULL REFERENCES auth_requests (number),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    note         TEXT NOT NULL,
    PRIMARY KEY (auth_number, seq)
) WITHOUT ROWID;

CREATE TABLE auth_attachments (
    id           INTEGER PRIMARY KEY,
    auth_number  TEXT NOT NULL REFERENCES auth_requests (number),
    filename     TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX auth_attachments_auth ON auth_attachments (auth_number);

CREATE TABLE auth_rules (
    id                INTEGER PRIMARY KEY,
    code_from         TEXT NOT NULL,
    code_to           TEXT NOT NULL,
    line_of_business  TEXT,
    required          INTEGER NOT NULL,
    note              TEXT NOT NULL,
    description       TEXT NOT NULL
);

CREATE TABLE auto_rules (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    line_of_business   TEXT,
    codes              TEXT NOT NULL,
    max_units          INTEGER NOT NULL,
    include_expedited  INTEGER NOT NULL
);

CREATE TABLE auth_notifications (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations (id),
    auth_number  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    text         TEXT NOT NULL
);
CREATE INDEX auth_notifications_org ON auth_notifications (org_id, created_at);

CREATE TABLE notifications_seen (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id),
    seen_at  TEXT NOT NULL
);
