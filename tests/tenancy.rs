//! Tenancy is the database's job on PostgreSQL: every table with a doctor's rows has
//! row-level security enabled and forced; the app's role owns nothing and cannot bypass it; a
//! transaction for one doctor sees and writes only that doctor's rows even without a filter
//! of its own; a connection that names no doctor sees none; and a lookup by key sees only the
//! row with that key. (SQLite has no row-level security: there every query filters itself.)

mod common;

use common::{
    book_first_free, open_practice, postgres_available, Backend, Patient, TestApp, APP_ROLE,
};
use sqlx::{Connection, Executor, PgConnection, Row};

/// Two doctors with a practice and a booking each; the app, and both doctors' ids.
async fn two_practices() -> (TestApp, String, String) {
    let app = TestApp::spawn(Backend::Postgres).await;
    let mut ids = vec![];
    for (browser, name) in [
        (app.client.clone(), "Asha Rao"),
        (app.other_browser(), "Ben Okafor"),
    ] {
        app.new_doctor(&browser, name).await;
        let services = open_practice(&app, &browser).await;
        let patient = Patient("Meera Iyer", "+919876543210", "IN", "");
        let booked = book_first_free(&app, &browser, &services.consultation, patient).await;
        assert_eq!(booked.status(), reqwest::StatusCode::OK);
    }
    let mut owner = PgConnection::connect(&app.database.url).await.unwrap();
    for row in sqlx::query("SELECT id FROM doctors ORDER BY full_name")
        .fetch_all(&mut owner)
        .await
        .unwrap()
    {
        ids.push(row.get::<String, _>("id"));
    }
    (app, ids[0].clone(), ids[1].clone())
}

/// The tables holding a doctor's rows: those with a `doctor_id` column, and `doctors`.
async fn tenant_tables(owner: &mut PgConnection) -> Vec<String> {
    let mut tables: Vec<String> = sqlx::query(
        "SELECT DISTINCT table_name FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name = 'doctor_id' ORDER BY table_name",
    )
    .fetch_all(&mut *owner)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get("table_name"))
    .collect();
    tables.push("doctors".into());
    tables
}

/// The rows of `table` that are `doctor`'s, as the owner counts them.
fn own_rows(table: &str, doctor: &str) -> String {
    let column = if table == "doctors" {
        "id"
    } else {
        "doctor_id"
    };
    format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = '{doctor}'")
}

/// Opens a transaction with the app's setting `name` (as `db::TenantTx` or `db::Lookup` do).
async fn begin_as(conn: &mut PgConnection, name: &str, value: &str) {
    conn.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT set_config($1, $2, true)")
        .bind(name)
        .bind(value)
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(conn).await.unwrap().get("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_has_forced_row_level_security_and_the_app_cannot_bypass_it() {
    if !postgres_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let mut owner = PgConnection::connect(&app.database.url).await.unwrap();
    let tables = tenant_tables(&mut owner).await;
    assert!(tables.len() >= 15, "{tables:?}");
    for table in &tables {
        let row = sqlx::query(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class
             WHERE relname = $1 AND relnamespace = 'public'::regnamespace",
        )
        .bind(table)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        assert!(
            row.get::<bool, _>(0) && row.get::<bool, _>(1),
            "{table}: RLS not enabled and forced"
        );
    }
    let role = sqlx::query(
        "SELECT rolsuper, rolbypassrls,
             (SELECT COUNT(*) FROM pg_tables WHERE tableowner = $1 AND schemaname = 'public') AS owned
         FROM pg_roles WHERE rolname = $1",
    )
    .bind(APP_ROLE)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert!(!role.get::<bool, _>(0) && !role.get::<bool, _>(1));
    assert_eq!(role.get::<i64, _>(2), 0, "the app's role owns no table");
    let mut app_conn = PgConnection::connect(&app.database.app_url).await.unwrap();
    let user: String = sqlx::query("SELECT current_user AS u")
        .fetch_one(&mut app_conn)
        .await
        .unwrap()
        .get("u");
    assert_eq!(user, APP_ROLE, "the app connects as its own role");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctors_transaction_sees_and_writes_only_that_doctors_rows() {
    if !postgres_available() {
        return;
    }
    let (app, asha, ben) = two_practices().await;
    let mut owner = PgConnection::connect(&app.database.url).await.unwrap();
    let tables = tenant_tables(&mut owner).await;
    let mut conn = PgConnection::connect(&app.database.app_url).await.unwrap();

    // Naming no doctor: nothing at all.
    for table in &tables {
        let seen = count(&mut conn, &format!("SELECT COUNT(*) AS n FROM {table}")).await;
        assert_eq!(seen, 0, "{table} without app.doctor_id");
    }

    // Asha's transaction, reading with no filter of its own: Asha's rows, all of them.
    begin_as(&mut conn, "app.doctor_id", &asha).await;
    let mut some = 0;
    for table in &tables {
        let seen = count(&mut conn, &format!("SELECT COUNT(*) AS n FROM {table}")).await;
        let hers = count(&mut owner, &own_rows(table, &asha)).await;
        assert_eq!(seen, hers, "{table}");
        some += usize::from(seen > 0);
    }
    assert!(some >= 8, "Asha has rows in most tables ({some})");
    // Writing her own row works; the same row for Ben is refused.
    let block = |id: &'static str, doctor: &str| {
        sqlx::query(
            "INSERT INTO blocked_ranges (id, doctor_id, starts_at, ends_at, all_day, created_at)
             VALUES ($1, $2, 0, 1, 1, 0)",
        )
        .bind(id)
        .bind(doctor.to_owned())
    };
    block("own", &asha).execute(&mut conn).await.unwrap();
    let written = block("theirs", &ben).execute(&mut conn).await;
    assert!(written.is_err(), "wrote another doctor's row");
    conn.execute("ROLLBACK").await.unwrap();
    // Nor can it change Ben's rows: they are not there to change.
    begin_as(&mut conn, "app.doctor_id", &asha).await;
    let changed = sqlx::query("UPDATE services SET name = 'Taken' WHERE doctor_id = $1")
        .bind(&ben)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0);
    conn.execute("ROLLBACK").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_by_key_sees_only_the_row_with_that_key() {
    if !postgres_available() {
        return;
    }
    let (app, asha, _ben) = two_practices().await;
    let mut owner = PgConnection::connect(&app.database.url).await.unwrap();
    let hash: String = sqlx::query("SELECT token_hash FROM sessions WHERE doctor_id = $1")
        .bind(&asha)
        .fetch_one(&mut owner)
        .await
        .unwrap()
        .get("token_hash");
    let mut conn = PgConnection::connect(&app.database.app_url).await.unwrap();
    begin_as(&mut conn, "app.session_hash", &hash).await;
    let sessions = sqlx::query("SELECT doctor_id FROM sessions")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].get::<String, _>("doctor_id"), asha);
    // The key opens sessions only: no other table shows anything.
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM appointments").await,
        0
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM doctors").await,
        0
    );
    conn.execute("ROLLBACK").await.unwrap();
}
