-- Links mailed to a doctor (issue 14): `reset` chooses a new password (valid for an hour),
-- `verify` confirms the account's email address. Each works once; only the SHA-256 of its
-- token is kept.
CREATE TABLE account_links (
    token_hash TEXT   PRIMARY KEY,
    doctor_id  TEXT   NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    purpose    TEXT   NOT NULL CHECK (purpose IN ('reset', 'verify')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX account_links_doctor ON account_links (doctor_id, purpose, created_at);

-- A link's page finds it by the token's hash, before anyone is signed in.
ALTER TABLE account_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON account_links
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR token_hash = current_setting('app.account_link', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE doctors ADD COLUMN email_verified_at BIGINT;
