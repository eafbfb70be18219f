-- Services a practice offers. Archived services keep their rows (appointments will point at
-- them) and free their name for a new service.
CREATE TABLE services (
    id               TEXT    PRIMARY KEY,       -- UUIDv7
    doctor_id        TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    name_key         TEXT    NOT NULL,          -- lower-cased, spaces collapsed: uniqueness
    description      TEXT,
    duration_minutes BIGINT ,                   -- NULL: the practice's default length
    methods          TEXT    NOT NULL,          -- comma-separated: text, voice, video
    position         BIGINT  NOT NULL,          -- order shown to patients
    archived_at      BIGINT ,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE UNIQUE INDEX services_live_name ON services (doctor_id, name_key) WHERE archived_at IS NULL;
CREATE INDEX services_doctor ON services (doctor_id, position);
