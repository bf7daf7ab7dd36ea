-- 837 intake (SQLite): each interchange received with its acknowledgements, the outcome of each
-- claim in it, and the counters that number claims and outbound interchanges.

-- Counters handed out in blocks by one UPDATE (writers are serialized by the database).
CREATE TABLE intake_counters (
    name  TEXT PRIMARY KEY,
    next  INTEGER NOT NULL
);
INSERT INTO intake_counters (name, next) VALUES ('claim', 1), ('interchange', 1);

CREATE TABLE interchanges (
    id                INTEGER PRIMARY KEY,
    sender_qualifier  TEXT NOT NULL,          -- ISA05
    sender_id         TEXT NOT NULL,          -- ISA06
    control_number    TEXT NOT NULL,          -- ISA13
    sha256            TEXT NOT NULL,          -- of the bytes received
    received_at       TEXT NOT NULL,
    submitter_user    INTEGER REFERENCES users (id),        -- NULL: the operator
    submitter_org     INTEGER REFERENCES organizations (id),
    submitter_name    TEXT NOT NULL,
    source            TEXT NOT NULL,          -- portal upload, CORE, command line
    file_name         TEXT NOT NULL,
    bytes             INTEGER NOT NULL,
    forms             TEXT NOT NULL,          -- claim forms in it: P, I, or P,I
    status            TEXT NOT NULL CHECK (status IN ('accepted', 'partial', 'rejected')),
    claims_accepted   INTEGER NOT NULL,
    claims_rejected   INTEGER NOT NULL,
    ack_999           TEXT NOT NULL,          -- the 999 (or TA1) sent back
    ack_277ca         TEXT,                   -- the 277CA, when any set was accepted
    findings          TEXT NOT NULL           -- the 999's findings in words, one per line
);
-- The same interchange is stored once: a resubmission is recognised (rejected ones may be
-- corrected and sent again under the same control number).
CREATE UNIQUE INDEX interchanges_control ON interchanges (sender_qualifier, sender_id, control_number)
    WHERE status <> 'rejected';
CREATE UNIQUE INDEX interchanges_sha256 ON interchanges (sha256) WHERE status <> 'rejected';
CREATE INDEX interchanges_org ON interchanges (submitter_org, received_at);

CREATE TABLE interchange_claims (
    interchange_id   INTEGER NOT NULL REFERENCES interchanges (id),
    seq              INTEGER NOT NULL,
    set_control      TEXT NOT NULL,           -- ST02 of the set the claim came in
    patient_account  TEXT NOT NULL,           -- CLM01
    member_id        TEXT NOT NULL,           -- as sent (NM109 of 2010BA)
    billing_npi      TEXT NOT NULL,           -- as sent
    charge           INTEGER NOT NULL,        -- CLM02, cents
    claim_number     TEXT REFERENCES claims (number),   -- set when accepted
    status_code      TEXT NOT NULL,           -- the 277CA STC01: A2:20, A3:33, A7:562:85
    reason           TEXT NOT NULL,           -- in words
    PRIMARY KEY (interchange_id, seq)
) WITHOUT ROWID;
