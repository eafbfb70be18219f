-- Two more reasons a payment is refunded by itself (issue 13): `duplicate`, a provider payment
-- for an appointment already paid (at the clinic, say), and `mismatch`, a payment whose amount
-- is not the fee asked.
ALTER TABLE payments DROP CONSTRAINT payments_refund_reason_check;
ALTER TABLE payments ADD CONSTRAINT payments_refund_reason_check
    CHECK (refund_reason IN ('cancelled', 'late', 'duplicate', 'mismatch'));
