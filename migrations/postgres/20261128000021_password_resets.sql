-- "Forgot password?" (issue 14): a single-use link mailed to the account's email, valid for
-- an hour. Only the SHA-256 of the link's token is kept.
CREATE TABLE password_resets (
    token_hash TEXT   PRIMARY KEY,
    doctor_id  TEXT   NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_doctor ON password_resets (doctor_id, created_at);

-- The link's page finds its reset by the token's hash, before anyone is signed in.
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_resets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON password_resets
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR token_hash = current_setting('app.reset_token', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));
