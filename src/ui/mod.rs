//! Shared form pieces: every control has a visible label and shows its own error, present
//! (and announced) only while there is one; after a save the server refused, the first field it
//! named has the focus.

use leptos::prelude::*;

use crate::domain::FieldErrors;
use crate::error::AppError;

/// The browser-side check of a field: the same domain rule the server applies.
pub type Validate = fn(&str) -> Result<(), String>;

/// A labelled input (or, with `multiline`, a text area). Its message is the browser's own
/// check (once the doctor has left the field, then as they type) or, until they edit it, the
/// server's verdict on the last submit.
#[component]
pub fn FormField(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] input_type: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] validate: Option<Validate>,
    /// The value the field starts with (a saved setting).
    #[prop(optional, into)]
    value: String,
    /// What a blank field stands for.
    #[prop(optional, into)]
    placeholder: Option<String>,
    /// The doctor may leave it blank.
    #[prop(optional)]
    optional: bool,
    #[prop(optional)] multiline: bool,
    /// The id of a `<datalist>` of suggestions.
    #[prop(optional)]
    list: Option<&'static str>,
    /// A signal to keep the field's text in (for pictures that follow it, or buttons that fill
    /// it); it replaces `value`.
    #[prop(optional)]
    bind: Option<RwSignal<String>>,
) -> impl IntoView {
    let text = bind.unwrap_or_else(|| RwSignal::new(value));
    // None: no check since the last submit, so the server's message stands.
    let checked: RwSignal<Option<Option<String>>> = RwSignal::new(None);
    Effect::new(move || {
        error.track();
        checked.set(None);
    });
    let field = NodeRef::<leptos::html::Div>::new();
    focus_first_refused(field, error);
    let check = move |value: &str| checked.set(Some(validate.and_then(|v| v(value).err())));
    let server_message = move || {
        error.get().and_then(|e| {
            e.field_errors()
                .and_then(|f| f.get(name))
                .map(str::to_owned)
        })
    };
    // A memo: the same message again (typing on with the same mistake) changes nothing, so a
    // screen reader does not announce it again.
    let message = Memo::new(move |_| checked.get().unwrap_or_else(server_message));
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let ids: Vec<&str> = [
                hint.map(|_| hint_id.as_str()),
                message.with(Option::is_some).then_some(error_id.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let on_blur = move |ev: leptos::ev::FocusEvent| {
        if validate.is_some() {
            check(&event_target_value(&ev));
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        // The server's message goes as soon as the doctor edits the field (not on leaving it:
        // a message vanishing on blur moves the Save button away from a click in progress).
        let server_said = checked.get_untracked().is_none()
            && error.with_untracked(|e| {
                e.as_ref()
                    .and_then(AppError::field_errors)
                    .is_some_and(|f| f.get(name).is_some())
            });
        if validate.is_none() || checked.get_untracked().is_some() || server_said {
            check(&value);
        }
        text.set(value);
    };
    let invalid = move || message.with(Option::is_some).then_some("true");
    let control = if multiline {
        view! {
            <textarea
                id=name
                name=name
                rows=3
                autocomplete=autocomplete
                placeholder=placeholder
                required=!optional
                aria-invalid=invalid
                aria-describedby=described_by
                on:blur=on_blur
                on:input=on_input
                prop:value=move || text.get()
            >
                {text.get_untracked()}
            </textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=name
                name=name
                type=input_type.unwrap_or("text")
                value=text.get_untracked()
                prop:value=move || text.get()
                list=list
                autocomplete=autocomplete
                placeholder=placeholder
                required=!optional
                aria-invalid=invalid
                aria-describedby=described_by
                on:blur=on_blur
                on:input=on_input
            />
        }
        .into_any()
    };
    view! {
        <div class="field" class:invalid=move || message.with(Option::is_some) node_ref=field>
            <label for=name>{label}</label>
            {control}
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <FieldError id=error_id message/>
        </div>
    }
}

/// A field's message, in the document only while there is one: `role="alert"` on an element
/// that appears makes screen readers say it once, and none is left standing empty.
#[component]
pub fn FieldError(
    #[prop(into)] id: String,
    #[prop(into)] message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <p class="field-error" id=id.clone() role="alert">{move || message.get()}</p>
        </Show>
    }
}

/// The server's message about field `name` in `error`, if any.
pub fn field_message(
    error: Signal<Option<AppError>>,
    name: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .and_then(AppError::field_errors)
                .and_then(|f| f.get(name))
                .map(str::to_owned)
        })
    })
}

/// When the server refuses a save over its fields, moves the focus to the first of those
/// fields in the form around `within` (in the form's order), so a keyboard or screen reader user
/// lands on what to fix. Only on a new answer: a form drawn again over an old one leaves the
/// focus where it is. Every `FormField` does this (all of a form's pick the same control); a
/// form without one calls it with any element inside.
pub fn focus_first_refused<E>(within: NodeRef<E>, error: Signal<Option<AppError>>)
where
    E: leptos::html::ElementType + 'static,
    E::Output: leptos::wasm_bindgen::JsCast + Clone + 'static,
{
    use leptos::wasm_bindgen::JsCast;

    Effect::new(move |answered_before: Option<()>| {
        let refused = error.with(|e| e.as_ref().and_then(AppError::field_errors).cloned());
        if let (Some(()), Some(fields)) = (answered_before, refused) {
            if let Some(anchor) = within.get_untracked() {
                focus_first_named(anchor.unchecked_into(), fields);
            }
        }
    });
}

/// Focuses the first control of the form around `anchor` whose name (or `data-field`, for a
/// control the server reports under another name) has a message in `fields`, passing over
/// any that cannot take the focus (hidden ones).
fn focus_first_named(anchor: leptos::web_sys::Element, fields: FieldErrors) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::{HtmlElement, HtmlFormElement};

        // Once the refusal is drawn: a message can show or move a field.
        request_animation_frame(move || {
            let Some(form) = anchor
                .closest("form")
                .ok()
                .flatten()
                .and_then(|form| form.dyn_into::<HtmlFormElement>().ok())
            else {
                return;
            };
            let controls = form.elements();
            for index in 0..controls.length() {
                let Some(control) = controls.item(index) else {
                    continue;
                };
                let key = control
                    .get_attribute("data-field")
                    .or_else(|| control.get_attribute("name"));
                if key.is_none_or(|key| fields.get(&key).is_none()) {
                    continue;
                }
                let Ok(control) = control.dyn_into::<HtmlElement>() else {
                    continue;
                };
                if control.focus().is_ok()
                    && document().active_element().is_some_and(|a| a == *control)
                {
                    return;
                }
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (anchor, fields);
}

/// What a pane needs of its save action: the error to show, whether the last save went
/// through, and how many saves have gone through. A pane reloads its stored values on the
/// last of these only (an action's `version` also moves when a save is refused, and reloading
/// then would put the stored values back over what the doctor typed).
#[derive(Clone, Copy)]
pub struct SaveOutcome {
    pub error: Signal<Option<AppError>>,
    pub saved: Signal<bool>,
    pub succeeded: Memo<usize>,
}

impl SaveOutcome {
    pub fn of<S>(save: ServerAction<S>) -> Self
    where
        S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        let succeeded = Memo::new(move |before: Option<&usize>| {
            let version = save.version().get();
            match save.value().get() {
                Some(Ok(_)) => version,
                _ => before.copied().unwrap_or(0),
            }
        });
        Self {
            error: Signal::derive(move || save.value().get().and_then(Result::err)),
            saved: Signal::derive(move || {
                !save.pending().get() && matches!(save.value().get(), Some(Ok(_)))
            }),
            succeeded,
        }
    }
}

/// What a region shows when its data could not be loaded: the fallback of every page's
/// `<ErrorBoundary>`, so no page writes its own error arm.
pub fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| error.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! { <p class="alert" role="alert">{messages}</p> }
}

/// The message of a failed submission that is not about one field.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || {
        error
            .get()
            .filter(|e| e.field_errors().is_none())
            .map(|e| e.to_string())
    };
    view! {
        <Show when=move || message().is_some()>
            <p class="alert" role="alert">{message}</p>
        </Show>
    }
}

/// The country a national phone number is read in, or "starts with +".
#[component]
pub fn PhoneCountrySelect(name: &'static str, #[prop(into)] selected: String) -> impl IntoView {
    use crate::domain::profile::PHONE_COUNTRIES;

    view! {
        <div class="field">
            <label for=name>"Phone country"</label>
            <select id=name name=name>
                <option value="" selected=selected.is_empty()>"Number starts with +"</option>
                {PHONE_COUNTRIES
                    .iter()
                    .map(|(iso, country, code, _)| {
                        view! {
                            <option value=*iso selected=selected == *iso>
                                {format!("{country} (+{code})")}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// A button that copies `text` to the clipboard and says so; where the browser refuses, it
/// says to select and copy by hand.
#[component]
pub fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let said = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = text.clone();
            leptos::task::spawn_local(async move {
                let copied = match web_sys::window() {
                    Some(window) => {
                        let promise = window.navigator().clipboard().write_text(&text);
                        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
                    }
                    None => false,
                };
                said.set(Some(if copied {
                    "Copied."
                } else {
                    "Could not copy; select the text and copy it."
                }));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" on:click=copy>{label}</button>
        <span role="status" class="hint">{move || said.get()}</span>
    }
}
