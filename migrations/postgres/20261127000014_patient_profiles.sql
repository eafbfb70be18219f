-- Patients' names from Meta's user profile API, looked up once per new conversation (best
-- effort). `profile_lease_until`: no lookup of this conversation starts before then (a
-- lookup under way, or the pause before the next try); `profile_attempts`: tries so far.
-- A conversation waits for a lookup while its `username` is NULL and tries are left.
ALTER TABLE conversations RENAME COLUMN profile_checked_at TO profile_lease_until;
ALTER TABLE conversations ADD COLUMN profile_attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_profile_due ON conversations (profile_lease_until)
    WHERE username IS NULL;
