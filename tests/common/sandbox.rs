//! The patient's side of Instagram, played by the fake Meta (`fake_meta.rs`): a chat page at
//! `GET /sandbox` where a newcomer writes to one of the fake's Instagram accounts as a
//! patient, and sees what the app answers. Served beside the fake by `examples/fake_meta.rs`
//! (`make demo`; README, "Try it without Meta").
//!
//! What the patient writes goes out as Meta sends it: a delivery (`object: "instagram"`, one
//! entry for the account, one `message` or `postback` event with a unique `mid`), signed with
//! the app secret and posted to the app's webhook (`FAKE_META_WEBHOOK_URL`). The patient is
//! registered with the fake's user profile API first, so the Inbox shows their name.
//!
//! The transcript interleaves, oldest first, what the patient wrote and what the Send API
//! received for that patient (text, quick replies, button templates, media links, and
//! `mark_seen` as "Seen"). The page polls `GET /sandbox/transcript` every second. Tapping a
//! quick reply sends its title as text with `quick_reply: {payload}`; a `postback` button
//! sends a `postback` event; a `web_url` button is a link. Meta scopes a patient's id to one account, but the fake's Send
//! API does not keep which Page sent what: a patient id used with two accounts sees the
//! replies of both.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::fake_meta::{self, FakeMeta};

/// The patient the page writes as unless told otherwise.
const PATIENT: Patient = Patient {
    id: "sandbox-patient-1",
    name: "Asha Verma",
    username: "asha.verma",
};

/// How often the page asks for the transcript, in milliseconds.
const POLL_MS: u32 = 1000;

/// An Instagram user, as the account they write to knows them.
struct Patient<'a> {
    /// The Instagram-scoped id (IGSID) Meta gives the patient for that account.
    id: &'a str,
    name: &'a str,
    username: &'a str,
}

/// The sandbox's routes on the fake, which delivers to `webhook` (none: nowhere).
pub fn routes(meta: FakeMeta, webhook: Option<String>) -> Router {
    let sandbox = Sandbox {
        meta,
        webhook,
        said: Arc::default(),
    };
    Router::new()
        .route("/sandbox", get(page))
        .route("/sandbox/transcript", get(transcript))
        .route("/sandbox/send", post(send))
        .with_state(sandbox)
}

#[derive(Clone)]
struct Sandbox {
    meta: FakeMeta,
    webhook: Option<String>,
    /// What patients wrote, in order.
    said: Arc<Mutex<Vec<Said>>>,
}

/// One thing a patient wrote, and where it falls among the Send API's messages.
struct Said {
    account: String,
    patient: String,
    /// How many messages the Send API had taken when the patient wrote this: it comes after
    /// them.
    after_sends: usize,
    /// How many sender actions it had taken then: a `mark_seen` after them saw this.
    after_actions: usize,
    text: String,
    /// Why the app did not get it, if it did not.
    problem: Option<String>,
}

/// Who is writing, to which account: the page's query and the fields of its send requests.
#[derive(Deserialize)]
struct Who {
    account: Option<String>,
    patient: Option<String>,
    name: Option<String>,
    username: Option<String>,
}

impl Who {
    /// The patient named, with the default's details for what is not given.
    fn patient(&self) -> Patient<'_> {
        fn given(field: &Option<String>) -> Option<&str> {
            field.as_deref().filter(|v| !v.trim().is_empty())
        }
        Patient {
            id: given(&self.patient).unwrap_or(PATIENT.id),
            name: given(&self.name).unwrap_or(PATIENT.name),
            username: given(&self.username).unwrap_or(PATIENT.username),
        }
    }
}

/// A message from the page: typed text, a quick reply tapped (its title as `text`) or a
/// postback button tapped (its title as `text`).
#[derive(Deserialize)]
struct Say {
    #[serde(flatten)]
    who: Who,
    text: String,
    quick_reply: Option<String>,
    postback: Option<String>,
}

impl Sandbox {
    /// The fake's Instagram accounts: id and username.
    fn accounts(&self) -> Vec<(&'static str, &'static str)> {
        let pages = self.meta.pages();
        pages
            .into_iter()
            .filter_map(|page| page.instagram)
            .collect()
    }

    /// The account `who` names, else the fake's first.
    fn account(&self, who: &Who) -> Option<String> {
        let named = who.account.clone().filter(|a| !a.is_empty());
        named.or_else(|| self.accounts().first().map(|(id, _)| (*id).to_owned()))
    }
}

/// The chat page: who writes to which account (a form that reloads the page), the chat, and
/// a message box. The script shows the transcript and sends what is typed or tapped.
async fn page(State(sandbox): State<Sandbox>, Query(who): Query<Who>) -> Html<String> {
    let patient = who.patient();
    let accounts = sandbox.accounts();
    let current = sandbox.account(&who).unwrap_or_default();
    let options: String = accounts
        .iter()
        .map(|(id, username)| {
            let selected = if *id == current { " selected" } else { "" };
            format!(
                "<option value=\"{id}\"{selected}>@{username} ({id})</option>",
                id = escape(id),
                username = escape(username),
            )
        })
        .collect();
    let chat = accounts
        .iter()
        .find(|(id, _)| *id == current)
        .map_or("Chat".to_owned(), |(_, username)| {
            format!("Chat with @{}", escape(username))
        });
    let webhook = match &sandbox.webhook {
        Some(url) => format!(
            "<p>What you write goes to the app's webhook at <code>{}</code>, signed with the \
             app secret as Meta signs it.</p>",
            escape(url)
        ),
        None => "<p role=\"alert\">FAKE_META_WEBHOOK_URL is not set: messages go nowhere. \
                 Start the fake with it (<code>make demo</code> does).</p>"
            .to_owned(),
    };
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Instagram sandbox</title><link rel="icon" href="data:,"><style>{STYLE}</style></head>
<body data-poll-ms="{POLL_MS}">
<main>
<h1>Instagram sandbox</h1>
<p>Write to a clinic's Instagram account as a patient; the app's answers appear here as
they would on Instagram.</p>
{webhook}
<form id="who" method="get" action="/sandbox">
  <label>Instagram account <select name="account">{options}</select></label>
  <label>Patient id <input name="patient" value="{patient}"></label>
  <label>Name <input name="name" value="{name}"></label>
  <label>Username <input name="username" value="{username}"></label>
  <button type="submit">Write as this patient</button>
</form>
<h2>{chat}</h2>
<ol id="transcript" aria-label="Chat"></ol>
<p id="status" role="alert"></p>
<form id="say">
  <label for="text">Message</label>
  <input id="text" name="text" autocomplete="off" required>
  <button type="submit">Send</button>
</form>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        patient = escape(patient.id),
        name = escape(patient.name),
        username = escape(patient.username),
    ))
}

/// What the page shows: the conversation of `who` with the account, oldest first.
async fn transcript(State(sandbox): State<Sandbox>, Query(who): Query<Who>) -> Json<Value> {
    let account = sandbox.account(&who).unwrap_or_default();
    let patient = who.patient().id.to_owned();
    let sent = sandbox.meta.sent();
    let actions = sandbox.meta.sender_actions();
    let said = sandbox.said.lock().unwrap();
    let theirs: Vec<&Said> = said
        .iter()
        .filter(|s| s.account == account && s.patient == patient)
        .collect();
    // Instagram shows "Seen" once, under the last message the business marked seen (one the
    // app never got, it could not see).
    let marked = actions
        .iter()
        .rposition(|(to, action)| *to == patient && action == "mark_seen");
    let last_seen = marked.and_then(|at| {
        let saw = |s: &&Said| s.after_actions <= at && s.problem.is_none();
        theirs.iter().rposition(saw)
    });
    let mut theirs = theirs.into_iter().enumerate().peekable();
    let mut lines = Vec::new();
    for (index, body) in sent.iter().enumerate() {
        while let Some((n, s)) = theirs.next_if(|(_, s)| s.after_sends <= index) {
            lines.push(patient_line(s, Some(n) == last_seen));
        }
        if body["recipient"]["id"] == patient.as_str() {
            lines.push(business_line(&body["message"]));
        }
    }
    lines.extend(theirs.map(|(n, s)| patient_line(s, Some(n) == last_seen)));
    Json(json!({ "lines": lines }))
}

fn patient_line(said: &Said, seen: bool) -> Value {
    json!({"from": "patient", "text": said.text, "problem": said.problem, "seen": seen})
}

/// A message the Send API took, as the patient sees it.
fn business_line(message: &Value) -> Value {
    let attachment = &message["attachment"];
    let template = &attachment["payload"];
    let text = message["text"].as_str().or(template["text"].as_str());
    let quick_replies: Vec<Value> = message["quick_replies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|reply| json!({"title": reply["title"], "payload": reply["payload"]}))
        .collect();
    let buttons = template["buttons"].clone();
    let media = (attachment["type"] != "template" && !template["url"].is_null())
        .then(|| json!({"kind": attachment["type"], "url": template["url"]}));
    json!({"from": "business", "text": text, "quick_replies": quick_replies,
           "buttons": if buttons.is_array() { buttons } else { json!([]) },
           "media": media})
}

/// Delivers what the patient wrote to the app's webhook; the page learns what went wrong.
async fn send(State(sandbox): State<Sandbox>, Json(say): Json<Say>) -> Json<Value> {
    let Some(account) = sandbox.account(&say.who) else {
        return Json(json!({"problem": "The fake has no Instagram account to write to."}));
    };
    let patient = say.who.patient();
    sandbox
        .meta
        .add_person(patient.id, patient.name, patient.username);
    let mid = format!("sandbox-{}", uuid::Uuid::new_v4());
    let (kind, event) = match (&say.postback, &say.quick_reply) {
        (Some(payload), _) => (
            "postback",
            json!({"mid": mid, "title": say.text, "payload": payload}),
        ),
        (None, Some(payload)) => (
            "message",
            json!({"mid": mid, "text": say.text, "quick_reply": {"payload": payload}}),
        ),
        (None, None) => ("message", json!({"mid": mid, "text": say.text})),
    };
    let delivery = fake_meta::delivery(&account, patient.id, &account, kind, event);
    let after_sends = sandbox.meta.sent().len();
    let after_actions = sandbox.meta.sender_actions().len();
    let index = {
        let mut said = sandbox.said.lock().unwrap();
        said.push(Said {
            account: account.clone(),
            patient: patient.id.to_owned(),
            after_sends,
            after_actions,
            text: say.text.clone(),
            problem: None,
        });
        said.len() - 1
    };
    let problem = match &sandbox.webhook {
        None => Some("FAKE_META_WEBHOOK_URL is not set: nothing was delivered.".to_owned()),
        Some(url) => match fake_meta::deliver(url, &delivery).await {
            Ok(status) if status.is_success() => None,
            Ok(status) => Some(format!("The app's webhook refused the message: {status}.")),
            Err(error) => Some(format!(
                "The app's webhook at {url} could not be reached: {error}."
            )),
        },
    };
    sandbox.said.lock().unwrap()[index].problem = problem.clone();
    Json(json!({ "problem": problem }))
}

/// `text` safe inside HTML text and quoted attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "
body { font: 16px/1.4 system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
#who { display: grid; gap: .4rem; padding: .8rem; background: #fff; border: 1px solid #ddd; }
#transcript { list-style: none; padding: 0; display: flex; flex-direction: column; gap: .5rem; }
#transcript li { max-width: 80%; padding: .5rem .8rem; border-radius: 1rem; background: #fff;
  border: 1px solid #ddd; }
#transcript li.patient { align-self: flex-end; background: #3797f0; color: #fff; border: 0; }
#transcript .author, #transcript .seen { display: block; font-size: .75rem; opacity: .7; }
#transcript p { margin: .2rem 0; white-space: pre-wrap; }
#transcript .problem, #status { color: #b00020; font-weight: 600; }
#transcript li.patient .problem { color: #fff; }
#transcript a, #transcript button { display: inline-block; margin: .2rem .3rem 0 0; }
#say { display: flex; gap: .5rem; align-items: center; }
#say input { flex: 1; padding: .4rem; }
";

/// Shows the transcript (asking again every `data-poll-ms`) and sends what the patient types
/// or taps, as `POST /sandbox/send` with who is writing; shows why a message was not delivered.
const SCRIPT: &str = r#"
const who = Object.fromEntries(new FormData(document.getElementById("who")));
const list = document.getElementById("transcript");
const status = document.getElementById("status");
const query = new URLSearchParams({ account: who.account || "", patient: who.patient });
let shown = "";
let unreachable = false;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function link(text, url) {
  const a = element("a", text);
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

function tap(text, message) {
  const button = element("button", text);
  button.type = "button";
  button.addEventListener("click", () => say({ text, ...message }));
  return button;
}

function render(lines) {
  list.replaceChildren(...lines.map((line, index) => {
    const item = element("li", null, line.from);
    item.append(element("span", line.from === "patient" ? "You" : "Clinic", "author"));
    if (line.text) item.append(element("p", line.text, "text"));
    if (line.problem) item.append(element("p", "Not delivered: " + line.problem, "problem"));
    if (line.seen) item.append(element("span", "Seen", "seen"));
    if (line.media) item.append(link(line.media.kind, line.media.url));
    for (const button of line.buttons || []) {
      if (button.type === "web_url") item.append(link(button.title, button.url));
      if (button.type === "postback") item.append(tap(button.title, { postback: button.payload }));
    }
    // As on Instagram, quick replies are offered under the last message only.
    if (index === lines.length - 1) {
      for (const reply of line.quick_replies || []) {
        item.append(tap(reply.title, { quick_reply: reply.payload }));
      }
    }
    return item;
  }));
}

async function refresh() {
  try {
    const response = await fetch("/sandbox/transcript?" + query);
    const text = await response.text();
    if (unreachable) status.textContent = "";
    unreachable = false;
    if (text !== shown) {
      shown = text;
      render(JSON.parse(text).lines);
    }
  } catch (error) {
    unreachable = true;
    status.textContent = "The fake Meta does not answer: " + error.message;
  }
}

async function say(message) {
  try {
    const response = await fetch("/sandbox/send", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...who, ...message }),
    });
    const { problem } = await response.json();
    status.textContent = problem || "";
  } catch (error) {
    status.textContent = "The fake Meta does not answer: " + error.message;
  }
  await refresh();
}

document.getElementById("say").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = document.getElementById("text");
  const text = field.value.trim();
  if (!text) return;
  field.value = "";
  await say({ text });
});

refresh();
setInterval(refresh, Number(document.body.dataset.pollMs));
"#;
