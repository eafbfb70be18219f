-- Two more reasons a payment is refunded by itself (issue 13): `duplicate`, a provider payment
-- for an appointment already paid (at the clinic, say), and `mismatch`, a payment whose amount
-- is not the fee asked. SQLite cannot change a CHECK in place: the table is rebuilt (nothing
-- references it) with the same columns and indexes.
CREATE TABLE payments_new (
    id               TEXT    PRIMARY KEY,
    doctor_id        TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    appointment_id   TEXT    NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    provider         TEXT    NOT NULL CHECK (provider IN ('stripe', 'razorpay', 'clinic')),
    amount_minor     INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    status           TEXT    NOT NULL
                         CHECK (status IN ('creating', 'open', 'paid', 'closed', 'failed')),
    conversation_id  TEXT,
    reference        TEXT,
    url              TEXT,
    expires_at       INTEGER NOT NULL,
    problem          TEXT,
    provider_payment TEXT,
    paid_at          INTEGER,
    refund_state     TEXT    CHECK (refund_state IN ('due', 'refunded', 'failed', 'manual')),
    refund_reason    TEXT    CHECK (refund_reason IN ('cancelled', 'late', 'duplicate', 'mismatch')),
    refund_reference TEXT,
    refund_minor     INTEGER,
    next_check_at    INTEGER,
    tries            INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (appointment_id, attempt)
);
INSERT INTO payments_new SELECT * FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE UNIQUE INDEX payments_reference ON payments (provider, reference)
    WHERE reference IS NOT NULL;
CREATE INDEX payments_due ON payments (next_check_at) WHERE next_check_at IS NOT NULL;
