-- Adjudication and payment (PostgreSQL): the plan's fee schedule, each claim's adjudication with a
-- plain-language explanation per line, payment runs (one payment per payee, with the claims it
-- reports and its 835), and a lease so that one instance at a time runs the engine.

CREATE TABLE fee_schedule (
    procedure      TEXT PRIMARY KEY,
    description    TEXT NOT NULL,
    amount         BIGINT NOT NULL,    -- allowed per unit, cents
    requires_auth  BOOLEAN NOT NULL
);

-- When a claim was decided (by the engine or, for seeded history, by the generator).
CREATE TABLE claim_adjudications (
    claim_number    TEXT PRIMARY KEY REFERENCES claims (number),
    adjudicated_on  DATE NOT NULL
);

CREATE TABLE claim_line_explanations (
    claim_number  TEXT NOT NULL,
    line_number   BIGINT NOT NULL,
    rule          TEXT NOT NULL,
    explanation   TEXT NOT NULL,
    PRIMARY KEY (claim_number, line_number),
    FOREIGN KEY (claim_number, line_number) REFERENCES claim_lines (claim_number, line_number)
);

CREATE TABLE payments (
    id           BIGINT PRIMARY KEY,       -- assigned by the payment run, in order
    number       TEXT NOT NULL UNIQUE,     -- check or EFT trace number (TRN02)
    method       TEXT NOT NULL,            -- BPR04: CHK, ACH, NON (nothing to pay)
    paid_on      DATE NOT NULL,
    amount       BIGINT NOT NULL,
    payee_npi    TEXT NOT NULL,
    payee_tin    TEXT NOT NULL,
    payee_name   TEXT NOT NULL,
    claim_count  BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX payments_payee ON payments (payee_tin, paid_on);

-- A claim is reported on one payment only: UNIQUE (claim_number) keeps anything from being paid twice.
CREATE TABLE payment_claims (
    payment_id    BIGINT NOT NULL REFERENCES payments (id),
    claim_number  TEXT NOT NULL UNIQUE REFERENCES claims (number),
    PRIMARY KEY (payment_id, claim_number)
);

CREATE TABLE remittance_files (
    payment_id  BIGINT PRIMARY KEY REFERENCES payments (id),
    filename    TEXT NOT NULL,
    content     TEXT NOT NULL
);

CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_ms  BIGINT NOT NULL
);
INSERT INTO job_leases (name, holder, expires_ms) VALUES ('adjudication', '', 0);

CREATE INDEX claim_adjudications_on ON claim_adjudications (adjudicated_on);
CREATE INDEX claims_status ON claims (status, received);
CREATE INDEX claims_unpaid ON claims (status) WHERE payment_number IS NULL;
