-- "Forgot password?" (issue 14): a single-use link mailed to the account's email, valid for
-- an hour. Only the SHA-256 of the link's token is kept.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    doctor_id  TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_doctor ON password_resets (doctor_id, created_at);
