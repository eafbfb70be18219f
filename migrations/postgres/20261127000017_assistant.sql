-- The booking assistant: each doctor's settings (no row: the defaults, on, no greeting of
-- their own, bookings confirmed at once), and each conversation's state in the engine,
-- sealed like message text (AES-256-GCM, base64 of nonce then ciphertext, `key_id` the key).
CREATE TABLE assistant_settings (
    doctor_id      TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    enabled        BIGINT  NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    greeting       TEXT,                        -- blank: the default greeting
    booking_mode   TEXT    NOT NULL DEFAULT 'confirm'
                       CHECK (booking_mode IN ('confirm', 'approval', 'payment')),
    emergency_line TEXT,                        -- blank: the default line
    updated_at     BIGINT  NOT NULL
);

-- Tenancy (see the row-level security migration): seen by their doctor only.
ALTER TABLE assistant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE assistant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON assistant_settings
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

-- The engine's state of a conversation, sealed JSON; `assistant_version` counts its saves,
-- so two workers never both write over the same state (compare and set). The conversations'
-- own policy covers these columns.
ALTER TABLE conversations ADD COLUMN assistant_state_sealed TEXT;
ALTER TABLE conversations ADD COLUMN assistant_key_id TEXT;
ALTER TABLE conversations ADD COLUMN assistant_version BIGINT NOT NULL DEFAULT 0;
