-- The assistant's buttons on the linked Instagram account (four ice breakers and the same
-- four in the persistent menu, set through Meta's messenger_profile API): when Meta last
-- took them (NULL while they are not set: never, or removed because the assistant is off),
-- and why Meta did not take the last change (NULL when it did), shown on the Instagram pane.
ALTER TABLE instagram_links ADD COLUMN menu_set_at INTEGER;
ALTER TABLE instagram_links ADD COLUMN menu_error TEXT;
