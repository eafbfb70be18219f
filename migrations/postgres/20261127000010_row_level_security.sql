-- Tenancy in the database: every table that holds a doctor's rows has row-level security,
-- enabled and forced (so the tables' owner is bound too, unless it has BYPASSRLS). A
-- transaction sees and writes the rows of the doctor in `app.doctor_id`, which the app sets
-- for each tenant transaction (db::TenantTx). A few lookups must find a row before knowing
-- its doctor; each has a setting of its own, which shows only the rows matching the key the
-- caller holds (db::Lookup; the README lists them). A connection that sets none sees nothing.
--
-- The app connects as a role that owns nothing and has no BYPASSRLS: the group role
-- `clariva_app` gets the table privileges here, and the operator grants it to the app's login
-- role (README, "PostgreSQL roles"). Migrations run as the owner (DATABASE_MIGRATION_URL).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clariva_app') THEN
        CREATE ROLE clariva_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION
    -- Another database's migration created it at the same moment.
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'could not create role clariva_app: create it as the README says';
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'clariva_app') THEN
        GRANT USAGE ON SCHEMA public TO clariva_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO clariva_app;
        REVOKE ALL ON _sqlx_migrations FROM clariva_app;
        -- Tables of later migrations too.
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO clariva_app;
    END IF;
END $$;

-- Doctors: their own row; log-in finds one by the email typed.
ALTER TABLE doctors ENABLE ROW LEVEL SECURITY;
ALTER TABLE doctors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON doctors
    USING (id = current_setting('app.doctor_id', true)
           OR email = current_setting('app.login_email', true))
    WITH CHECK (id = current_setting('app.doctor_id', true));

-- Sessions: the request guard finds one by the hash of the cookie's token.
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sessions
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR token_hash = current_setting('app.session_hash', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

-- Login dialogs in progress: Meta's callback finds one by the hash of its state.
ALTER TABLE meta_connect_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE meta_connect_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON meta_connect_states
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR state_hash = current_setting('app.connect_state', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

-- Instagram links: found by the account or Page id a delivery names, by the Facebook user
-- Meta's callbacks name, and listed (all of them) for the daily token check.
ALTER TABLE instagram_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE instagram_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON instagram_links
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR instagram_id = current_setting('app.meta_account', true)
           OR page_id = current_setting('app.meta_account', true)
           OR meta_user_id = current_setting('app.meta_user', true)
           OR current_setting('app.every_link', true) = 'on')
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

-- Accounts on offer: Meta's callbacks withdraw those a Facebook user's login found, and
-- housekeeping deletes lapsed offers.
ALTER TABLE instagram_choices ENABLE ROW LEVEL SECURITY;
ALTER TABLE instagram_choices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON instagram_choices
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR meta_user_id = current_setting('app.meta_user', true)
           OR current_setting('app.lapsed_offers', true) = 'on')
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

-- Appointments: the sweeper lists every doctor's holds (then expires each in its doctor's
-- own transaction).
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON appointments
    USING (doctor_id = current_setting('app.doctor_id', true)
           OR (current_setting('app.lapsed_holds', true) = 'on'
               AND status IN ('held', 'pending_payment')))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

-- The rest are seen by their doctor only.
ALTER TABLE practice_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE practice_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON practice_profiles
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_log
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE fee_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE fee_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON fee_settings
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE method_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE method_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON method_settings
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE services ENABLE ROW LEVEL SECURITY;
ALTER TABLE services FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON services
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE availability_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE availability_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON availability_settings
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE weekly_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE weekly_hours FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON weekly_hours
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE blocked_ranges ENABLE ROW LEVEL SECURITY;
ALTER TABLE blocked_ranges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON blocked_ranges
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));

ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
ALTER TABLE patients FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON patients
    USING (doctor_id = current_setting('app.doctor_id', true))
    WITH CHECK (doctor_id = current_setting('app.doctor_id', true));
