use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/meta-fixtures/"
);
const DOCTOR_A: &str = "17841400000000011";
const DOCTOR_B: &str = "17841400000000022";
const UNKNOWN_ACCOUNT: &str = "17841499999999999";
const PATIENT_A: &str = "6543210987654321";
const PATIENT_B: &str = "7234567890123456";
const PATIENT_OF_UNKNOWN: &str = "7999999999999999";

/// The fixtures' mids share all but their last four characters.
fn fixture_mid(last: &str) -> String {
    format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDExOjM0MDI4MjM2Njg0MzY5MzY5MjkwNzQ3NTkzNzE4MzAwNjIwMTky{last}")
}

fn fixture_body(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

fn fixture(name: &str) -> Vec<Part> {
    split(&fixture_body(name)).unwrap()
}

fn split_json(delivery: &Value) -> Vec<Part> {
    split(delivery.to_string().as_bytes()).unwrap()
}

fn event(part: &Part) -> &Event {
    part.event.as_ref().unwrap()
}

fn only_event(parts: &[Part]) -> &Event {
    assert_eq!(parts.len(), 1, "{parts:?}");
    event(&parts[0])
}

fn message(event: &Event) -> &Message {
    match &event.kind {
        EventKind::Message(message) => message,
        other => panic!("not a patient's message: {other:?}"),
    }
}

/// A `messaging` item from `sender` to `recipient` carrying `key: value`.
fn item(sender: &str, recipient: &str, timestamp: i64, key: &str, value: Value) -> Value {
    let mut item = json!({
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": timestamp,
    });
    item[key] = value;
    item
}

/// A delivery for doctor A with one item per patient message given.
fn to_doctor_a(items: Vec<Value>) -> Value {
    json!({"object": "instagram", "entry": [
        {"id": DOCTOR_A, "time": 1767300000900_i64, "messaging": items}
    ]})
}

fn from_patient_a(key: &str, value: Value) -> Value {
    item(PATIENT_A, DOCTOR_A, 1767300000123, key, value)
}

// The fixtures, one by one.

#[test]
fn a_text_message_arrives_with_its_accents_and_emoji_unescaped() {
    let parts = fixture("01_text_message.json");
    let event = only_event(&parts);
    assert_eq!(
        (parts[0].entry_id.as_str(), parts[0].position),
        (DOCTOR_A, 0)
    );
    assert_eq!(event.kind_name(), "message");
    assert_eq!(event.account_id, DOCTOR_A);
    assert!(event.fallback_ids.is_empty());
    assert_eq!(event.patient_id, PATIENT_A);
    assert_eq!(event.occurred_at, 1767225600412);
    assert!(!event.standby);
    let message = message(event);
    assert_eq!(message.mid, fixture_mid("MDAx"));
    assert_eq!(
        message.text.as_deref(),
        Some("Hola doctora, ¿puedo agendar una cita para mañana? 🙏")
    );
    assert_eq!(event.dedupe_key(), fixture_mid("MDAx"));
    assert_eq!(parts[0].raw["message"]["mid"], fixture_mid("MDAx").as_str());
}

#[test]
fn a_quick_reply_tap_carries_the_button_title_and_our_payload() {
    let parts = fixture("02_quick_reply.json");
    let message = message(only_event(&parts));
    assert_eq!(message.mid, fixture_mid("MDAy"));
    assert_eq!(message.text.as_deref(), Some("Book appointment"));
    assert_eq!(message.quick_reply.as_deref(), Some("BOOK_APPOINTMENT"));
}

#[test]
fn a_postback_button_carries_its_mid_title_and_payload() {
    let parts = fixture("03_postback_button.json");
    let event = only_event(&parts);
    assert_eq!(
        event.kind,
        EventKind::Postback {
            mid: Some(fixture_mid("MDAz")),
            title: Some("Confirm 10:30".into()),
            payload: Some("CONFIRM_SLOT:2026-01-02T10:30:00+05:30".into()),
        }
    );
    assert_eq!(event.kind_name(), "postback");
    assert_eq!(event.dedupe_key(), fixture_mid("MDAz"));
}

#[test]
fn an_echo_is_the_business_speaking_so_the_patient_is_the_recipient() {
    let parts = fixture("04_echo_human_reply_from_instagram_app.json");
    let event = only_event(&parts);
    let EventKind::Echo(message) = &event.kind else {
        panic!("not an echo: {event:?}");
    };
    assert_eq!(event.kind_name(), "echo");
    assert_eq!(event.account_id, DOCTOR_A);
    assert!(event.fallback_ids.is_empty());
    assert_eq!(event.patient_id, PATIENT_A);
    assert_eq!(message.mid, fixture_mid("MDA0"));
    assert_eq!(
        message.text.as_deref(),
        Some("Hi! This is Dr. Rao, I'll call you in 10 minutes.")
    );
    assert_eq!(event.dedupe_key(), fixture_mid("MDA0"));
}

#[test]
fn an_image_attachment_has_its_url_unescaped() {
    let parts = fixture("05_image_attachment.json");
    let message = message(only_event(&parts));
    assert_eq!(message.text, None);
    assert_eq!(
        message.attachments,
        [Attachment {
            kind: "image".into(),
            url: Some("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18000000000000001&signature=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789".into()),
        }]
    );
}

#[test]
fn a_reaction_then_an_unreact_then_a_read_come_out_in_order() {
    let parts = fixture("07_reaction_and_read.json");
    let mid = fixture_mid("MDA0");
    assert_eq!(
        parts.iter().map(|part| part.position).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let events: Vec<&Event> = parts.iter().map(event).collect();
    assert_eq!(
        events[0].kind,
        EventKind::Reaction {
            mid: mid.clone(),
            react: true,
            reaction: Some("love".into()),
            emoji: Some("\u{2764}\u{FE0F}".into()),
        }
    );
    assert_eq!(
        events[1].kind,
        EventKind::Reaction {
            mid: mid.clone(),
            react: false,
            reaction: None,
            emoji: None,
        }
    );
    assert_eq!(events[2].kind, EventKind::Read { mid: mid.clone() });
    assert_eq!(
        events
            .iter()
            .map(|event| event.dedupe_key())
            .collect::<Vec<_>>(),
        [
            format!("reaction:{mid}:react:1767225969001"),
            format!("reaction:{mid}:unreact:1767225969850"),
            format!("read:{mid}"),
        ]
    );
    assert_eq!(
        events
            .iter()
            .map(|event| event.kind_name())
            .collect::<Vec<_>>(),
        ["reaction", "reaction", "read"]
    );
}

#[test]
fn an_emoji_sent_in_another_form_is_kept_as_sent() {
    for sent in ["❤️", "\\u{zz}", "\\u{}", "\\u{2764}x", "love"] {
        assert_eq!(decode_emoji(sent.into()), sent);
    }
    assert_eq!(decode_emoji("\\u{1F64F}".into()), "🙏");
}

#[test]
fn an_event_in_standby_is_flagged_standby() {
    let parts = fixture("09_standby_not_in_control.json");
    let event = only_event(&parts);
    assert!(event.standby);
    assert_eq!(event.patient_id, PATIENT_A);
    let message = message(event);
    assert_eq!(message.mid, fixture_mid("MDEy"));
    assert_eq!(message.text.as_deref(), Some("Thank you doctor!"));
}

#[test]
fn the_dashboard_test_delivery_is_entry_zero_with_its_seconds_turned_into_ms() {
    let parts = fixture("10_dashboard_test_event.json");
    let event = only_event(&parts);
    assert_eq!(parts[0].entry_id, "0");
    assert_eq!(parts[0].raw["field"], "messages");
    assert_eq!(event.account_id, "0");
    assert_eq!(event.fallback_ids, ["23245"]);
    assert_eq!(event.patient_id, "12334");
    assert_eq!(event.occurred_at, 1_527_459_824_000);
    assert!(!event.standby);
    let message = message(event);
    assert_eq!(message.mid, "random_mid");
    assert_eq!(message.text.as_deref(), Some("random_text"));
}

#[test]
fn every_fixture_splits_into_readable_events() {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let parts = fixture(&name);
        assert!(!parts.is_empty(), "{name}");
        for part in &parts {
            assert!(part.event.is_ok(), "{name}: {part:?}");
        }
    }
}

// Built deliveries.

#[test]
fn a_batched_delivery_keeps_each_entry_with_its_own_account() {
    let delivery = json!({"object": "instagram", "entry": [
        {"id": DOCTOR_A, "time": 1767300000900_i64, "messaging": [
            item(PATIENT_A, DOCTOR_A, 1767300000100, "message", json!({"mid": "m-a1", "text": "hola"})),
            item(PATIENT_A, DOCTOR_A, 1767300000200, "optin", json!({"ref": "welcome"})),
        ]},
        {"id": DOCTOR_B, "time": 1767300000950_i64,
            "messaging": [
                item(PATIENT_B, DOCTOR_B, 1767300000300, "message", json!({"mid": "m-b1", "text": "hello"})),
            ],
            "standby": [
                item(PATIENT_B, DOCTOR_B, 1767300000400, "read", json!({"mid": "m-b1"})),
            ]},
        {"id": UNKNOWN_ACCOUNT, "time": 1767300000990_i64, "messaging": [
            item(PATIENT_OF_UNKNOWN, UNKNOWN_ACCOUNT, 1767300000500, "message", json!({"mid": "m-u1", "text": "hi"})),
        ]},
    ]});
    let parts = split_json(&delivery);
    let summary: Vec<_> = parts
        .iter()
        .map(|part| {
            let event = event(part);
            (
                part.position,
                part.entry_id.as_str(),
                event.account_id.as_str(),
                event.patient_id.as_str(),
                event.kind_name(),
                event.standby,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, DOCTOR_A, DOCTOR_A, PATIENT_A, "message", false),
            (1, DOCTOR_A, DOCTOR_A, PATIENT_A, "other", false),
            (2, DOCTOR_B, DOCTOR_B, PATIENT_B, "message", false),
            (3, DOCTOR_B, DOCTOR_B, PATIENT_B, "read", true),
            (
                4,
                UNKNOWN_ACCOUNT,
                UNKNOWN_ACCOUNT,
                PATIENT_OF_UNKNOWN,
                "message",
                false
            ),
        ]
    );
    assert_eq!(
        event(&parts[1]).kind,
        EventKind::Other {
            key: "optin".into()
        }
    );
    assert_eq!(
        event(&parts[1]).dedupe_key(),
        format!("other:optin:{PATIENT_A}:1767300000200")
    );
    assert_eq!(parts[1].raw["optin"]["ref"], "welcome");
}

#[test]
fn a_broken_item_fails_alone_and_its_neighbours_still_parse() {
    let delivery = json!({"object": "instagram", "entry": [
        {"id": DOCTOR_A, "time": 1767300000900_i64, "messaging": [
            from_patient_a("message", json!({"mid": "m-good-1", "text": "first"})),
            json!({"recipient": {"id": DOCTOR_A}, "timestamp": 1, "message": {"mid": "m-no-sender"}}),
            from_patient_a("message", json!({"text": "secret words without a mid"})),
            from_patient_a("message", json!({"mid": "m-number", "text": 42})),
            from_patient_a("reaction", json!({"mid": "m-good-1", "action": "wave"})),
            json!("secret words instead of an item"),
            item(PATIENT_A, DOCTOR_A, 1, "message", json!({"mid": "m-x", "is_echo": "yes"})),
            from_patient_a("message", json!({"mid": "m-good-2", "text": "last"})),
        ]},
        {"id": DOCTOR_B, "messaging": {"secret": "words"}},
        "secret words instead of an entry",
    ]});
    let parts = split_json(&delivery);
    assert_eq!(
        parts.iter().map(|part| part.position).collect::<Vec<_>>(),
        (0..10).collect::<Vec<u32>>()
    );
    let readable: Vec<bool> = parts.iter().map(|part| part.event.is_ok()).collect();
    assert_eq!(
        readable,
        [true, false, false, false, false, false, false, true, false, false]
    );
    assert_eq!(message(event(&parts[0])).mid, "m-good-1");
    assert_eq!(message(event(&parts[7])).mid, "m-good-2");
    assert_eq!(parts[8].entry_id, DOCTOR_B);
    assert_eq!(parts[9].entry_id, "");
    assert_eq!(parts[9].raw, "secret words instead of an entry");
    for part in &parts {
        if let Err(Unparseable(reason)) = &part.event {
            for content in [
                DOCTOR_A, PATIENT_A, "secret", "words", "42", "m-", "wave", "yes",
            ] {
                assert!(!reason.contains(content), "{reason:?} quotes {content:?}");
            }
        }
    }
}

#[test]
fn an_unsent_message_is_keyed_by_its_mid_and_deleted() {
    let parts = split_json(&to_doctor_a(vec![
        from_patient_a("message", json!({"mid": "m-gone", "is_deleted": true})),
        from_patient_a("message", json!({"mid": "m-gif", "is_unsupported": true})),
    ]));
    let (unsent, unsupported) = (event(&parts[0]), event(&parts[1]));
    assert_eq!(
        unsent.kind,
        EventKind::Unsent {
            mid: "m-gone".into()
        }
    );
    assert_eq!(unsent.kind_name(), "unsent");
    assert_eq!(unsent.dedupe_key(), "m-gone:deleted");
    assert_eq!(
        unsupported.kind,
        EventKind::Unsupported {
            mid: "m-gif".into()
        }
    );
    assert_eq!(unsupported.kind_name(), "unsupported");
    assert_eq!(unsupported.dedupe_key(), "m-gif");
}

#[test]
fn a_story_reply_and_an_inline_reply_say_what_they_answer() {
    let story_url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=s";
    let parts = split_json(&to_doctor_a(vec![
        from_patient_a(
            "message",
            json!({"mid": "m-story", "text": "is this still on?",
                "reply_to": {"story": {"url": story_url, "id": "18000000000000002"}}}),
        ),
        from_patient_a(
            "message",
            json!({"mid": "m-inline", "text": "yes, that one", "reply_to": {"mid": "m-earlier"}}),
        ),
    ]));
    let story = message(event(&parts[0]));
    assert_eq!(story.story_url.as_deref(), Some(story_url));
    assert_eq!(story.reply_to_mid, None);
    let inline = message(event(&parts[1]));
    assert_eq!(inline.reply_to_mid.as_deref(), Some("m-earlier"));
    assert_eq!(inline.story_url, None);
    assert_eq!(inline.text.as_deref(), Some("yes, that one"));
}

#[test]
fn a_referral_from_an_ad_a_shop_or_an_ig_me_link_is_kept() {
    let parts = split_json(&to_doctor_a(vec![
        from_patient_a(
            "message",
            json!({"mid": "m-ad", "text": "info?", "referral": {
                "ref": "spring-checkup", "ad_id": "120200000000001", "source": "ADS",
                "type": "OPEN_THREAD", "ads_context_data": {"ad_title": "Checkup"}}}),
        ),
        from_patient_a(
            "message",
            json!({"mid": "m-ad-no-ref", "referral": {"ad_id": "120200000000001", "source": "ADS"}}),
        ),
        from_patient_a(
            "message",
            json!({"mid": "m-shop", "referral": {"product": {"id": "9000000001"}}}),
        ),
        from_patient_a(
            "referral",
            json!({"ref": "from-bio", "source": "IG_ME", "type": "OPEN_THREAD"}),
        ),
    ]));
    let referrals: Vec<Option<&str>> = parts[..3]
        .iter()
        .map(|part| message(event(part)).referral.as_deref())
        .collect();
    assert_eq!(
        referrals,
        [
            Some("spring-checkup"),
            Some("120200000000001"),
            Some("9000000001")
        ]
    );
    let link = event(&parts[3]);
    assert_eq!(
        link.kind,
        EventKind::Referral {
            reference: Some("from-bio".into()),
            source: Some("IG_ME".into()),
        }
    );
    assert_eq!(link.kind_name(), "referral");
    assert_eq!(
        link.dedupe_key(),
        format!("referral:{PATIENT_A}:1767300000123")
    );
}

#[test]
fn every_kind_has_its_name_and_dedupe_key() {
    let parts = split_json(&to_doctor_a(vec![
        from_patient_a("postback", json!({"title": "Menu"})),
        from_patient_a(
            "message_edit",
            json!({"mid": "m-edited", "text": "new words", "num_edit": 1}),
        ),
        from_patient_a("message", json!({"mid": "m-plain", "text": "hi"})),
    ]));
    let keys: Vec<(&str, String)> = parts
        .iter()
        .map(|part| (event(part).kind_name(), event(part).dedupe_key()))
        .collect();
    assert_eq!(
        keys,
        [
            ("postback", format!("postback:{PATIENT_A}:1767300000123")),
            ("edit", "edit:m-edited:1767300000123".into()),
            ("message", "m-plain".into()),
        ]
    );
    assert_eq!(
        event(&parts[1]).kind,
        EventKind::Edit {
            mid: "m-edited".into(),
            text: Some("new words".into()),
        }
    );
}

#[test]
fn timestamps_may_be_strings_or_seconds_and_fall_back_to_the_entry_time() {
    let at = |timestamp: Value, entry_time: Value| {
        let mut item = from_patient_a("message", json!({"mid": "m"}));
        item["timestamp"] = timestamp;
        let delivery =
            json!({"entry": [{"id": DOCTOR_A, "time": entry_time, "messaging": [item]}]});
        split_json(&delivery)[0]
            .event
            .as_ref()
            .map(|event| event.occurred_at)
            .map_err(|error| error.0.clone())
    };
    let ms = 1_767_300_000_123_i64;
    assert_eq!(at(json!(ms), json!(1)), Ok(ms));
    assert_eq!(at(json!(ms.to_string()), json!(1)), Ok(ms));
    assert_eq!(at(json!(1_767_300_000), json!(1)), Ok(1_767_300_000_000));
    assert_eq!(at(json!("1767300000"), json!(1)), Ok(1_767_300_000_000));
    assert_eq!(at(Value::Null, json!(ms)), Ok(ms));
    assert_eq!(at(Value::Null, json!("1767300000")), Ok(1_767_300_000_000));
    for (timestamp, entry_time) in [
        (Value::Null, Value::Null),
        (Value::Null, json!(true)),
        (json!(true), json!(ms)),
        (json!("soon"), json!(ms)),
        (json!(-5), json!(ms)),
        (json!(1.5), json!(ms)),
    ] {
        assert!(
            at(timestamp.clone(), entry_time.clone()).is_err(),
            "{timestamp} {entry_time}"
        );
    }
}

#[test]
fn without_an_entry_id_the_account_is_the_business_side_of_the_item() {
    let delivery = json!({"entry": [
        {"time": 1767300000900_i64, "messaging": [
            item(PATIENT_A, DOCTOR_A, 1767300000100, "message", json!({"mid": "m-in"})),
            item(DOCTOR_A, PATIENT_A, 1767300000200, "message", json!({"mid": "m-out", "is_echo": true})),
        ]},
        {"id": "100000000000011", "time": 1767300000900_i64, "messaging": [
            item(PATIENT_A, DOCTOR_A, 1767300000300, "message", json!({"mid": "m-page"})),
        ]},
    ]});
    let parts = split_json(&delivery);
    let routes: Vec<_> = parts
        .iter()
        .map(|part| {
            let event = event(part);
            (
                event.account_id.as_str(),
                event.fallback_ids.clone(),
                event.patient_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            (DOCTOR_A, vec![], PATIENT_A),
            (DOCTOR_A, vec![], PATIENT_A),
            ("100000000000011", vec![DOCTOR_A.to_owned()], PATIENT_A),
        ]
    );
}

#[test]
fn a_change_of_another_field_is_kept_as_other() {
    let delivery = json!({"object": "instagram", "entry": [{"id": DOCTOR_A, "time": 1520622968, "changes": [
        {"field": "comments", "value": {"from": {"id": PATIENT_A, "username": "patient"},
            "id": "17865799348089039", "text": "What are your hours?"}},
        {"value": {"text": "no field"}},
    ]}]});
    let parts = split_json(&delivery);
    let comment = event(&parts[0]);
    assert_eq!(
        comment.kind,
        EventKind::Other {
            key: "comments".into()
        }
    );
    assert_eq!(comment.patient_id, PATIENT_A);
    assert_eq!(comment.occurred_at, 1_520_622_968_000);
    assert_eq!(
        parts[1].event,
        Err(Unparseable("change.field is missing or empty".into()))
    );
}

#[test]
fn a_body_that_is_not_an_object_with_an_entry_array_is_unparseable() {
    for body in [
        &b""[..],
        b"not json at all",
        b"{\"entry\": [",
        b"[]",
        b"{}",
        b"\"entry\"",
        b"{\"object\":\"instagram\",\"entry\":\"secret words\"}",
        b"{\"object\":\"instagram\",\"entry\":{\"0\":{\"id\":\"secret\"}}}",
    ] {
        let Err(Unparseable(reason)) = split(body) else {
            panic!("{:?} split", String::from_utf8_lossy(body));
        };
        assert!(!reason.contains("secret"), "{reason}");
    }
    assert_eq!(split(br#"{"object":"instagram","entry":[]}"#), Ok(vec![]));
    assert_eq!(split(br#"{"entry":[{"id":"1","time":1}]}"#), Ok(vec![]));
}

#[test]
fn debug_output_shows_neither_the_words_nor_the_patient() {
    let mut printed = String::new();
    for name in [
        "01_text_message.json",
        "02_quick_reply.json",
        "03_postback_button.json",
        "05_image_attachment.json",
        "07_reaction_and_read.json",
    ] {
        let parts = fixture(name);
        printed += &format!("{parts:?}");
        for part in &parts {
            printed += &format!("{:?}", event(part));
        }
    }
    let story = split_json(&to_doctor_a(vec![from_patient_a(
        "message",
        json!({"mid": "m-story", "text": "about the story",
            "reply_to": {"story": {"url": "https://cdn.example/story", "id": "1"}},
            "referral": {"ref": "campaign-name"}}),
    )]));
    printed += &format!("{story:?}");
    for hidden in [
        PATIENT_A,
        "Hola",
        "Book appointment",
        "BOOK_APPOINTMENT",
        "Confirm",
        "CONFIRM_SLOT",
        "lookaside",
        "https",
        "love",
        "\u{2764}",
        "about the story",
        "campaign-name",
    ] {
        assert!(!printed.contains(hidden), "{hidden:?} in {printed}");
    }
    assert!(printed.contains(&fixture_mid("MDAx")), "{printed}");
    assert!(printed.contains("<redacted, 16 chars>"), "{printed}");
}

#[test]
fn a_part_rebuilt_as_a_delivery_of_its_own_reads_the_same() {
    for delivery in valid_deliveries() {
        for part in split_json(&delivery) {
            let mut entry = json!({"id": part.entry_id, "time": part.entry_time});
            entry[part.container.key()] = json!([part.raw]);
            let alone = split_json(&json!({"object": "instagram", "entry": [entry]}));
            assert_eq!(alone.len(), 1, "{part:?}");
            assert_eq!(alone[0].event, part.event);
            assert_eq!(alone[0].container, part.container);
        }
    }
    let standby = fixture("09_standby_not_in_control.json");
    assert_eq!(
        (standby[0].container.key(), standby[0].entry_time),
        ("standby", Some(1767226092111))
    );
    let test = fixture("10_dashboard_test_event.json");
    assert_eq!(test[0].container, Container::Changes);
}

// Properties.

/// Any JSON value, with object keys often drawn from the delivery's own vocabulary so that
/// random documents reach deep into the parser.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "object",
            "entry",
            "id",
            "time",
            "messaging",
            "standby",
            "changes",
            "field",
            "value",
            "sender",
            "recipient",
            "timestamp",
            "message",
            "mid",
            "text",
            "is_echo",
            "is_deleted",
            "attachments",
            "type",
            "payload",
            "url",
            "postback",
            "read",
            "reaction",
            "action",
            "referral",
            "reply_to",
            "story",
        ])
        .prop_map(String::from),
        "[a-z_]{0,8}",
    ]
    .boxed();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |number| {
            serde_json::Number::from_f64(number).map(Value::Number)
        }),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 96, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Valid deliveries to break: every fixture, and one built with every kind.
fn valid_deliveries() -> Vec<Value> {
    let mut deliveries: Vec<Value> = [
        "01_text_message.json",
        "02_quick_reply.json",
        "03_postback_button.json",
        "04_echo_human_reply_from_instagram_app.json",
        "05_image_attachment.json",
        "07_reaction_and_read.json",
        "09_standby_not_in_control.json",
        "10_dashboard_test_event.json",
    ]
    .into_iter()
    .map(|name| serde_json::from_slice(&fixture_body(name)).unwrap())
    .collect();
    deliveries.push(json!({"object": "instagram", "entry": [
        {"id": DOCTOR_A, "time": 1767300000900_i64,
            "messaging": [
                from_patient_a("message", json!({"mid": "m-rich-message", "text": "hello there",
                    "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/image"}},
                                    {"type": "ephemeral"}],
                    "quick_reply": {"payload": "QUICK_PAYLOAD"},
                    "reply_to": {"story": {"url": "https://cdn.example/story", "id": "18000000000000003"}},
                    "referral": {"ref": "ad-reference", "ad_id": "120200000000002", "product": {"id": "9000000002"}}})),
                from_patient_a("message", json!({"mid": "m-rich-deleted", "is_deleted": true})),
                item(DOCTOR_A, PATIENT_A, 1767300000500, "message",
                    json!({"mid": "m-rich-echo", "text": "see you soon", "is_echo": true})),
                from_patient_a("reaction", json!({"mid": "m-rich-echo", "action": "react",
                    "reaction": "love", "emoji": "\\u{2764}\\u{FE0F}"})),
                from_patient_a("referral", json!({"ref": "link-reference", "source": "IG_ME"})),
                from_patient_a("message_edit", json!({"mid": "m-rich-message", "text": "hello again"})),
            ],
            "standby": [from_patient_a("postback", json!({"mid": "m-rich-postback", "title": "Book now"}))],
            "changes": [{"field": "comments", "value": {"from": {"id": PATIENT_A}, "text": "nice clinic"}}]},
    ]}));
    deliveries
}

/// Every place in `value` as a JSON pointer.
fn pointers(value: &Value, here: &str, found: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(key, child)| (key.replace('~', "~0").replace('/', "~1"), child))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, child)| (i.to_string(), child))
            .collect(),
        _ => return,
    };
    for (token, child) in children {
        let pointer = format!("{here}/{token}");
        found.push(pointer.clone());
        pointers(child, &pointer, found);
    }
}

/// Removes the value at `pointer` (None) or puts `replacement` there.
fn edit(document: &mut Value, pointer: &str, replacement: Option<Value>) {
    if let Some(replacement) = replacement {
        if let Some(target) = document.pointer_mut(pointer) {
            *target = replacement;
        }
        return;
    }
    let Some((parent, token)) = pointer.rsplit_once('/') else {
        return;
    };
    match document.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&token.replace("~1", "/").replace("~0", "~"));
        }
        Some(Value::Array(items)) => {
            if let Some(index) = token.parse::<usize>().ok().filter(|&i| i < items.len()) {
                items.remove(index);
            }
        }
        _ => {}
    }
}

/// Every string in `value` of at least `min` characters.
fn long_strings(value: &Value, min: usize, found: &mut Vec<String>) {
    match value {
        Value::String(text) if text.chars().count() >= min => found.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| long_strings(item, min, found)),
        Value::Object(map) => map.values().for_each(|item| long_strings(item, min, found)),
        _ => {}
    }
}

fn assert_numbered_in_order(parts: &[Part]) -> Result<(), TestCaseError> {
    for (expected, part) in parts.iter().enumerate() {
        prop_assert_eq!(part.position as usize, expected);
    }
    Ok(())
}

proptest! {
    #[test]
    fn split_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = split(&body);
    }

    #[test]
    fn split_never_panics_on_arbitrary_json(
        body in any_json(),
        entries in prop::collection::vec(any_json(), 0..4),
        items in prop::collection::vec(any_json(), 0..4),
    ) {
        let _ = split(body.to_string().as_bytes());
        let parts = split(json!({"entry": entries}).to_string().as_bytes()).unwrap();
        assert_numbered_in_order(&parts)?;
        let delivery = json!({"entry": [{"id": "1", "time": 1, "messaging": items, "standby": items, "changes": items}]});
        let parts = split(delivery.to_string().as_bytes()).unwrap();
        prop_assert_eq!(parts.len(), 3 * items.len());
        assert_numbered_in_order(&parts)?;
    }

    #[test]
    fn a_delivery_with_fields_removed_or_retyped_still_splits_without_quoting_it(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::option::of(any_json())), 1..6),
    ) {
        let deliveries = valid_deliveries();
        let original = which.get(&deliveries);
        let mut delivery = original.clone();
        for (at, replacement) in edits {
            let mut found = Vec::new();
            pointers(&delivery, "", &mut found);
            if !found.is_empty() {
                let pointer: &String = at.get(&found);
                edit(&mut delivery, pointer, replacement);
            }
        }
        let result = split(delivery.to_string().as_bytes());
        prop_assert_eq!(result.is_ok(), delivery.get("entry").is_some_and(Value::is_array));
        let mut content = Vec::new();
        long_strings(original, 8, &mut content);
        let reasons: Vec<String> = match result {
            Ok(parts) => {
                assert_numbered_in_order(&parts)?;
                parts.into_iter().filter_map(|part| part.event.err()).map(|error| error.0).collect()
            }
            Err(error) => vec![error.0],
        };
        for reason in reasons {
            for text in &content {
                prop_assert!(!reason.contains(text.as_str()), "{:?} quotes {:?}", reason, text);
            }
        }
    }
}
