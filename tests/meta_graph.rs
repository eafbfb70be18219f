//! The Graph API client against the fake Meta: the dialog URL, the code and long-lived token
//! exchanges, the person's id, the Pages listing, subscriptions, token checks (with the
//! permissions granted), Meta's errors, and an unreachable Meta; no error ever carries a token.

mod common;

use clariva::meta::graph::{Graph, GraphError, SCOPES};
use common::fake_meta::{self, FakeMeta, FakePage};
use secrecy::{ExposeSecret, SecretString};

const REDIRECT: &str = "https://clariva.example/auth/meta/callback";

fn pages() -> Vec<FakePage> {
    vec![
        FakePage {
            id: "page-1",
            name: "Rao Skin Clinic",
            token: "page-token-1",
            instagram: Some(("ig-1", "raoskin")),
        },
        FakePage {
            id: "page-2",
            name: "Personal page",
            token: "page-token-2",
            instagram: None,
        },
    ]
}

async fn graph() -> (FakeMeta, Graph) {
    let meta = FakeMeta::start(pages()).await;
    let graph = Graph::new(&meta.app(), REDIRECT.into()).unwrap();
    (meta, graph)
}

#[tokio::test]
async fn the_dialog_asks_for_the_messaging_scopes_and_carries_the_state() {
    let (meta, graph) = graph().await;
    let url = reqwest::Url::parse(&graph.dialog("state-123").unwrap()).unwrap();
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        format!("{}/v21.0/dialog/oauth", meta.base_url())
    );
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], fake_meta::APP_ID);
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["state"], "state-123");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], SCOPES.join(" "));
    // Meta lists it for every Instagram messaging webhook field and the user profile API.
    assert!(SCOPES.contains(&"pages_read_engagement"));
    assert!(!url.as_str().contains(fake_meta::APP_SECRET));
}

#[tokio::test]
async fn with_a_login_configuration_the_dialog_names_it_instead_of_scopes() {
    let meta = FakeMeta::start(pages()).await;
    let app = clariva::config::MetaApp {
        login_config_id: Some("1234567890".into()),
        ..meta.app()
    };
    let url = reqwest::Url::parse(
        &Graph::new(&app, REDIRECT.into())
            .unwrap()
            .dialog("s")
            .unwrap(),
    )
    .unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["config_id"], "1234567890");
    assert!(!query.contains_key("scope"));
    assert_eq!(query["state"], "s");
}

#[tokio::test]
async fn a_code_becomes_a_long_lived_token_that_lists_the_pages() {
    let (meta, graph) = graph().await;
    let short = graph.exchange_code(fake_meta::GOOD_CODE).await.unwrap();
    assert_eq!(short.token.expose_secret(), fake_meta::SHORT_TOKEN);
    let long = graph.long_lived(&short.token).await.unwrap();
    assert_eq!(long.token.expose_secret(), fake_meta::LONG_TOKEN);
    assert_eq!(long.expires_in.unwrap().as_secs(), 5_183_944);
    let pages = graph.pages(&long.token).await.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].name, "Rao Skin Clinic");
    assert_eq!(pages[0].token.expose_secret(), "page-token-1");
    assert_eq!(pages[0].instagram.as_ref().unwrap().username, "raoskin");
    assert!(pages[1].instagram.is_none());
    assert_eq!(
        meta.calls(),
        ["exchange code", "long-lived token", "list pages"]
    );
}

#[tokio::test]
async fn pages_are_subscribed_and_unsubscribed_with_their_own_token() {
    let (meta, graph) = graph().await;
    let token = SecretString::from("page-token-1");
    graph.subscribe("page-1", &token).await.unwrap();
    graph.unsubscribe("page-1", &token).await.unwrap();
    assert_eq!(meta.calls(), ["subscribe page-1", "unsubscribe page-1"]);
    let fields = "subscribed_fields=messages%2Cmessaging_postbacks%2Cmessaging_seen\
                  %2Cmessage_reactions%2Cstandby&";
    let requests = meta.requests();
    assert!(
        requests[0].starts_with(&format!("POST /v21.0/page-1/subscribed_apps?{fields}")),
        "{requests:?}"
    );
    let wrong = graph
        .subscribe("page-2", &SecretString::from("page-token-1"))
        .await;
    assert_eq!(wrong, Err(GraphError::TokenRejected));
}

#[tokio::test]
async fn metas_errors_are_told_apart_and_never_carry_a_token() {
    let (_meta, graph) = graph().await;
    let bad_code = graph.exchange_code("forged").await.err().unwrap();
    assert!(
        matches!(&bad_code, GraphError::Refused { code: 100, .. }),
        "{bad_code:?}"
    );
    let rejected = graph
        .pages(&SecretString::from("expired-user-token"))
        .await
        .err()
        .unwrap();
    assert_eq!(rejected, GraphError::TokenRejected);
    let rejected = graph
        .long_lived(&SecretString::from("stale-short-token"))
        .await
        .err()
        .unwrap();
    assert_eq!(rejected, GraphError::TokenRejected);
    for error in [bad_code, rejected] {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("token-") && !shown.contains(fake_meta::APP_SECRET));
    }
}

#[tokio::test]
async fn an_unreachable_meta_is_reported_without_the_url_or_token() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut app = FakeMeta::start(pages()).await.app();
    app.graph_base_url = format!("http://{addr}");
    let graph = Graph::new(&app, REDIRECT.into()).unwrap();
    let error = graph
        .pages(&SecretString::from("secret-user-token"))
        .await
        .err()
        .unwrap();
    assert!(matches!(error, GraphError::Unreachable(_)), "{error:?}");
    assert!(!error.to_string().contains("secret-user-token"));
    assert!(!error.to_string().contains(fake_meta::APP_SECRET));
}

#[tokio::test]
async fn the_person_and_their_tokens_health_are_asked_of_meta() {
    let (meta, graph) = graph().await;
    let long = SecretString::from(fake_meta::LONG_TOKEN);
    assert_eq!(graph.me(&long).await.unwrap(), fake_meta::USER_ID);
    let page = SecretString::from("page-token-1");
    let fine = graph.check(&page).await.unwrap();
    assert_eq!((fine.valid, fine.expires_at), (true, None));
    assert_eq!(fine.scopes, SCOPES);
    assert!(fine.missing_scopes().is_empty());
    // A token granted before Clariva asked for pages_read_engagement.
    meta.grant_only(
        "page-token-1",
        &[
            "pages_messaging",
            "instagram_basic",
            "instagram_manage_messages",
        ],
    );
    let short = graph.check(&page).await.unwrap();
    assert!(short.valid);
    assert_eq!(
        short.missing_scopes(),
        [
            "pages_show_list",
            "pages_manage_metadata",
            "pages_read_engagement"
        ]
    );
    // It stops working at the earlier of its expiry and its data access's.
    meta.lapse_data_access("page-token-1", 1_797_000_000);
    let lapsing = graph.check(&page).await.unwrap().expires_at;
    assert_eq!(lapsing, Some(1_797_000_000));
    meta.expire("page-token-1", 1_796_000_000);
    let expiring = graph.check(&page).await.unwrap().expires_at;
    assert_eq!(expiring, Some(1_796_000_000));
    meta.revoke("page-token-1");
    assert!(!graph.check(&page).await.unwrap().valid);
    let unknown = graph.check(&SecretString::from("nobody's")).await.unwrap();
    assert!(!unknown.valid);
}

#[tokio::test]
async fn every_page_of_a_long_list_of_pages_is_read() {
    let many: Vec<FakePage> = ["a", "b", "c", "d", "e"]
        .into_iter()
        .map(|n| FakePage {
            id: Box::leak(format!("page-{n}").into_boxed_str()),
            name: Box::leak(format!("Clinic {n}").into_boxed_str()),
            token: Box::leak(format!("page-token-{n}").into_boxed_str()),
            instagram: Some((Box::leak(format!("ig-{n}").into_boxed_str()), "clinic")),
        })
        .collect();
    let meta = FakeMeta::start(many).await;
    let graph = Graph::new(&meta.app(), REDIRECT.into()).unwrap();
    let pages = graph
        .pages(&SecretString::from(fake_meta::LONG_TOKEN))
        .await
        .unwrap();
    let names: Vec<_> = pages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["Clinic a", "Clinic b", "Clinic c", "Clinic d", "Clinic e"]
    );
    assert_eq!(
        meta.calls(),
        ["list pages", "list pages", "list pages"],
        "two per answer"
    );
}

#[tokio::test]
async fn the_app_secret_is_in_no_address_and_every_call_with_a_token_proves_it() {
    let (meta, graph) = graph().await;
    let short = graph.exchange_code(fake_meta::GOOD_CODE).await.unwrap();
    let long = graph.long_lived(&short.token).await.unwrap();
    graph.me(&long.token).await.unwrap();
    graph.pages(&long.token).await.unwrap();
    let page = SecretString::from("page-token-1");
    graph.subscribe("page-1", &page).await.unwrap();
    assert!(graph.check(&page).await.unwrap().valid);
    graph.unsubscribe("page-1", &page).await.unwrap();
    let requests = meta.requests();
    assert_eq!(requests.len(), 7, "{requests:?}");
    for request in &requests {
        assert!(!request.contains(fake_meta::APP_SECRET), "{request}");
    }
    // The fake refuses any call with a token but without its proof, so these all carried one.
    let with_proof = requests
        .iter()
        .filter(|r| r.contains("appsecret_proof="))
        .count();
    assert_eq!(with_proof, 5, "{requests:?}");
}
