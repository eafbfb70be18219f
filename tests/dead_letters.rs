//! Operators and the dead letters (issue 11, item 9): letters counted by reason and account,
//! one shown without its message, an account's letters replayed to the doctor who connected
//! it (once), purges, the retention housekeeping applies, and `clariva dead-letters` as an
//! operator types it.

mod common;

use std::process::{Command, Output};

use clariva::config::Config;
use clariva::db::Db;
use clariva::inbox::dead_letters::{self, Count, DeadLetterError, Expired, Purge};
use common::meta_flow::{app_with_meta, KEYS};
use common::webhook::{
    count, deliver, delivery, entry, linked_doctor, owner, page, settled, text_event, thread,
};
use common::{Backend, TestApp};
use serde_json::json;
use sqlx::Row;

on_both_databases!(
    letters_are_counted_by_reason_and_account_and_shown_without_their_message,
    replay_waits_for_a_doctor_then_routes_the_letters_to_them_once,
    purge_deletes_the_letters_it_names_and_says_how_many,
    housekeeping_deletes_processed_deliveries_after_7_days_and_letters_after_30,
);

const UNKNOWN: &str = "17841499999999999";
const OTHER_UNKNOWN: &str = "17841488888888888";
const THIRD_UNKNOWN: &str = "17841477777777777";
/// The account a doctor links in the housekeeping test.
const LINKED: &str = "17841400000000011";
const PATIENT: &str = "7999999999999999";
const AT: i64 = 1_767_225_600_000;
const DAY: i64 = 24 * 60 * 60 * 1000;

/// The database and configuration an operator's `clariva dead-letters` runs with.
async fn operator(app: &TestApp) -> (Db, Config) {
    let vars = [
        ("DATABASE_URL", app.database.app_url.as_str()),
        ("DATABASE_MIGRATION_URL", app.database.url.as_str()),
        ("TOKEN_KEYS", KEYS),
        ("SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ];
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .unwrap();
    let db = Db::connect(
        &config.database_url,
        config.database_migration_url.as_deref(),
    )
    .await
    .unwrap();
    (db, config)
}

/// Delivers one text message per `(account, mid, text)`, each in an entry of its own, and
/// waits for the worker.
async fn messages_for(app: &TestApp, messages: &[(&str, &str, &str)]) {
    let entries = messages
        .iter()
        .enumerate()
        .map(|(i, (account, mid, text))| {
            let at = AT + i64::try_from(i).unwrap();
            entry(account, vec![text_event(PATIENT, account, mid, at, text)])
        })
        .collect();
    deliver(app, &delivery(entries)).await;
    settled(app).await;
}

async fn letter_ids(app: &TestApp, account: &str) -> Vec<String> {
    let mut db = owner(app).await;
    sqlx::query("SELECT id FROM dead_letters WHERE account_id = $1 ORDER BY id")
        .bind(account)
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("id"))
        .collect()
}

fn waiting(reason: &str, account: &str, letters: i64) -> Count {
    Count {
        reason: reason.to_owned(),
        account_id: account.to_owned(),
        letters,
    }
}

async fn letters_are_counted_by_reason_and_account_and_shown_without_their_message(
    backend: Backend,
) {
    let meta = common::fake_meta::FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (db, _) = operator(&app).await;
    assert_eq!(
        dead_letters::counts(&db).await.unwrap().to_string(),
        "No dead letters waiting.\n"
    );
    messages_for(
        &app,
        &[
            (UNKNOWN, "mid.u1", "secret symptom"),
            (UNKNOWN, "mid.u2", "still there?"),
            (OTHER_UNKNOWN, "mid.o1", "hello"),
        ],
    )
    .await;
    deliver(
        &app,
        &delivery(vec![
            json!({"id": OTHER_UNKNOWN, "time": 1, "messaging": [{"sender": {"id": PATIENT}}]}),
        ]),
    )
    .await;
    settled(&app).await;

    let counts = dead_letters::counts(&db).await.unwrap();
    assert_eq!(
        counts.0,
        [
            waiting("unknown_account", OTHER_UNKNOWN, 1),
            waiting("unknown_account", UNKNOWN, 2),
            waiting("unparseable", OTHER_UNKNOWN, 1),
        ]
    );
    let printed = counts.to_string();
    assert!(printed.starts_with("reason"), "{printed}");
    assert!(
        printed
            .lines()
            .any(|line| line.split_whitespace().collect::<Vec<_>>()
                == ["unknown_account", UNKNOWN, "2"]),
        "{printed}"
    );

    let id = letter_ids(&app, UNKNOWN).await.remove(0);
    let shown = dead_letters::show(&db, &id).await.unwrap().to_string();
    for expected in [id.as_str(), "unknown_account", UNKNOWN, "replayed  not yet"] {
        assert!(shown.contains(expected), "{expected} missing from {shown}");
    }
    for message in ["secret symptom", "still there", "mid.u", PATIENT] {
        assert!(!shown.contains(message), "{message} shown in {shown}");
    }
    assert!(matches!(
        dead_letters::show(&db, "no-such-letter").await,
        Err(DeadLetterError::NoSuchLetter(_))
    ));
    db.close().await;
    app.stop().await;
}

async fn replay_waits_for_a_doctor_then_routes_the_letters_to_them_once(backend: Backend) {
    let meta = common::fake_meta::FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (db, config) = operator(&app).await;
    messages_for(
        &app,
        &[
            (UNKNOWN, "mid.1", "first"),
            (UNKNOWN, "mid.2", "second"),
            (OTHER_UNKNOWN, "mid.other", "not theirs"),
        ],
    )
    .await;
    let deliveries = "SELECT COUNT(*) FROM webhook_deliveries";
    let before = count(&app, deliveries).await;

    let refused = dead_letters::replay(&db, &config, UNKNOWN).await;
    assert!(
        matches!(&refused, Err(DeadLetterError::NotConnected(account)) if account == UNKNOWN),
        "{refused:?}"
    );
    assert!(refused.unwrap_err().to_string().contains(UNKNOWN));
    assert_eq!(count(&app, deliveries).await, before, "nothing replayed");
    assert_eq!(
        dead_letters::counts(&db).await.unwrap().0,
        [
            waiting("unknown_account", OTHER_UNKNOWN, 1),
            waiting("unknown_account", UNKNOWN, 2),
        ]
    );

    let (_, doctor) = linked_doctor(&app, &meta, page("100000000000099", UNKNOWN, "late")).await;
    let replayed = dead_letters::replay(&db, &config, UNKNOWN).await.unwrap();
    assert_eq!((replayed.letters, replayed.unopenable), (2, 0));
    assert_eq!(replayed.doctor_id, doctor);
    assert!(replayed.to_string().starts_with("Replayed 2 letter(s)"));
    assert_eq!(count(&app, deliveries).await, before + 2);
    settled(&app).await;
    let mids = || async {
        thread(&app, &doctor)
            .await
            .into_iter()
            .map(|message| message.2.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(mids().await, ["mid.1", "mid.2"]);
    assert_eq!(
        dead_letters::counts(&db).await.unwrap().0,
        [waiting("unknown_account", OTHER_UNKNOWN, 1)],
        "replayed letters no longer wait"
    );
    let id = letter_ids(&app, UNKNOWN).await.remove(0);
    let shown = dead_letters::show(&db, &id).await.unwrap().to_string();
    assert!(!shown.contains("not yet"), "{shown}");

    let again = dead_letters::replay(&db, &config, UNKNOWN).await.unwrap();
    assert_eq!(again.letters, 0, "a letter is replayed once");
    assert_eq!(count(&app, deliveries).await, before + 2);
    // Even letters forced through a second time land once.
    let mut owner = owner(&app).await;
    sqlx::query("UPDATE dead_letters SET replayed_at = NULL")
        .execute(&mut owner)
        .await
        .unwrap();
    let forced = dead_letters::replay(&db, &config, UNKNOWN).await.unwrap();
    assert_eq!(forced.letters, 2);
    settled(&app).await;
    assert_eq!(mids().await, ["mid.1", "mid.2"]);
    assert_eq!(count(&app, "SELECT unread FROM conversations").await, 2);
    db.close().await;
    app.stop().await;
}

async fn purge_deletes_the_letters_it_names_and_says_how_many(backend: Backend) {
    let meta = common::fake_meta::FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (db, _) = operator(&app).await;
    messages_for(
        &app,
        &[
            (UNKNOWN, "mid.1", "one"),
            (UNKNOWN, "mid.2", "two"),
            (OTHER_UNKNOWN, "mid.3", "three"),
            (THIRD_UNKNOWN, "mid.4", "four"),
        ],
    )
    .await;
    let now = clariva::db::now_millis();
    let of_account = |account: &str| Purge {
        account_id: Some(account.to_owned()),
        older_than_days: None,
    };

    let purged = dead_letters::purge(&db, &of_account(UNKNOWN), now)
        .await
        .unwrap();
    assert_eq!(purged.deleted, 2);
    assert_eq!(
        purged.to_string(),
        format!("Deleted 2 dead letter(s) of account {UNKNOWN}.\n")
    );
    let older = Purge {
        account_id: Some(OTHER_UNKNOWN.to_owned()),
        older_than_days: Some(1),
    };
    let fresh = dead_letters::purge(&db, &older, now).await.unwrap();
    assert_eq!(fresh.deleted, 0, "nothing is a day old yet");
    let aged = dead_letters::purge(&db, &older, now + 2 * DAY)
        .await
        .unwrap();
    assert_eq!(aged.deleted, 1);
    assert_eq!(
        aged.to_string(),
        format!(
            "Deleted 1 dead letter(s) of account {OTHER_UNKNOWN} created more than 1 day(s) ago.\n"
        )
    );
    assert_eq!(
        dead_letters::counts(&db).await.unwrap().0,
        [waiting("unknown_account", THIRD_UNKNOWN, 1)]
    );
    let all = dead_letters::purge(&db, &Purge::default(), now)
        .await
        .unwrap();
    assert_eq!(all.to_string(), "Deleted 1 dead letter(s) (all of them).\n");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM dead_letters").await, 0);
    db.close().await;
    app.stop().await;
}

async fn housekeeping_deletes_processed_deliveries_after_7_days_and_letters_after_30(
    backend: Backend,
) {
    let meta = common::fake_meta::FakeMeta::start(vec![]).await;
    let app = app_with_meta(backend, &meta).await;
    let (db, config) = operator(&app).await;
    let (_, doctor) = linked_doctor(&app, &meta, page("100000000000011", LINKED, "a")).await;
    messages_for(
        &app,
        &[
            (LINKED, "mid.routed", "for the doctor"),
            (UNKNOWN, "mid.dead", "for nobody"),
        ],
    )
    .await;
    messages_for(&app, &[(LINKED, "mid.later", "again")]).await;
    // A delivery the worker has not split yet is kept however old it is.
    let mut owner = owner(&app).await;
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, received_at, body_sealed, key_id, next_attempt_at)
         VALUES ('not-yet-split', 0, 'sealed', 'k1', $1)",
    )
    .bind(i64::MAX / 2)
    .execute(&mut owner)
    .await
    .unwrap();
    let deliveries = "SELECT COUNT(*) FROM webhook_deliveries";
    let letters = "SELECT COUNT(*) FROM dead_letters";
    assert_eq!(count(&app, deliveries).await, 3);
    assert_eq!(count(&app, letters).await, 1);
    let retention = config.retention;
    let now = clariva::db::now_millis();

    let today = dead_letters::delete_expired(&db, retention, now)
        .await
        .unwrap();
    assert_eq!(today, Expired::default());
    let in_8_days = dead_letters::delete_expired(&db, retention, now + 8 * DAY)
        .await
        .unwrap();
    assert_eq!(
        in_8_days,
        Expired {
            deliveries: 2,
            letters: 0
        }
    );
    let kept: String = sqlx::query("SELECT id FROM webhook_deliveries")
        .fetch_one(&mut owner)
        .await
        .unwrap()
        .get("id");
    assert_eq!(kept, "not-yet-split");
    assert_eq!(count(&app, letters).await, 1, "letters are kept 30 days");
    let in_31_days = dead_letters::delete_expired(&db, retention, now + 31 * DAY)
        .await
        .unwrap();
    assert_eq!(
        in_31_days,
        Expired {
            deliveries: 0,
            letters: 1
        }
    );
    assert_eq!(
        thread(&app, &doctor).await.len(),
        2,
        "routed messages are not the deliveries'"
    );
    db.close().await;
    app.stop().await;
}

/// `clariva dead-letters ARGS` against a fresh SQLite database in `dir`.
fn clariva(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clariva"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .arg("dead-letters")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_command_line_prints_its_usage_for_bad_arguments_and_works_the_database() {
    let dir = std::env::temp_dir().join(format!("clariva-dead-letters-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for bad in [
        &["list"][..],
        &["show"],
        &["show", "a", "b"],
        &["replay"],
        &["purge"],
        &["purge", "--account"],
        &["purge", "--older-than-days", "soon"],
        &["purge", "--all", "--account", "x"],
        &["purge", "--account", "x", "--account", "y"],
    ] {
        let output = clariva(&dir, bad);
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("usage: clariva dead-letters"),
            "{bad:?}: {stderr}"
        );
    }
    assert!(
        !dir.join("clariva.db").exists(),
        "bad arguments open nothing"
    );

    let stdout = |output: &Output| String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();
    let counts = clariva(&dir, &[]);
    assert!(counts.status.success(), "{}", stderr(&counts));
    assert!(stdout(&counts).contains("No dead letters waiting."));
    let purge = clariva(&dir, &["purge", "--all"]);
    assert!(purge.status.success(), "{}", stderr(&purge));
    assert!(stdout(&purge).contains("Deleted 0 dead letter(s) (all of them)."));
    let purge = clariva(
        &dir,
        &["purge", "--older-than-days", "30", "--account", "1"],
    );
    assert!(purge.status.success(), "{}", stderr(&purge));
    assert!(stdout(&purge).contains("of account 1 created more than 30 day(s) ago"));
    let show = clariva(&dir, &["show", "no-such-letter"]);
    assert_eq!(show.status.code(), Some(1));
    assert!(stderr(&show).contains("no dead letter has the id no-such-letter"));
    let replay = clariva(&dir, &["replay", UNKNOWN]);
    assert_eq!(replay.status.code(), Some(1));
    assert!(stderr(&replay).contains("no doctor has connected"));
    let _ = std::fs::remove_dir_all(&dir);
}
