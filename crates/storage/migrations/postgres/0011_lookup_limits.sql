-- Eligibility lookups per user and per organisation (issue 11, finding 3): the hourly counts
-- of lookups, misses and refusals over the last day (`domain::lookup_limits::Tally`, as
-- "hour:lookups:misses:refused,..."), and when the plan was last alerted about the
-- organisation. One row per user and per organisation, locked (updated) first by each
-- admission so the budget check and the count are one step (`lookups.rs`).
CREATE TABLE lookup_tallies (
    scope         TEXT NOT NULL CHECK (scope IN ('user', 'org')),
    scope_id      BIGINT NOT NULL,
    hours         TEXT NOT NULL DEFAULT '',
    alerted_until TIMESTAMPTZ,
    PRIMARY KEY (scope, scope_id)
);
