//! `/dashboard/assistant`: "Try your assistant". The doctor writes as a patient would and taps
//! the assistant's quick replies; the transcript shows both sides and, where the assistant
//! would have booked or handed over, what it would have done. The engine's state lives in
//! this page between turns ([`super::preview`]); "Start over" forgets it.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::preview::{typed_message, TriedTurn, TryAssistant, WouldDo};
use crate::domain::outgoing::QuickReply;
use crate::ui::{FieldError, FormAlert};

lazy_page!(
    /// "Try your assistant".
    TryAssistantRoute => TryAssistantPage
);

/// A line of the transcript.
#[derive(Debug, Clone)]
enum Line {
    /// What the doctor wrote, or the title of the quick reply they tapped.
    You(String),
    Assistant(String),
    /// What the assistant would have done.
    Would(WouldDo),
}

/// What the doctor just sent: what the transcript shows, and whether they typed it (the box
/// empties once it is answered).
#[derive(Debug, Clone)]
struct Sent {
    shown: String,
    typed: bool,
}

#[component]
fn TryAssistantPage() -> impl IntoView {
    let send = ServerAction::<TryAssistant>::new();
    let lines = RwSignal::new(Vec::<Line>::new());
    let offered = RwSignal::new(Vec::<QuickReply>::new());
    let state = RwSignal::new(String::new());
    let version = RwSignal::new(0_i64);
    let answers_patients = RwSignal::new(true);
    let sent = RwSignal::new(None::<Sent>);
    let text = RwSignal::new(String::new());
    // The browser's own verdict on the message box since the last send.
    let checked = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        let Some(Ok(turn)) = send.value().get() else {
            return;
        };
        let TriedTurn {
            replies,
            effect,
            state: new_state,
            version: new_version,
            answers_patients: on,
        } = turn;
        let you = sent.get_untracked();
        if you.as_ref().is_some_and(|s| s.typed) {
            text.set(String::new());
        }
        offered.set(
            replies
                .last()
                .map(|m| m.quick_replies.clone())
                .unwrap_or_default(),
        );
        lines.update(|lines| {
            lines.extend(you.map(|s| Line::You(s.shown)));
            lines.extend(replies.into_iter().map(|m| Line::Assistant(m.text)));
            lines.extend(effect.map(Line::Would));
        });
        state.set(new_state);
        version.set(new_version);
        answers_patients.set(on);
    });

    let ask = move |shown: String, payload: String, typed: bool| {
        if send.pending().get_untracked() {
            return;
        }
        sent.set(Some(Sent {
            shown: shown.clone(),
            typed,
        }));
        send.dispatch(TryAssistant {
            text: shown,
            payload,
            state: state.get_untracked(),
            version: version.get_untracked(),
        });
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match typed_message(&text.get_untracked()) {
            Ok(typed) => {
                checked.set(None);
                ask(typed, String::new(), true);
            }
            Err(message) => checked.set(Some(message)),
        }
    };
    let start_over = move |_| {
        lines.set(Vec::new());
        offered.set(Vec::new());
        state.set(String::new());
        version.set(0);
        sent.set(None);
        text.set(String::new());
        checked.set(None);
        send.value().set(None);
    };

    let error = Signal::derive(move || send.value().get().and_then(Result::err));
    let message = Memo::new(move |_| {
        checked.get().or_else(|| {
            error.get().and_then(|e| {
                e.field_errors()
                    .and_then(|f| f.get("text"))
                    .map(str::to_owned)
            })
        })
    });
    let refused = move || message.with(Option::is_some);
    let pending = send.pending();
    let transcript = move || {
        lines
            .get()
            .into_iter()
            .map(|line| view! { <TranscriptLine line/> })
            .collect_view()
    };
    let waiting = move || {
        pending
            .get()
            .then(|| sent.get())
            .flatten()
            .map(|s| view! { <TranscriptLine line=Line::You(s.shown)/> })
    };
    let quick_replies = move || {
        offered
            .get()
            .into_iter()
            .map(|reply| {
                let QuickReply { title, payload } = reply;
                let shown = title.clone();
                view! {
                    <button type="button" class="button" disabled=move || pending.get()
                        on:click=move |_| ask(shown.clone(), payload.clone(), false)>
                        {title}
                    </button>
                }
            })
            .collect_view()
    };

    view! {
        <h1>"Try your assistant"</h1>
        <p class="lead">"Write to your assistant as a patient would. It answers from your real settings and free times, but this is a dry run: nothing is booked or held, nothing is sent to Instagram, and nothing appears in your Inbox."</p>
        <Show when=move || !answers_patients.get()>
            <p class="hint">"Your assistant is off, so patients' messages wait for you in the Inbox. This is how it would answer them. "
                <a href="/dashboard/setup/assistant">"Assistant settings"</a></p>
        </Show>
        <section class="panel" aria-labelledby="try-title">
            <h2 id="try-title">"Conversation"</h2>
            <Show when=move || lines.with(Vec::is_empty) && !pending.get()>
                <p class="hint">"Say “hi” to see the menu a patient gets."</p>
            </Show>
            <ol class="messages" aria-label="Conversation" aria-live="polite">
                {transcript}
                {waiting}
            </ol>
            <div class="row-actions quick-replies" role="group" aria-label="Quick replies">
                {quick_replies}
            </div>
            <form class="form" on:submit=on_submit>
                <div class="field" class:invalid=refused>
                    <label for="try-text">"Message"</label>
                    <input id="try-text" name="text" type="text" autocomplete="off"
                        prop:value=move || text.get()
                        aria-invalid=move || refused().then_some("true")
                        aria-describedby=move || refused().then_some("try-text-error")
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            // Once refused, the check follows the typing.
                            if checked.get_untracked().is_some() {
                                checked.set(typed_message(&value).err());
                            }
                            text.set(value);
                        }/>
                    <FieldError id="try-text-error" message/>
                </div>
                <FormAlert error/>
                <p class="row-actions">
                    <button type="submit" class="button primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Sending…" } else { "Send" }}
                    </button>
                    <button type="button" class="button" disabled=move || pending.get()
                        on:click=start_over>"Start over"</button>
                </p>
            </form>
        </section>
    }
}

#[component]
fn TranscriptLine(line: Line) -> impl IntoView {
    match line {
        Line::You(text) => view! {
            <li class="message patient">
                <span class="author">"You"</span>
                <Paragraphs text/>
            </li>
        }
        .into_any(),
        Line::Assistant(text) => view! {
            <li class="message assistant">
                <span class="author">"Assistant"</span>
                <Paragraphs text/>
            </li>
        }
        .into_any(),
        Line::Would(would) => view! {
            <li class="message notice">
                <p class="note"><strong>{would.what}"."</strong>" "{would.dry_run}</p>
            </li>
        }
        .into_any(),
    }
}

/// Text with its line breaks kept (the assistant numbers its options one to a line).
#[component]
fn Paragraphs(text: String) -> impl IntoView {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last = lines.len().saturating_sub(1);
    let shown = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| view! { {line}{(i < last).then(|| view! { <br/> })} })
        .collect_view();
    view! { <p class="text">{shown}</p> }
}
