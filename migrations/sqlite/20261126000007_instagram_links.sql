-- Each doctor's link to their Instagram professional account and the Facebook Page it
-- belongs to. One per doctor; an account or Page belongs to one doctor at most. The Page
-- token is sealed (AES-256-GCM, the doctor id as associated data); disconnecting deletes the
-- row, token and ids with it.
CREATE TABLE instagram_links (
    doctor_id        TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    page_id          TEXT    NOT NULL UNIQUE,
    instagram_id     TEXT    NOT NULL UNIQUE,   -- the professional account's id
    username         TEXT    NOT NULL,
    page_name        TEXT    NOT NULL,
    token_sealed     TEXT    NOT NULL,          -- base64 of nonce then ciphertext
    token_key_id     TEXT    NOT NULL,          -- which sealing key; keys rotate
    token_expires_at INTEGER,                   -- NULL: the token does not expire
    token_rejected   INTEGER NOT NULL DEFAULT 0, -- 1 once Meta refused the token
    connected_at     INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
