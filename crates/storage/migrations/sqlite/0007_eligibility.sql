-- Eligibility (SQLite): what the plan wants offices to know when they check a member, batch
-- results kept for their uploader to download, and members found by their PCP (care gaps).

CREATE TABLE plan_notices (
    code              TEXT PRIMARY KEY,
    level             TEXT NOT NULL CHECK (level IN ('info', 'important')),
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    -- Targets; NULL means any.
    line_of_business  TEXT,
    network           TEXT,
    network_kind      TEXT CHECK (network_kind IN ('community', 'delegated')),
    span_state        TEXT CHECK (span_state IN ('active', 'termed', 'future')),
    effective_from    TEXT NOT NULL,
    effective_to      TEXT
);

-- A batch's result CSV holds PHI: only its uploader may download it, for a day.
CREATE TABLE eligibility_batches (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    filename    TEXT NOT NULL,
    row_count   INTEGER NOT NULL,
    found       INTEGER NOT NULL,
    inactive    INTEGER NOT NULL,
    not_found   INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    member_ids  TEXT NOT NULL,   -- comma-separated: audited again on download
    result      BLOB NOT NULL
);
CREATE INDEX eligibility_batches_created ON eligibility_batches (created_at);

CREATE INDEX eligibility_spans_pcp ON eligibility_spans (pcp_npi);
