-- The currency a practice charges in, and each appointment method's offer, fee and
-- instructions. Fees are integers in the currency's minor units.
CREATE TABLE fee_settings (
    doctor_id  TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    currency   TEXT    NOT NULL,                -- ISO 4217
    updated_at INTEGER NOT NULL
);

CREATE TABLE method_settings (
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    method       TEXT    NOT NULL CHECK (method IN ('text', 'voice', 'video')),
    offered      INTEGER NOT NULL CHECK (offered IN (0, 1)),
    fee_minor    INTEGER NOT NULL CHECK (fee_minor >= 0),
    instructions TEXT,                          -- sent to the patient once booked
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (doctor_id, method)
);
