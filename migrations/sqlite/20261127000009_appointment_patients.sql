-- The name (and note) typed for a booking stay with that appointment; the patient record is
-- created by the first booking and changed only when the doctor edits it, so a mistyped
-- phone number cannot relabel another patient's history.
-- And an appointment can only point at a patient and a service of its own doctor: SQLite
-- cannot change a table's foreign keys, so the table is rebuilt with composite ones.
CREATE UNIQUE INDEX patients_doctor_id_id ON patients (doctor_id, id);
CREATE UNIQUE INDEX services_doctor_id_id ON services (doctor_id, id);

CREATE TABLE appointments_new (
    id              TEXT    PRIMARY KEY,        -- UUIDv7
    doctor_id       TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    patient_id      TEXT    NOT NULL,
    service_id      TEXT    NOT NULL,
    patient_name    TEXT    NOT NULL,           -- as typed for this booking
    note            TEXT,                       -- as typed for this booking
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
    CHECK (status NOT IN ('held', 'pending_payment') OR hold_expires_at IS NOT NULL),
    FOREIGN KEY (doctor_id, patient_id) REFERENCES patients (doctor_id, id),
    FOREIGN KEY (doctor_id, service_id) REFERENCES services (doctor_id, id)
);
INSERT INTO appointments_new (id, doctor_id, patient_id, service_id, patient_name, note, method,
    starts_at, ends_at, clear_until, status, fee_minor, currency, source, hold_expires_at,
    cancel_reason, created_at, updated_at)
SELECT a.id, a.doctor_id, a.patient_id, a.service_id, p.name, p.note, a.method, a.starts_at,
    a.ends_at, a.clear_until, a.status, a.fee_minor, a.currency, a.source, a.hold_expires_at,
    a.cancel_reason, a.created_at, a.updated_at
FROM appointments a JOIN patients p ON p.id = a.patient_id;
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;

CREATE INDEX appointments_doctor_time ON appointments (doctor_id, starts_at);
CREATE INDEX appointments_lapsing ON appointments (hold_expires_at)
    WHERE status IN ('held', 'pending_payment');
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
