-- Instagram messages: Meta's deliveries as received, the events they hold once routed to
-- their doctor, each doctor's conversations and messages, and the dead letters no doctor
-- took. Message text, attachment URLs and raw deliveries are sealed (AES-256-GCM, like
-- tokens): `*_sealed` columns hold base64 of nonce then ciphertext, `key_id` the key.

-- Deliveries as Meta POSTed them, stored before the webhook answers 200. Not yet routed, so
-- they belong to no doctor; sealed with the delivery's id as associated data. The worker
-- splits each into events (then sets processed_at); housekeeping deletes processed ones
-- after the retention period.
CREATE TABLE webhook_deliveries (
    id              TEXT    PRIMARY KEY,        -- UUIDv7
    received_at     INTEGER  NOT NULL,
    body_sealed     TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    processed_at    INTEGER,
    attempts        INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at INTEGER  NOT NULL,
    lease_until     INTEGER                      -- claimed by a worker until then
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at)
    WHERE processed_at IS NULL;
CREATE INDEX webhook_deliveries_processed ON webhook_deliveries (processed_at)
    WHERE processed_at IS NOT NULL;

-- What no doctor took: an event for an account nobody linked, a part that could not be
-- read, an event that kept failing. The raw event is sealed with the letter's id as
-- associated data; operators see ids and reasons only (`clariva dead-letters`).
CREATE TABLE dead_letters (
    id          TEXT    PRIMARY KEY,            -- UUIDv7
    delivery_id TEXT    NOT NULL,
    position    INTEGER  NOT NULL,               -- the part's place in its delivery
    reason      TEXT    NOT NULL CHECK (reason IN ('unknown_account', 'unparseable', 'failed')),
    account_id  TEXT    NOT NULL,               -- the business account it was for ('' unknown)
    event_sealed TEXT   NOT NULL,
    key_id      TEXT    NOT NULL,
    error       TEXT,                           -- what failed (ours, never message content)
    created_at  INTEGER  NOT NULL,
    replayed_at INTEGER,
    UNIQUE (delivery_id, position)
);
CREATE INDEX dead_letters_account ON dead_letters (account_id) WHERE replayed_at IS NULL;
CREATE INDEX dead_letters_created ON dead_letters (created_at);

-- One conversation per patient (Instagram-scoped id) per doctor's account.
CREATE TABLE conversations (
    id               TEXT    PRIMARY KEY,       -- UUIDv7
    doctor_id        TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    patient_id       TEXT    NOT NULL,
    account_id       TEXT    NOT NULL,          -- the doctor's Instagram account
    patient_igsid    TEXT    NOT NULL,
    username         TEXT,                      -- from Meta's profile API, once known
    profile_checked_at INTEGER,
    last_inbound_at  INTEGER,                    -- the patient's last message: the 24-hour window
    last_message_at  INTEGER  NOT NULL,
    unread           INTEGER  NOT NULL DEFAULT 0,
    assistant_paused INTEGER  NOT NULL DEFAULT 0,
    needs_human      INTEGER  NOT NULL DEFAULT 0,
    lease_until      INTEGER,                    -- a worker is applying its events until then
    send_lease_until INTEGER,                    -- a sender is sending its outbox until then
    created_at       INTEGER  NOT NULL,
    UNIQUE (doctor_id, account_id, patient_igsid),
    UNIQUE (doctor_id, id),
    FOREIGN KEY (doctor_id, patient_id) REFERENCES patients (doctor_id, id)
);
CREATE INDEX conversations_recent ON conversations (doctor_id, last_message_at);

-- Meta asked us to slow down for this account: no sends before then.
ALTER TABLE instagram_links ADD COLUMN sends_paused_until INTEGER;

-- Routed events, applied to their conversation one at a time in the order they happened.
-- `dedupe_key` (the message id, or what the reference gives for reads and reactions) makes
-- Meta's retries and duplicates land once.
CREATE TABLE inbound_events (
    id              TEXT    PRIMARY KEY,        -- UUIDv7
    doctor_id       TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    standby         INTEGER  NOT NULL DEFAULT 0,
    occurred_at     INTEGER  NOT NULL,
    event_sealed    TEXT    NOT NULL,           -- the event as Meta sent it
    key_id          TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'applied', 'failed')),
    attempts        INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at INTEGER  NOT NULL,
    received_at     INTEGER  NOT NULL,
    UNIQUE (doctor_id, dedupe_key),
    FOREIGN KEY (doctor_id, conversation_id) REFERENCES conversations (doctor_id, id)
        ON DELETE CASCADE
);
CREATE INDEX inbound_events_pending ON inbound_events (conversation_id, occurred_at)
    WHERE state = 'pending';

-- Messages in and out. Outgoing ones (author assistant or doctor) are also the outbox:
-- written with the change that causes them, delivery 'queued'; the sender sends each
-- conversation's queued messages in order, 'sending' while Meta answers (so an echo that
-- beats the answer is not taken for a reply from the Instagram app), then 'sent' with Meta's
-- message id -> 'delivered' (its echo came) -> 'read', or 'undeliverable' with `failure`.
CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,        -- UUIDv7
    doctor_id       TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL,
    mid             TEXT,                       -- Meta's message id, once known
    author          TEXT    NOT NULL CHECK (author IN ('patient', 'assistant', 'doctor')),
    kind            TEXT    NOT NULL,           -- text, attachment, postback, unsupported, ...
    text_sealed     TEXT,
    attachments_sealed TEXT,                    -- JSON list of {kind, url}, sealed
    attachment_kind TEXT,                       -- the first attachment's kind
    key_id          TEXT,
    sent_at         INTEGER  NOT NULL,           -- when it was written (Meta's timestamp)
    delivery        TEXT    NOT NULL CHECK (delivery IN ('received', 'queued', 'sending',
                        'sent', 'delivered', 'read', 'undeliverable', 'deleted')),
    failure         TEXT,                       -- why it could not be delivered
    reaction        TEXT,                       -- the patient's reaction to it
    standby         INTEGER  NOT NULL DEFAULT 0,
    payload_sealed  TEXT,                       -- quick replies or buttons to send (JSON)
    human_agent     INTEGER  NOT NULL DEFAULT 0,  -- typed by a person: HUMAN_AGENT allowed
    attempts        INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    created_at      INTEGER  NOT NULL,
    FOREIGN KEY (doctor_id, conversation_id) REFERENCES conversations (doctor_id, id)
        ON DELETE CASCADE
);
CREATE INDEX messages_queued ON messages (conversation_id, created_at)
    WHERE delivery IN ('queued', 'sending');
CREATE UNIQUE INDEX messages_mid ON messages (doctor_id, mid) WHERE mid IS NOT NULL;
CREATE INDEX messages_thread ON messages (conversation_id, sent_at);

