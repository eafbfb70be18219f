-- Patients (one record per doctor) and their appointments.
-- btree_gist lets one exclusion constraint compare the doctor (=) and the time range (&&).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE patients (
    id           TEXT    PRIMARY KEY,           -- UUIDv7
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    phone        TEXT,                          -- E.164
    instagram_id TEXT,                          -- Instagram-scoped id, when booked from DMs
    note         TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX patients_phone ON patients (doctor_id, phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX patients_instagram ON patients (doctor_id, instagram_id)
    WHERE instagram_id IS NOT NULL;

CREATE TABLE appointments (
    id              TEXT    PRIMARY KEY,        -- UUIDv7
    doctor_id       TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    patient_id      TEXT    NOT NULL REFERENCES patients(id),
    service_id      TEXT    NOT NULL REFERENCES services(id),
    method          TEXT    NOT NULL CHECK (method IN ('text', 'voice', 'video')),
    starts_at       BIGINT  NOT NULL,           -- UTC epoch ms
    ends_at         BIGINT  NOT NULL,
    clear_until     BIGINT  NOT NULL,           -- ends_at + the gap at booking time
    status          TEXT    NOT NULL CHECK (status IN ('held', 'pending_payment', 'confirmed',
                        'cancelled', 'completed', 'no_show', 'expired')),
    fee_minor       BIGINT  NOT NULL,           -- copied from the settings at booking time
    currency        TEXT    NOT NULL,
    source          TEXT    NOT NULL CHECK (source IN ('instagram', 'dashboard',
                        'assistant_preview')),
    hold_expires_at BIGINT,
    cancel_reason   TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CHECK (starts_at < ends_at AND ends_at <= clear_until),
    CHECK (status NOT IN ('held', 'pending_payment') OR hold_expires_at IS NOT NULL),
    -- The database itself refuses two appointments of one doctor whose times (with the gap)
    -- overlap while both occupy their time, however many bookings race.
    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
        doctor_id WITH =, int8range(starts_at, clear_until) WITH &&
    ) WHERE (status NOT IN ('cancelled', 'expired'))
);
CREATE INDEX appointments_doctor_time ON appointments (doctor_id, starts_at);
CREATE INDEX appointments_lapsing ON appointments (hold_expires_at)
    WHERE status IN ('held', 'pending_payment');

-- What an audit row is about (an appointment's id, say), when it is about one row.
ALTER TABLE audit_log ADD COLUMN subject_id TEXT;
