-- The audit chain keyed: each entry and the head carry an HMAC under an audit key kept outside
-- the database (NULL: written before the portal had keys). key_epochs names every key the
-- database was written with (by a fingerprint, never the key), so an instance started with
-- another key file is refused.
ALTER TABLE audit_log ADD COLUMN mac_key INTEGER;
ALTER TABLE audit_log ADD COLUMN mac TEXT;
ALTER TABLE audit_head ADD COLUMN mac_key INTEGER;
ALTER TABLE audit_head ADD COLUMN mac TEXT;

CREATE TABLE key_epochs (
    kind         TEXT NOT NULL,
    number       INTEGER NOT NULL,
    fingerprint  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (kind, number)
);
