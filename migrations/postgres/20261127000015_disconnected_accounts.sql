-- Instagram accounts and Facebook Pages whose doctor disconnected them, so a delivery still
-- arriving for one is dead-lettered as `disconnected`, not as an account nobody knows.
-- Ids only; a row goes when the account is linked again. No doctor's data: no row-level
-- security.
CREATE TABLE disconnected_accounts (
    account_id      TEXT PRIMARY KEY,
    disconnected_at BIGINT NOT NULL
);

-- The dead letters' reasons gain `disconnected`.
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_reason_check,
    ADD CONSTRAINT dead_letters_reason_check
        CHECK (reason IN ('unknown_account', 'disconnected', 'unparseable', 'failed'));
