-- The worker claims the oldest due deliveries (ORDER BY id LIMIT n). Indexed by
-- next_attempt_at, that claim read every pending row and sorted them (SQLite), or walked the
-- primary key through every processed row kept for the retention period (PostgreSQL): each
-- claim cost more the longer the backlog or the history, while holding the writer the
-- webhook's acknowledgements wait for. In id order, pending rows only, the claim reads the
-- first rows due and stops; the few waiting for a retry are skipped on the way.
DROP INDEX webhook_deliveries_pending;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE processed_at IS NULL;
