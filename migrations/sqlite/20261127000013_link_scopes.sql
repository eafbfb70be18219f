-- The permissions the last token check found missing from a link's grant (a comma list, e.g.
-- `pages_read_engagement` for links made before Clariva asked for it); NULL when none are
-- missing or the token was not checked since it was connected.
ALTER TABLE instagram_links ADD COLUMN missing_scopes TEXT;
