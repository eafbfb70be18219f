-- Links mailed to a doctor (issue 14): `reset` chooses a new password (valid for an hour),
-- `verify` confirms the account's email address. Each works once; only the SHA-256 of its
-- token is kept.
CREATE TABLE account_links (
    token_hash TEXT    PRIMARY KEY,
    doctor_id  TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('reset', 'verify')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX account_links_doctor ON account_links (doctor_id, purpose, created_at);

ALTER TABLE doctors ADD COLUMN email_verified_at INTEGER;
