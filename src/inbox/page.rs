//! `/dashboard/inbox`: the doctor's Instagram conversations (newest first, "Needs you" when
//! the assistant is paused or a patient asked for a person), one thread with patient,
//! assistant and doctor told apart, a reply box, and "Pause assistant" / "Resume assistant".
//! New messages appear without a reload: the page asks again every two seconds.

use std::time::Duration;

use leptos::prelude::*;

use super::threads::{
    conversations, thread, AttachmentView, ConversationSummary, MessageView, Reply, SetAssistant,
    Side, ThreadView,
};
use crate::ui::{field_message, focus_first_refused, load_failed, FieldError, FormAlert};

/// How often the page looks for new messages.
const REFRESH: Duration = Duration::from_secs(2);

lazy_page!(
    /// The Inbox.
    InboxRoute => InboxPage
);

#[component]
fn InboxPage() -> impl IntoView {
    let reply = ServerAction::<Reply>::new();
    let assistant = ServerAction::<SetAssistant>::new();
    let needs_you = RwSignal::new(false);
    let selected = RwSignal::new(None::<String>);
    let tick = RwSignal::new(0_u64);
    Effect::new(move |_| {
        let bump = move || {
            tick.try_update(|t| *t += 1);
        };
        if let Ok(handle) = set_interval_with_handle(bump, REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });
    let list = Resource::new(
        move || {
            (
                needs_you.get(),
                tick.get(),
                reply.version().get(),
                assistant.version().get(),
            )
        },
        |(needs_you, ..)| conversations(needs_you),
    );
    view! {
        <h1>"Inbox"</h1>
        <p class="lead">"Instagram conversations with your patients. The assistant answers them; you can step in at any time."</p>
        <div class="inbox">
            <section class="panel conversations" aria-labelledby="conversations-title">
                <h2 id="conversations-title">"Conversations"</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=move || needs_you.get()
                        on:change=move |ev| needs_you.set(event_target_checked(&ev))/>
                    " Only those that need you"
                </label>
                <Transition fallback=|| view! { <p>"Loading conversations…"</p> }>
                    <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        list.await.map(|list| view! { <ConversationList list selected/> })
                    })}
                    </ErrorBoundary>
                </Transition>
            </section>
            <section class="panel thread" aria-labelledby="thread-title">
                {move || match selected.get() {
                    None => view! {
                        <h2 id="thread-title">"Conversation"</h2>
                        <p>"Choose a conversation to read it and reply."</p>
                    }.into_any(),
                    Some(id) => view! { <Thread id tick reply assistant/> }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn ConversationList(
    list: Vec<ConversationSummary>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p>"No conversations yet. When patients write to your Instagram account, they appear here."</p>
        }
        .into_any();
    }
    view! {
        <ul class="conversation-list">
            {list.into_iter().map(|c| {
                let id = c.id.clone();
                let mine = id.clone();
                let current = Memo::new(move |_| selected.get().as_deref() == Some(mine.as_str()));
                view! {
                    <li class:current=move || current.get()>
                        <button type="button" class="conversation"
                            aria-current=move || current.get().then_some("true")
                            on:click=move |_| selected.set(Some(id.clone()))>
                            <span class="who">{c.who}</span>
                            {c.needs_you.then(|| view! { <span class="badge attention">"Needs you"</span> })}
                            {(c.unread > 0).then(|| view! {
                                <span class="badge">{c.unread}<span class="visually-hidden">" unread"</span></span>
                            })}
                            <span class="preview">{c.preview}</span>
                            <span class="time">{c.at}</span>
                        </button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Thread(
    id: String,
    tick: RwSignal<u64>,
    reply: ServerAction<Reply>,
    assistant: ServerAction<SetAssistant>,
) -> impl IntoView {
    let loaded = {
        let id = id.clone();
        Resource::new(
            move || (tick.get(), reply.version().get(), assistant.version().get()),
            move |_| thread(id.clone()),
        )
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading the conversation…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || Suspend::new(async move {
                loaded.await.map(|thread| view! { <ThreadBody thread reply assistant/> })
            })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ThreadBody(
    thread: ThreadView,
    reply: ServerAction<Reply>,
    assistant: ServerAction<SetAssistant>,
) -> impl IntoView {
    let ThreadView {
        id,
        who,
        paused,
        needs_you,
        reply_blocked,
        messages,
    } = thread;
    let reply_to = id.clone();
    view! {
        <header class="thread-head">
            <h2 id="thread-title">{who}</h2>
            {needs_you.then(|| view! { <span class="badge attention">"Needs you"</span> })}
            <ActionForm action=assistant attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="paused" value=(!paused).to_string()/>
                <button type="submit" class="button">
                    {if paused { "Resume assistant" } else { "Pause assistant" }}
                </button>
            </ActionForm>
        </header>
        <p class="lead">{if paused {
            "The assistant is paused here: it does not answer this patient until you resume it."
        } else {
            "The assistant answers this patient. Pause it to answer yourself."
        }}</p>
        <ol class="messages" aria-label="Messages">
            {messages.into_iter().map(|m| view! { <Message m/> }).collect_view()}
        </ol>
        <ReplyBox id=reply_to reply_blocked reply/>
    }
}

#[component]
fn Message(m: MessageView) -> impl IntoView {
    let (class, author) = match m.side {
        Side::Patient => ("message patient", "Patient"),
        Side::Assistant => ("message assistant", "Assistant"),
        Side::Doctor => ("message doctor", "You"),
    };
    view! {
        <li class=class>
            <span class="author">{author}</span>
            {m.text.map(|text| view! { <p class="text">{text}</p> })}
            {m.note.map(|note| view! { <p class="note">{note}</p> })}
            {(!m.attachments.is_empty()).then(|| view! {
                <ul class="attachments">
                    {m.attachments.into_iter().map(|a| view! { <Attachment a/> }).collect_view()}
                </ul>
            })}
            <span class="meta">
                <span class="time">{m.at}</span>
                {m.state.map(|state| view! { " · " <span class="state">{state}</span> })}
                {m.reaction.map(|r| view! { " · reacted " {r} })}
            </span>
            {m.failure.map(|why| view! { <p class="alert">{why}</p> })}
        </li>
    }
}

#[component]
fn Attachment(a: AttachmentView) -> impl IntoView {
    let label = match a.kind.as_str() {
        "image" => "Image",
        "video" | "ig_reel" | "reel" => "Video",
        "audio" => "Voice message",
        "story" | "story_mention" => "Story",
        "share" | "ig_post" => "Shared post",
        "ephemeral" => "View-once media (not shown here)",
        _ => "File",
    };
    match a.url {
        Some(url) => view! {
            <li><a href=url target="_blank" rel="noopener noreferrer">{label}</a></li>
        }
        .into_any(),
        None => view! { <li>{label}</li> }.into_any(),
    }
}

#[component]
fn ReplyBox(
    id: String,
    reply_blocked: Option<String>,
    reply: ServerAction<Reply>,
) -> impl IntoView {
    if let Some(why) = reply_blocked {
        return view! { <p class="alert" role="note">{why}</p> }.into_any();
    }
    let error = Signal::derive(move || reply.value().get().and_then(Result::err));
    let field_error = field_message(error, "text");
    // A plain text area, not a `FormField`: the thread is drawn again every two seconds, and
    // what is typed lives in the element only, so the redraw cannot reset it.
    let text = NodeRef::<leptos::html::Textarea>::new();
    focus_first_refused(text, error);
    // Empty the box once the reply is queued.
    Effect::new(move |_| {
        if matches!(reply.value().get(), Some(Ok(()))) {
            if let Some(area) = text.get() {
                area.set_value("");
            }
        }
    });
    view! {
        <ActionForm action=reply attr:class="form reply">
            <input type="hidden" name="id" value=id/>
            <label for="reply-text">"Reply"</label>
            <textarea id="reply-text" name="text" rows="3" node_ref=text
                aria-invalid=move || field_error.with(Option::is_some).then_some("true")
                aria-describedby=move || field_error.with(Option::is_some).then_some("reply-error")></textarea>
            <FieldError id="reply-error" message=field_error/>
            <FormAlert error/>
            <button type="submit" class="button primary" disabled=move || reply.pending().get()>
                {move || if reply.pending().get() { "Sending…" } else { "Send reply" }}
            </button>
        </ActionForm>
    }
    .into_any()
}
