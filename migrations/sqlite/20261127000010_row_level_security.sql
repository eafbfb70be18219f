-- PostgreSQL enforces tenancy in the database with row-level security (see the PostgreSQL
-- migration of the same name). SQLite has no row-level security and a single application
-- user: every query filters by the doctor itself. Nothing to change here.
SELECT 1;
