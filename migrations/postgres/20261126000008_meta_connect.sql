-- Connecting through Meta's login dialog. A state is single-use, bound to the session that
-- started it and short-lived; only its SHA-256 is kept (the state itself travels in the URL).
CREATE TABLE meta_connect_states (
    state_hash   TEXT    PRIMARY KEY,
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    session_hash TEXT    NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- When the doctor manages several Pages with an Instagram account, the accounts offered to
-- pick from (for ten minutes), each with its Page token sealed like a link's.
CREATE TABLE instagram_choices (
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    page_id      TEXT    NOT NULL,
    instagram_id TEXT    NOT NULL,
    username     TEXT    NOT NULL,
    page_name    TEXT    NOT NULL,
    meta_user_id TEXT    NOT NULL,
    token_sealed TEXT    NOT NULL,
    token_key_id TEXT    NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (doctor_id, page_id)
);

-- The (app-scoped) id of the Facebook user who connected, which Meta's deauthorization and
-- data-deletion callbacks name; and when the token was last checked with Meta.
ALTER TABLE instagram_links ADD COLUMN meta_user_id TEXT;
ALTER TABLE instagram_links ADD COLUMN token_checked_at BIGINT;
CREATE INDEX instagram_links_meta_user ON instagram_links (meta_user_id);

-- Data-deletion requests from Meta, so the status page behind the confirmation code can say
-- what was done.
CREATE TABLE meta_deletion_requests (
    confirmation_code TEXT    PRIMARY KEY,
    links_removed     BIGINT NOT NULL,
    requested_at      BIGINT NOT NULL
);
