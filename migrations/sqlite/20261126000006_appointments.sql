-- Patients (one record per doctor) and their appointments.
CREATE TABLE patients (
    id           TEXT    PRIMARY KEY,           -- UUIDv7
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    phone        TEXT,                          -- E.164
    instagram_id TEXT,                          -- Instagram-scoped id, when booked from DMs
    note         TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
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
    starts_at       INTEGER NOT NULL,           -- UTC epoch ms
    ends_at         INTEGER NOT NULL,
    clear_until     INTEGER NOT NULL,           -- ends_at + the gap at booking time
    status          TEXT    NOT NULL CHECK (status IN ('held', 'pending_payment', 'confirmed',
                        'cancelled', 'completed', 'no_show', 'expired')),
    fee_minor       INTEGER NOT NULL,           -- copied from the settings at booking time
    currency        TEXT    NOT NULL,
    source          TEXT    NOT NULL CHECK (source IN ('instagram', 'dashboard',
                        'assistant_preview')),
    hold_expires_at INTEGER,
    cancel_reason   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (starts_at < ends_at AND ends_at <= clear_until),
    CHECK (status NOT IN ('held', 'pending_payment') OR hold_expires_at IS NOT NULL)
);
CREATE INDEX appointments_doctor_time ON appointments (doctor_id, starts_at);
CREATE INDEX appointments_lapsing ON appointments (hold_expires_at)
    WHERE status IN ('held', 'pending_payment');

-- The database itself refuses two appointments of one doctor whose times (with the gap)
-- overlap while both occupy their time. SQLite runs one writer at a time, so this check
-- cannot race; PostgreSQL uses an exclusion constraint instead.
CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status NOT IN ('cancelled', 'expired')
BEGIN
    SELECT RAISE(ABORT, 'appointment_overlap') WHERE EXISTS (
        SELECT 1 FROM appointments
        WHERE doctor_id = NEW.doctor_id AND id <> NEW.id
          AND status NOT IN ('cancelled', 'expired')
          AND starts_at < NEW.clear_until AND NEW.starts_at < clear_until);
END;
CREATE TRIGGER appointments_no_overlap_update
BEFORE UPDATE OF status, starts_at, clear_until ON appointments
WHEN NEW.status NOT IN ('cancelled', 'expired')
BEGIN
    SELECT RAISE(ABORT, 'appointment_overlap') WHERE EXISTS (
        SELECT 1 FROM appointments
        WHERE doctor_id = NEW.doctor_id AND id <> NEW.id
          AND status NOT IN ('cancelled', 'expired')
          AND starts_at < NEW.clear_until AND NEW.starts_at < clear_until);
END;

-- What an audit row is about (an appointment's id, say), when it is about one row.
ALTER TABLE audit_log ADD COLUMN subject_id TEXT;
