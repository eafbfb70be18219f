-- Instagram accounts and Facebook Pages whose doctor disconnected them, so a delivery still
-- arriving for one is dead-lettered as `disconnected`, not as an account nobody knows.
-- Ids only; a row goes when the account is linked again. No doctor's data: no row-level
-- security.
CREATE TABLE disconnected_accounts (
    account_id      TEXT PRIMARY KEY,
    disconnected_at INTEGER NOT NULL
);

-- The dead letters' reasons gain `disconnected` (SQLite changes a CHECK by rebuilding).
CREATE TABLE dead_letters_new (
    id          TEXT    PRIMARY KEY,            -- UUIDv7
    delivery_id TEXT    NOT NULL,
    position    INTEGER  NOT NULL,               -- the part's place in its delivery
    reason      TEXT    NOT NULL
        CHECK (reason IN ('unknown_account', 'disconnected', 'unparseable', 'failed')),
    account_id  TEXT    NOT NULL,               -- the business account it was for ('' unknown)
    event_sealed TEXT   NOT NULL,
    key_id      TEXT    NOT NULL,
    error       TEXT,                           -- what failed (ours, never message content)
    created_at  INTEGER  NOT NULL,
    replayed_at INTEGER,
    UNIQUE (delivery_id, position)
);
INSERT INTO dead_letters_new (id, delivery_id, position, reason, account_id, event_sealed,
        key_id, error, created_at, replayed_at)
    SELECT id, delivery_id, position, reason, account_id, event_sealed, key_id, error,
           created_at, replayed_at
    FROM dead_letters;
DROP TABLE dead_letters;
ALTER TABLE dead_letters_new RENAME TO dead_letters;
CREATE INDEX dead_letters_account ON dead_letters (account_id) WHERE replayed_at IS NULL;
CREATE INDEX dead_letters_created ON dead_letters (created_at);
