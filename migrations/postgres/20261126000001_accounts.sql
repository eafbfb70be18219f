-- Doctors, their sessions, and failed log-ins. Instants are UTC epoch milliseconds.
CREATE TABLE doctors (
    id            TEXT    PRIMARY KEY,          -- UUIDv7
    email         TEXT    NOT NULL UNIQUE,      -- normalised: trimmed, lower-case
    full_name     TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,             -- argon2id PHC string
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,             -- SHA-256 of the cookie's token; the token itself is never stored
    doctor_id  TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_doctor ON sessions (doctor_id);

CREATE TABLE login_failures (
    throttle_key    TEXT    PRIMARY KEY,        -- keyed hash of an email, or a client address
    failures        BIGINT  NOT NULL,
    first_failed_at BIGINT  NOT NULL,
    locked_until    BIGINT                      -- refused until then
);
