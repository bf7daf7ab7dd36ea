-- Who deactivated an account (issue 11): only the plan reactivates what the plan deactivated.
-- Accounts deactivated before this was recorded count as the plan's.
ALTER TABLE users ADD COLUMN deactivated_by TEXT;
ALTER TABLE users ADD COLUMN deactivated_by_user BIGINT;
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;
UPDATE users SET deactivated_by = 'plan' WHERE status = 'deactivated';

-- Activation links were queued in clear, readable on the Outbox page: mask the token (64 hex
-- characters after /activate/). The outbox keeps only masked links from now on.
UPDATE outbox
SET body = substr(body, 1, strpos(body, '/activate/') + 9) || '[link sent to the recipient only]'
    || substr(body, strpos(body, '/activate/') + 74)
WHERE strpos(body, '/activate/') > 0;
