-- Online payment (issue 13). Each doctor's provider, with the API keys and the webhook's
-- signing secret sealed (AES-256-GCM, the doctor id as associated data, like Instagram
-- tokens); no row: no online payment, patients pay at the clinic. `webhook_ref` is the
-- opaque last segment of the doctor's webhook URL (/payments/<provider>/<ref>).
CREATE TABLE payment_accounts (
    doctor_id           TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    provider            TEXT    NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
    keys_sealed         TEXT    NOT NULL,
    keys_key_id         TEXT    NOT NULL,
    key_last4           TEXT    NOT NULL,
    mode                TEXT    NOT NULL CHECK (mode IN ('test', 'live')),
    webhook_ref         TEXT    NOT NULL UNIQUE,
    webhook_seen_at     BIGINT,                  -- the last signed event that verified
    refund_cutoff_hours BIGINT,                  -- NULL: refunds are the doctor's to make
    connected_at        BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

-- A payment asked of the provider for an appointment; a new link is a new attempt. Amounts in
-- the currency's ISO minor units. `next_check_at`: when the payments job looks at it next
-- (to make its link, to ask the provider about it once its hold ends, to refund it).
CREATE TABLE payments (
    id               TEXT    PRIMARY KEY,        -- UUIDv7
    doctor_id        TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    appointment_id   TEXT    NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    attempt          BIGINT  NOT NULL,
    provider         TEXT    NOT NULL CHECK (provider IN ('stripe', 'razorpay', 'clinic')),
    amount_minor     BIGINT  NOT NULL,
    currency         TEXT    NOT NULL,
    status           TEXT    NOT NULL
                         CHECK (status IN ('creating', 'open', 'paid', 'closed', 'failed')),
    conversation_id  TEXT,                       -- where the patient is told, if in DMs
    reference        TEXT,                       -- cs_… / plink_…
    url              TEXT,
    expires_at       BIGINT  NOT NULL,           -- the hold's end, epoch ms
    problem          TEXT,                       -- why the provider refused, for the doctor
    provider_payment TEXT,                       -- pi_… / pay_…, what a refund names
    paid_at          BIGINT,
    refund_state     TEXT    CHECK (refund_state IN ('due', 'refunded', 'failed', 'manual')),
    refund_reason    TEXT    CHECK (refund_reason IN ('cancelled', 'late')),
    refund_reference TEXT,
    refund_minor     BIGINT,
    next_check_at    BIGINT,                     -- NULL: nothing left to do
    tries            BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    UNIQUE (appointment_id, attempt)
);
CREATE UNIQUE INDEX payments_reference ON payments (provider, reference)
    WHERE reference IS NOT NULL;
CREATE INDEX payments_due ON payments (next_check_at) WHERE next_check_at IS NOT NULL;

-- Each provider event that verified, applied once: its id is kept, and `applied_at` is set in
-- the transaction that applies it. Only what applying needs is kept, no personal data.
CREATE TABLE payment_events (
    doctor_id   TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    provider    TEXT    NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
    event_id    TEXT    NOT NULL,
    reference   TEXT    NOT NULL,                -- the session or link it is about
    kind        TEXT    NOT NULL CHECK (kind IN ('paid', 'closed')),
    payment     TEXT,                            -- pi_… / pay_… when paid
    amount      BIGINT,                          -- in the provider's units, when paid
    received_at BIGINT  NOT NULL,
    applied_at  BIGINT,
    PRIMARY KEY (doctor_id, provider, event_id)
);
CREATE INDEX payment_events_pending ON payment_events (received_at) WHERE applied_at IS NULL;

-- Tenancy (see the row-level security migration). A provider's delivery finds its doctor by
-- the webhook path (`app.payment_webhook`); the payments job lists every doctor's due work
-- and accounts (`app.payment_work = on`) and does each in its doctor's own transaction; the hold sweeper
-- (`app.lapsed_holds = on`) sees which holds still wait on a provider.
ALTER TABLE payment_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON payment_accounts
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR webhook_ref = current_setting('app.payment_webhook', true)
           OR current_setting('app.payment_work', true) = 'on')
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON payments
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR (current_setting('app.payment_work', true) = 'on' AND next_check_at IS NOT NULL)
           OR (current_setting('app.lapsed_holds', true) = 'on'
               AND status IN ('creating', 'open')))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE payment_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON payment_events
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR (current_setting('app.payment_work', true) = 'on' AND applied_at IS NULL))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));
