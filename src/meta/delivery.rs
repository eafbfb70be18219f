//! One webhook delivery from Meta's Instagram messaging (Messenger-Platform path,
//! `object: "instagram"`), split into the events it carries. Pure: bytes in, values out.
//!
//! A delivery may batch several entries (several doctors' accounts) and each entry several
//! events, in `messaging` (normal), `standby` (another app controls the thread) and `changes`
//! (the dashboard's Test button, comments). Each becomes a [`Part`] that keeps its raw JSON, so
//! a part that cannot be read is dead-lettered on its own while its neighbours go on.
//!
//! Patients' words, URLs and ids stay out of `Debug` output and out of every [`Unparseable`]
//! reason, so parts and events can be logged as they are.

use std::fmt;

use serde_json::{Map, Value};

/// Why a delivery, or one event in it, could not be read: a short reason that never quotes
/// the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unparseable(pub String);

/// One event of a delivery, as it sat in the body.
#[derive(Clone, PartialEq)]
pub struct Part {
    /// `entry.id` as sent (`"0"` for the dashboard's Test button); empty if missing or not a string.
    pub entry_id: String,
    /// `entry.time` in epoch milliseconds (same rule as [`Event::occurred_at`]); None if
    /// missing or not a time. With `entry_id` and `container` it rebuilds the part as a
    /// delivery of its own.
    pub entry_time: Option<i64>,
    /// The list the item sat in (`Messaging` for an entry that is not an object).
    pub container: Container,
    /// Running count over the whole delivery: entries in order, and within an entry its
    /// `messaging`, then `standby`, then `changes` items in order. Unique within the delivery.
    pub position: u32,
    /// The item exactly as sent (for `changes`, the whole `{field, value}` item), for storing
    /// and dead-lettering.
    pub raw: Value,
    /// The event, or why it could not be read.
    pub event: Result<Event, Unparseable>,
}

/// The list of an entry an item sat in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Messaging,
    /// Another app controls the thread: store, never answer.
    Standby,
    Changes,
}

impl Container {
    /// The entry's key for this list.
    pub fn key(self) -> &'static str {
        match self {
            Self::Messaging => "messaging",
            Self::Standby => "standby",
            Self::Changes => "changes",
        }
    }
}

/// An event read from a part.
#[derive(Clone, PartialEq)]
pub struct Event {
    /// The business's Instagram account: `entry.id`, or if that is missing or empty the
    /// recipient id (sender id for echoes).
    pub account_id: String,
    /// Other ids worth trying when routing `account_id` finds no doctor: the recipient id
    /// (sender id for echoes) when it differs from `account_id`.
    pub fallback_ids: Vec<String>,
    /// The patient's Instagram-scoped id: sender id, or recipient id for echoes. Empty for a
    /// `changes` item that names nobody.
    pub patient_id: String,
    /// When it happened, epoch milliseconds: the item's `timestamp`, else `entry.time`
    /// (numbers or numeric strings; below 10^12 they are seconds).
    pub occurred_at: i64,
    /// Delivered in `standby` (another app controls the thread): store, never answer.
    pub standby: bool,
    pub kind: EventKind,
}

/// What happened, by the key the item carries.
#[derive(Clone, PartialEq)]
pub enum EventKind {
    /// A patient's message: text and/or attachments, perhaps a quick reply, a reply to a
    /// message or story, or the ad or shop it came from.
    Message(Message),
    /// A message the business sent, by our app or by a person in the Instagram app (`is_echo`).
    Echo(Message),
    /// `is_deleted`: the patient unsent message `mid`.
    Unsent { mid: String },
    /// `is_unsupported`: media the API cannot deliver.
    Unsupported { mid: String },
    /// A tapped button, ice breaker or menu item. `payload` comes only to the app that sent
    /// the button, so in standby it is often missing.
    Postback {
        mid: Option<String>,
        title: Option<String>,
        payload: Option<String>,
    },
    /// The patient saw everything up to message `mid`.
    Read { mid: String },
    /// `react` is false for an unreact, which carries neither `reaction` nor `emoji`.
    Reaction {
        mid: String,
        react: bool,
        reaction: Option<String>,
        emoji: Option<String>,
    },
    /// An ig.me link with a `ref` opened inside an existing conversation.
    Referral {
        reference: Option<String>,
        source: Option<String>,
    },
    /// `message_edit` (documented for Messenger only): read if it ever comes.
    Edit { mid: String, text: Option<String> },
    /// A kind we don't know (the key it carries, e.g. `optin`), or a `changes` item whose
    /// field we don't handle. Kept, ignored.
    Other { key: String },
}

/// A message, the patient's or an echo of the business's.
#[derive(Clone, PartialEq, Default)]
pub struct Message {
    pub mid: String,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Our payload of the quick reply tapped (`text` is then the button's title).
    pub quick_reply: Option<String>,
    /// The message this one answers inline.
    pub reply_to_mid: Option<String>,
    /// The story this one answers.
    pub story_url: Option<String>,
    /// `referral.ref`, else `referral.ad_id`, else `referral.product.id`: the ad or shop
    /// product that started the conversation.
    pub referral: Option<String>,
}

/// A file, image, share… sent with a message.
#[derive(Clone, PartialEq)]
pub struct Attachment {
    /// Meta's `type`: `image`, `video`, `audio`, `file`, `share`, `story_mention`, `ig_reel`,
    /// `ig_post`, `ephemeral`, ….
    pub kind: String,
    /// A CDN URL that stops working once the content is deleted or expires. None for view-once
    /// media.
    pub url: Option<String>,
}

impl Event {
    /// The idempotency key, unique per doctor: retries and double subscriptions carry the
    /// same key. Message, echo, unsupported: the mid; unsent: `<mid>:deleted`; postback: its
    /// mid or `postback:<patient>:<ms>`; read: `read:<mid>`; reaction:
    /// `reaction:<mid>:<react|unreact>:<ms>`; referral: `referral:<patient>:<ms>`; edit:
    /// `edit:<mid>:<ms>`; other: `other:<key>:<patient>:<ms>`.
    pub fn dedupe_key(&self) -> String {
        let (patient, at) = (&self.patient_id, self.occurred_at);
        match &self.kind {
            EventKind::Message(message) | EventKind::Echo(message) => message.mid.clone(),
            EventKind::Unsent { mid } => format!("{mid}:deleted"),
            EventKind::Unsupported { mid } => mid.clone(),
            EventKind::Postback { mid: Some(mid), .. } => mid.clone(),
            EventKind::Postback { mid: None, .. } => format!("postback:{patient}:{at}"),
            EventKind::Read { mid } => format!("read:{mid}"),
            EventKind::Reaction { mid, react, .. } => {
                let action = if *react { "react" } else { "unreact" };
                format!("reaction:{mid}:{action}:{at}")
            }
            EventKind::Referral { .. } => format!("referral:{patient}:{at}"),
            EventKind::Edit { mid, .. } => format!("edit:{mid}:{at}"),
            EventKind::Other { key } => format!("other:{key}:{patient}:{at}"),
        }
    }

    /// Short name for storage and logs.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            EventKind::Message(_) => "message",
            EventKind::Echo(_) => "echo",
            EventKind::Unsent { .. } => "unsent",
            EventKind::Unsupported { .. } => "unsupported",
            EventKind::Postback { .. } => "postback",
            EventKind::Read { .. } => "read",
            EventKind::Reaction { .. } => "reaction",
            EventKind::Referral { .. } => "referral",
            EventKind::Edit { .. } => "edit",
            EventKind::Other { .. } => "other",
        }
    }
}

/// Splits one delivery body (the raw bytes Meta POSTed, already signature-checked) into its
/// parts: every entry × every item of `messaging` and `standby` (standby = true), and every
/// item of `changes`. An entry that is not an object, or a list that is not an array, becomes
/// one unreadable part. Err only when the body as a whole is not a JSON object with an
/// `entry` array.
pub fn split(body: &[u8]) -> Result<Vec<Part>, Unparseable> {
    let delivery: Value = serde_json::from_slice(body).map_err(|error| {
        bad(format!(
            "the body is not JSON (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    let entries = delivery
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the body is not an object with an entry array"))?;
    let mut parts = Vec::new();
    for entry in entries {
        split_entry(entry, &mut parts);
    }
    Ok(parts)
}

/// What an entry lends its events.
struct Entry<'a> {
    id: &'a str,
    time: Option<&'a Value>,
}

fn split_entry(value: &Value, parts: &mut Vec<Part>) {
    let entry = Entry {
        id: value.get("id").and_then(Value::as_str).unwrap_or_default(),
        time: value.get("time"),
    };
    let entry_time = entry.time.and_then(epoch_ms);
    let mut push = |container, raw: &Value, event| {
        parts.push(Part {
            entry_id: entry.id.to_owned(),
            entry_time,
            container,
            position: u32::try_from(parts.len()).unwrap_or(u32::MAX),
            raw: raw.clone(),
            event,
        })
    };
    if !value.is_object() {
        let event = Err(bad("entry is not an object"));
        return push(Container::Messaging, value, event);
    }
    for container in [Container::Messaging, Container::Standby, Container::Changes] {
        let key = container.key();
        match value.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let event = match container {
                        Container::Changes => change_event(&entry, item),
                        _ => messaging_event(&entry, item, container == Container::Standby),
                    };
                    push(container, item, event);
                }
            }
            Some(other) => {
                let event = Err(bad(format!("entry.{key} is not an array")));
                push(container, other, event);
            }
        }
    }
}

/// An item of `messaging` or `standby`, or the `value` of a `messages` change.
fn messaging_event(entry: &Entry, item: &Value, standby: bool) -> Result<Event, Unparseable> {
    let item = Fields::of("item", item)?;
    let sender = item.need("sender")?.required("id")?;
    let recipient = item.need("recipient")?.required("id")?;
    let kind = kind_of(item)?;
    let echo = match item.fields("message")? {
        Some(message) => message.flag("is_echo")?,
        None => false,
    };
    let (business, patient_id) = if echo {
        (sender, recipient)
    } else {
        (recipient, sender)
    };
    let (account_id, fallback_ids) = accounts(entry, Some(business))?;
    Ok(Event {
        account_id,
        fallback_ids,
        patient_id,
        occurred_at: occurred_at(entry, item.get("timestamp"))?,
        standby,
        kind,
    })
}

/// An item of `changes`: `{field, value}`. Only `messages` (what the dashboard's Test button
/// sends) is read; other fields are kept as [`EventKind::Other`].
fn change_event(entry: &Entry, item: &Value) -> Result<Event, Unparseable> {
    let change = Fields::of("change", item)?;
    let field = change.required("field")?;
    let value = change.get("value");
    if field == "messages" {
        let value = value.ok_or_else(|| bad("change.value is missing"))?;
        return messaging_event(entry, value, false);
    }
    let value = value.unwrap_or(&Value::Null);
    let patient_id = ["/sender/id", "/from/id"]
        .into_iter()
        .find_map(|pointer| value.pointer(pointer).and_then(Value::as_str))
        .unwrap_or_default();
    let (account_id, fallback_ids) = accounts(entry, None)?;
    Ok(Event {
        account_id,
        fallback_ids,
        patient_id: patient_id.to_owned(),
        occurred_at: occurred_at(entry, value.get("timestamp"))?,
        standby: false,
        kind: EventKind::Other { key: field },
    })
}

/// The account to route by and the ids to try after it.
fn accounts(entry: &Entry, business: Option<String>) -> Result<(String, Vec<String>), Unparseable> {
    match (entry.id, business) {
        ("", Some(business)) => Ok((business, Vec::new())),
        ("", None) => Err(bad("entry.id is missing and the item names no account")),
        (id, business) => {
            let fallback = business.filter(|business| business != id);
            Ok((id.to_owned(), fallback.into_iter().collect()))
        }
    }
}

/// The item's timestamp, else the entry's time, in epoch milliseconds.
fn occurred_at(entry: &Entry, timestamp: Option<&Value>) -> Result<i64, Unparseable> {
    match timestamp.filter(|value| !value.is_null()) {
        Some(timestamp) => epoch_ms(timestamp).ok_or_else(|| bad("timestamp is not a time")),
        None => entry
            .time
            .and_then(epoch_ms)
            .ok_or_else(|| bad("no timestamp, and entry.time is missing or not a time")),
    }
}

/// Meta sends milliseconds, but seconds in `changes` items; either as a number or a string.
fn epoch_ms(value: &Value) -> Option<i64> {
    const FIRST_MS_VALUE: i64 = 1_000_000_000_000;
    let number = match value {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.parse().ok()?,
        _ => return None,
    };
    match number {
        ..0 => None,
        0..FIRST_MS_VALUE => Some(number * 1000),
        _ => Some(number),
    }
}

/// Dispatches on the key the item carries.
fn kind_of(item: Fields) -> Result<EventKind, Unparseable> {
    if let Some(message) = item.fields("message")? {
        return message_kind(message);
    }
    if let Some(postback) = item.fields("postback")? {
        return Ok(EventKind::Postback {
            mid: postback.text("mid")?.filter(|mid| !mid.is_empty()),
            title: postback.text("title")?,
            payload: postback.text("payload")?,
        });
    }
    if let Some(read) = item.fields("read")? {
        return Ok(EventKind::Read {
            mid: read.required("mid")?,
        });
    }
    if let Some(reaction) = item.fields("reaction")? {
        let react = match reaction.required("action")?.as_str() {
            "react" => true,
            "unreact" => false,
            _ => return Err(bad("reaction.action is neither react nor unreact")),
        };
        return Ok(EventKind::Reaction {
            mid: reaction.required("mid")?,
            react,
            reaction: reaction.text("reaction")?,
            emoji: reaction.text("emoji")?.map(decode_emoji),
        });
    }
    if let Some(referral) = item.fields("referral")? {
        return Ok(EventKind::Referral {
            reference: referral.text("ref")?,
            source: referral.text("source")?,
        });
    }
    if let Some(edit) = item.fields("message_edit")? {
        return Ok(EventKind::Edit {
            mid: edit.required("mid")?,
            text: edit.text("text")?,
        });
    }
    const ENVELOPE: [&str; 3] = ["sender", "recipient", "timestamp"];
    let key = item
        .map
        .iter()
        .find(|(key, value)| !ENVELOPE.contains(&key.as_str()) && !value.is_null())
        .map(|(key, _)| key.clone())
        .ok_or_else(|| bad("the item carries no event"))?;
    Ok(EventKind::Other { key })
}

fn message_kind(message: Fields) -> Result<EventKind, Unparseable> {
    let mid = message.required("mid")?;
    if message.flag("is_deleted")? {
        return Ok(EventKind::Unsent { mid });
    }
    if message.flag("is_unsupported")? {
        return Ok(EventKind::Unsupported { mid });
    }
    let reply_to = message.fields("reply_to")?;
    let story = reply_to
        .map(|reply_to| reply_to.fields("story"))
        .transpose()?;
    let referral = match message.fields("referral")? {
        Some(referral) => {
            let product = referral.fields("product")?;
            referral
                .text("ref")?
                .or(referral.text("ad_id")?)
                .or(text_in(product, "id")?)
        }
        None => None,
    };
    let content = Message {
        mid,
        text: message.text("text")?,
        attachments: attachments(message)?,
        quick_reply: text_in(message.fields("quick_reply")?, "payload")?,
        reply_to_mid: text_in(reply_to, "mid")?,
        story_url: text_in(story.flatten(), "url")?,
        referral,
    };
    Ok(if message.flag("is_echo")? {
        EventKind::Echo(content)
    } else {
        EventKind::Message(content)
    })
}

fn attachments(message: Fields) -> Result<Vec<Attachment>, Unparseable> {
    let Some(list) = message.get("attachments") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| bad("message.attachments is not an array"))?;
    list.iter()
        .map(|attachment| {
            let attachment = Fields::of("attachment", attachment)?;
            Ok(Attachment {
                kind: attachment.required("type")?,
                url: text_in(attachment.fields("payload")?, "url")?,
            })
        })
        .collect()
}

/// Meta's examples write the emoji as the text `\u{2764}\u{FE0F}`; that form is decoded, any
/// other is kept as sent.
fn decode_emoji(sent: String) -> String {
    let decoded = sent
        .strip_prefix("\\u{")
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|hex| {
            hex.split("}\\u{")
                .map(|code| u32::from_str_radix(code, 16).ok().and_then(char::from_u32))
                .collect::<Option<String>>()
        });
    decoded.unwrap_or(sent)
}

fn bad(reason: impl Into<String>) -> Unparseable {
    Unparseable(reason.into())
}

/// A JSON object named for error reasons. The names are ours, never the body's, so reasons
/// quote no content. `null` counts as missing.
#[derive(Clone, Copy)]
struct Fields<'a> {
    name: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn of(name: &'static str, value: &'a Value) -> Result<Self, Unparseable> {
        let map = value
            .as_object()
            .ok_or_else(|| bad(format!("{name} is not an object")))?;
        Ok(Self { name, map })
    }

    fn get(self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn fields(self, key: &'static str) -> Result<Option<Self>, Unparseable> {
        self.get(key).map(|value| Self::of(key, value)).transpose()
    }

    fn need(self, key: &'static str) -> Result<Self, Unparseable> {
        self.fields(key)?
            .ok_or_else(|| bad(format!("{}.{key} is missing", self.name)))
    }

    fn text(self, key: &'static str) -> Result<Option<String>, Unparseable> {
        self.get(key)
            .map(|value| match value {
                Value::String(text) => Ok(text.clone()),
                _ => Err(bad(format!("{}.{key} is not a string", self.name))),
            })
            .transpose()
    }

    /// A string that must be there and not be empty.
    fn required(self, key: &'static str) -> Result<String, Unparseable> {
        self.text(key)?
            .filter(|text| !text.is_empty())
            .ok_or_else(|| bad(format!("{}.{key} is missing or empty", self.name)))
    }

    fn flag(self, key: &'static str) -> Result<bool, Unparseable> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(bad(format!("{}.{key} is not a boolean", self.name))),
        }
    }
}

fn text_in(fields: Option<Fields>, key: &'static str) -> Result<Option<String>, Unparseable> {
    Ok(fields.map(|fields| fields.text(key)).transpose()?.flatten())
}

// Debug by hand: patients' words, URLs and ids must not reach logs.

/// Prints a patient's text or id as its length only.
struct Redacted<'a>(&'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} chars>", self.0.chars().count())
    }
}

fn redacted(text: &Option<String>) -> Option<Redacted<'_>> {
    text.as_deref().map(Redacted)
}

/// Prints a raw item as its shape: the keys of an object, else the JSON type.
struct Shape<'a>(&'a Value);

impl fmt::Debug for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Object(map) => f.debug_set().entries(map.keys()).finish(),
            Value::Array(items) => write!(f, "<array of {}>", items.len()),
            Value::String(_) => f.write_str("<string>"),
            Value::Number(_) => f.write_str("<number>"),
            Value::Bool(_) => f.write_str("<boolean>"),
            Value::Null => f.write_str("null"),
        }
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("entry_id", &self.entry_id)
            .field("entry_time", &self.entry_time)
            .field("container", &self.container)
            .field("position", &self.position)
            .field("raw", &Shape(&self.raw))
            .field("event", &self.event)
            .finish()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("account_id", &self.account_id)
            .field("fallback_ids", &self.fallback_ids)
            .field("patient_id", &Redacted(&self.patient_id))
            .field("occurred_at", &self.occurred_at)
            .field("standby", &self.standby)
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Debug for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(message) => f.debug_tuple("Message").field(message).finish(),
            Self::Echo(message) => f.debug_tuple("Echo").field(message).finish(),
            Self::Unsent { mid } => f.debug_struct("Unsent").field("mid", mid).finish(),
            Self::Unsupported { mid } => f.debug_struct("Unsupported").field("mid", mid).finish(),
            Self::Postback {
                mid,
                title,
                payload,
            } => f
                .debug_struct("Postback")
                .field("mid", mid)
                .field("title", &redacted(title))
                .field("payload", &redacted(payload))
                .finish(),
            Self::Read { mid } => f.debug_struct("Read").field("mid", mid).finish(),
            Self::Reaction {
                mid,
                react,
                reaction,
                emoji,
            } => f
                .debug_struct("Reaction")
                .field("mid", mid)
                .field("react", react)
                .field("reaction", &redacted(reaction))
                .field("emoji", &redacted(emoji))
                .finish(),
            Self::Referral { reference, source } => f
                .debug_struct("Referral")
                .field("reference", &redacted(reference))
                .field("source", source)
                .finish(),
            Self::Edit { mid, text } => f
                .debug_struct("Edit")
                .field("mid", mid)
                .field("text", &redacted(text))
                .finish(),
            Self::Other { key } => f.debug_struct("Other").field("key", key).finish(),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("mid", &self.mid)
            .field("text", &redacted(&self.text))
            .field("attachments", &self.attachments)
            .field("quick_reply", &redacted(&self.quick_reply))
            .field("reply_to_mid", &self.reply_to_mid)
            .field("story_url", &redacted(&self.story_url))
            .field("referral", &redacted(&self.referral))
            .finish()
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("kind", &self.kind)
            .field("url", &redacted(&self.url))
            .finish()
    }
}

#[cfg(test)]
mod tests;
