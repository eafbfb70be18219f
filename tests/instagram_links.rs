//! The stored Instagram link: one per doctor, replaced on reconnect, refused when the account
//! or Page is another doctor's, deleted on disconnect; the lookup from an account or Page id
//! to its doctor (unknown and disconnected ids find no one); no token in plain text; the
//! permissions a check found missing, kept until a reconnect.

mod common;

use clariva::crypto::seal::TokenKeys;
use clariva::db::instagram::{self, NewLink};
use clariva::db::{self, Db, DoctorId};
use clariva::domain::account::Email;
use common::{Backend, TestApp};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, Row};

on_both_databases!(
    an_account_or_page_id_finds_its_doctor_and_no_other,
    an_account_linked_to_one_doctor_is_refused_to_another,
    reconnecting_replaces_the_link_and_disconnecting_deletes_it,
    missing_permissions_are_kept_until_the_doctor_reconnects,
);

const TOKEN: &str = "EAAB-secret-page-token";

struct Practices {
    app: TestApp,
    db: Db,
    keys: TokenKeys,
    asha: DoctorId,
    ben: DoctorId,
}

async fn doctor(app: &TestApp, db: &Db, name: &str) -> DoctorId {
    let email = app.new_doctor(&app.other_browser(), name).await;
    db::doctors::credentials(db, &Email::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .doctor_id
}

async fn practices(backend: Backend) -> Practices {
    let app = TestApp::spawn(backend).await;
    let db = Db::connect(&app.database.app_url, Some(&app.database.url))
        .await
        .unwrap();
    let keys = TokenKeys::parse(&format!("k1:{}", base64_key())).unwrap();
    let asha = doctor(&app, &db, "Asha Rao").await;
    let ben = doctor(&app, &db, "Ben Okafor").await;
    Practices {
        app,
        db,
        keys,
        asha,
        ben,
    }
}

fn base64_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([7_u8; 32])
}

impl Practices {
    /// Links `doctor` to Page `page` and Instagram account `account`.
    async fn link(&self, doctor: &DoctorId, page: &str, account: &str) -> Result<(), sqlx::Error> {
        let token = self.keys.seal(doctor.as_str(), &SecretString::from(TOKEN));
        let mut tx = self.db.tenant(doctor).await?;
        instagram::save(
            &mut tx,
            &NewLink {
                page_id: page,
                instagram_id: account,
                username: "clinic.handle",
                page_name: "The Clinic",
                token: &token,
                token_expires_at: None,
                meta_user_id: "fb-user-1",
            },
        )
        .await?;
        tx.commit().await
    }

    async fn stored(&self, doctor: &DoctorId) -> instagram::StoredLink {
        let mut tx = self.db.tenant(doctor).await.unwrap();
        let link = instagram::get(&mut tx).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        link
    }

    async fn owner(&self, id: &str) -> Option<DoctorId> {
        instagram::doctor_for(&self.db, id).await.unwrap()
    }
}

async fn an_account_or_page_id_finds_its_doctor_and_no_other(backend: Backend) {
    let p = practices(backend).await;
    p.link(&p.asha, "page-1", "ig-1").await.unwrap();
    p.link(&p.ben, "page-2", "ig-2").await.unwrap();
    assert_eq!(p.owner("ig-1").await, Some(p.asha.clone()));
    assert_eq!(p.owner("page-1").await, Some(p.asha.clone()));
    assert_eq!(p.owner("ig-2").await, Some(p.ben.clone()));
    assert_eq!(p.owner("ig-3").await, None);
    assert_eq!(p.owner("").await, None);

    // The stored token opens only for its doctor, and no column holds it in plain text.
    let mut tx = p.db.tenant(&p.asha).await.unwrap();
    let stored = instagram::get(&mut tx).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        p.keys
            .open(p.asha.as_str(), &stored.token)
            .unwrap()
            .expose_secret(),
        TOKEN
    );
    assert!(p.keys.open(p.ben.as_str(), &stored.token).is_err());
    let mut raw = sqlx::AnyConnection::connect(&p.app.database.url)
        .await
        .unwrap();
    for row in sqlx::query("SELECT * FROM instagram_links")
        .fetch_all(&mut raw)
        .await
        .unwrap()
    {
        for column in 0..row.len() {
            if let Ok(Some(text)) = row.try_get::<Option<String>, _>(column) {
                assert!(!text.contains(TOKEN), "column {column} holds the token");
            }
        }
    }
}

async fn an_account_linked_to_one_doctor_is_refused_to_another(backend: Backend) {
    let p = practices(backend).await;
    p.link(&p.asha, "page-1", "ig-1").await.unwrap();
    for (page, account) in [("page-1", "ig-9"), ("page-9", "ig-1")] {
        let refused = p.link(&p.ben, page, account).await.unwrap_err();
        assert!(db::is_unique_violation(&refused), "{refused}");
    }
    assert_eq!(p.owner("ig-1").await, Some(p.asha.clone()));
    assert_eq!(p.owner("page-9").await, None);
}

async fn reconnecting_replaces_the_link_and_disconnecting_deletes_it(backend: Backend) {
    let p = practices(backend).await;
    p.link(&p.asha, "page-1", "ig-1").await.unwrap();
    p.link(&p.asha, "page-2", "ig-2").await.unwrap();
    assert_eq!(
        p.owner("ig-1").await,
        None,
        "the old account is no longer hers"
    );
    assert_eq!(p.owner("ig-2").await, Some(p.asha.clone()));
    // The released account may now be linked by someone else.
    p.link(&p.ben, "page-1", "ig-1").await.unwrap();

    let mut tx = p.db.tenant(&p.asha).await.unwrap();
    let removed = instagram::remove(&mut tx).await.unwrap().unwrap();
    assert_eq!(removed.instagram_id, "ig-2");
    assert_eq!(instagram::get(&mut tx).await.unwrap(), None);
    tx.commit().await.unwrap();
    assert_eq!(p.owner("ig-2").await, None);
    assert_eq!(p.owner("page-2").await, None);
    assert_eq!(p.owner("ig-1").await, Some(p.ben.clone()));
    // Deliveries still coming for the disconnected ids are told apart from unknown ones.
    let disconnected = |id| instagram::was_disconnected(&p.db, id);
    assert!(disconnected("ig-2").await.unwrap());
    assert!(disconnected("page-2").await.unwrap());
    assert!(
        !disconnected("ig-1").await.unwrap(),
        "replaced, not disconnected"
    );
    p.link(&p.ben, "page-2", "ig-2").await.unwrap();
    assert!(!disconnected("ig-2").await.unwrap(), "linked again");
    assert!(!disconnected("page-2").await.unwrap());
}

async fn missing_permissions_are_kept_until_the_doctor_reconnects(backend: Backend) {
    let p = practices(backend).await;
    p.link(&p.asha, "page-1", "ig-1").await.unwrap();
    assert!(p.stored(&p.asha).await.missing_scopes.is_empty());
    let checked = p.stored(&p.asha).await.token;
    let missing = [
        "pages_read_engagement".to_owned(),
        "pages_messaging".to_owned(),
    ];
    let mut tx = p.db.tenant_writer(&p.asha).await.unwrap();
    instagram::record_check(&mut tx, &checked, None, false, &missing)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(p.stored(&p.asha).await.missing_scopes, missing);

    // A later check that finds everything granted clears them.
    let mut tx = p.db.tenant_writer(&p.asha).await.unwrap();
    instagram::record_check(&mut tx, &checked, None, false, &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(p.stored(&p.asha).await.missing_scopes.is_empty());

    // So does reconnecting; and a check of the token from before lands on nothing.
    let mut tx = p.db.tenant_writer(&p.asha).await.unwrap();
    instagram::record_check(&mut tx, &checked, None, false, &missing)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    p.link(&p.asha, "page-1", "ig-1").await.unwrap();
    assert!(p.stored(&p.asha).await.missing_scopes.is_empty());
    let mut tx = p.db.tenant_writer(&p.asha).await.unwrap();
    instagram::record_check(&mut tx, &checked, None, false, &missing)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(p.stored(&p.asha).await.missing_scopes.is_empty());
}
