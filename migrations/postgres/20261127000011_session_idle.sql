-- When a session was last used, so one left unused for a week ends (besides its absolute
-- lifetime). Sessions from before this migration count as last used when they started.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
