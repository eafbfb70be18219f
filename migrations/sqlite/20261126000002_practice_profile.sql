-- The practice profile (one per doctor) and the audit log of setting changes.
CREATE TABLE practice_profiles (
    doctor_id     TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    practice_name TEXT    NOT NULL,
    phone         TEXT,                         -- E.164
    phone_country TEXT,                         -- ISO 3166 code chosen as the phone's hint
    address       TEXT,
    public_note   TEXT,                         -- what the assistant may show patients
    updated_at    INTEGER NOT NULL
);

-- Who changed what, when: field names only, never their values.
CREATE TABLE audit_log (
    id             TEXT    PRIMARY KEY,         -- UUIDv7
    doctor_id      TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    action         TEXT    NOT NULL,            -- e.g. profile.updated
    changed_fields TEXT    NOT NULL,            -- comma-separated field names
    request_id     TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX audit_log_doctor ON audit_log (doctor_id, created_at);
