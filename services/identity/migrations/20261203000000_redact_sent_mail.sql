-- Sent mail no longer keeps its body (the relay now replaces it once sent): mails carry one-time
-- verification and reset links that must not sit in the table in plaintext. Rows sent before the
-- relay did this are redacted here the same way.
update email_outbox set body_text = '[sent; body removed]' where sent_at is not null;
