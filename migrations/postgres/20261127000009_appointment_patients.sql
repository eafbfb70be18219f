-- The name (and note) typed for a booking stay with that appointment; the patient record is
-- created by the first booking and changed only when the doctor edits it, so a mistyped
-- phone number cannot relabel another patient's history.
ALTER TABLE appointments ADD COLUMN patient_name TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN note TEXT;
UPDATE appointments SET patient_name = p.name, note = p.note
    FROM patients p WHERE p.id = appointments.patient_id;
ALTER TABLE appointments ALTER COLUMN patient_name DROP DEFAULT;

-- An appointment can only point at a patient and a service of its own doctor.
ALTER TABLE patients ADD CONSTRAINT patients_doctor_id_id UNIQUE (doctor_id, id);
ALTER TABLE services ADD CONSTRAINT services_doctor_id_id UNIQUE (doctor_id, id);
ALTER TABLE appointments DROP CONSTRAINT appointments_patient_id_fkey;
ALTER TABLE appointments DROP CONSTRAINT appointments_service_id_fkey;
ALTER TABLE appointments ADD CONSTRAINT appointments_patient FOREIGN KEY (doctor_id, patient_id)
    REFERENCES patients (doctor_id, id);
ALTER TABLE appointments ADD CONSTRAINT appointments_service FOREIGN KEY (doctor_id, service_id)
    REFERENCES services (doctor_id, id);
