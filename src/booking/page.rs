//! `/dashboard/appointments`: the week calendar, the filtered list, a details panel with the
//! changes the doctor may make, and the form to book a patient by hand. Also the agenda on
//! the dashboard home.

use leptos::prelude::*;

use super::payment::{MarkPaid, PaymentLink};
use super::{
    booking_options, free_times, list_appointments, AgendaView, AppointmentView, AppointmentsView,
    BookAppointment, BookingChoices, ChangeAppointment, FreeTimesView,
};
use crate::domain::appointments::{self, Status};
use crate::domain::profile::Phone;
use crate::error::AppError;
use crate::ui::{
    field_message, load_failed, CopyButton, FieldError, FormAlert, FormField, PhoneCountrySelect,
    SaveOutcome,
};

/// Pixels per hour in the week calendar.
const HOUR_PX: u16 = 48;

lazy_page!(
    /// The appointments page.
    AppointmentsRoute => AppointmentsPage
);

#[component]
fn AppointmentsPage() -> impl IntoView {
    let book = ServerAction::<BookAppointment>::new();
    let change = ServerAction::<ChangeAppointment>::new();
    let paying = Paying {
        mark_paid: ServerAction::new(),
        link: ServerAction::new(),
    };
    let week = RwSignal::new(String::new());
    let filter = RwSignal::new("upcoming".to_owned());
    let selected = Selected::new();
    // Reloaded after a change went through only: drawing the page again after a refusal would
    // take the doctor's focus away from the field to fix.
    let changed = [
        SaveOutcome::of(book).succeeded,
        SaveOutcome::of(change).succeeded,
        SaveOutcome::of(paying.mark_paid).succeeded,
        SaveOutcome::of(paying.link).succeeded,
    ];
    let loaded = Resource::new(
        move || {
            (
                week.get(),
                filter.get(),
                changed.map(|succeeded| succeeded.get()),
            )
        },
        |(week, filter, _)| list_appointments(week, filter),
    );
    view! {
        <h1>"Appointments"</h1>
        <Transition fallback=|| view! { <p>"Loading your appointments…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || Suspend::new(async move { Ok::<_, AppError>(match loaded.await {
                Ok(view) => view! {
                    <p class="lead">"Times are in " {view.zone.clone()} "."</p>
                    <WeekCalendar view=view.clone() week selected/>
                    <Details view=view.clone() selected change paying/>
                    <AppointmentList list=view.list filter selected/>
                }.into_any(),
                Err(error) => return Err(error),
            })})}
            </ErrorBoundary>
        </Transition>
        <BookingPanel book change/>
    }
}

/// The appointment whose details are open, and the button that opened them: opening moves
/// the focus into the details, and closing them (Escape, or "Close") moves it back.
#[derive(Clone, Copy)]
struct Selected {
    id: RwSignal<Option<String>>,
    /// The DOM id of the button that opened the details.
    opener: StoredValue<Option<String>>,
    /// Set on opening, until the details have taken the focus (not when they are drawn again
    /// after a change).
    arriving: StoredValue<bool>,
}

impl Selected {
    fn new() -> Self {
        Self {
            id: RwSignal::new(None),
            opener: StoredValue::new(None),
            arriving: StoredValue::new(false),
        }
    }

    fn open(self, appointment: String, opener: String) {
        self.opener.set_value(Some(opener));
        self.arriving.set_value(true);
        self.id.set(Some(appointment));
    }

    fn close(self) {
        self.id.set(None);
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;

            let opener = self
                .opener
                .get_value()
                .and_then(|id| document().get_element_by_id(&id))
                .and_then(|button| button.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(button) = opener {
                let _ = button.focus();
            }
        }
    }
}

#[component]
fn WeekCalendar(
    view: AppointmentsView,
    week: RwSignal<String>,
    selected: Selected,
) -> impl IntoView {
    let AppointmentsView {
        week_label,
        previous_week,
        next_week,
        days,
        first_hour,
        last_hour,
        ..
    } = view;
    let height = (last_hour - first_hour) * HOUR_PX;
    let top_of = move |minute: u16| (u32::from(minute) * u32::from(HOUR_PX)) / 60;
    let origin = top_of(first_hour * 60);
    view! {
        <section class="panel calendar" aria-labelledby="week-title">
            <div class="calendar-head">
                <button type="button" on:click=move |_| week.set(previous_week.clone())>"← Previous week"</button>
                <h2 id="week-title">{week_label}</h2>
                <button type="button" on:click=move |_| week.set(next_week.clone())>"Next week →"</button>
            </div>
            <div class="week" style=format!("--hours:{};--hour-px:{HOUR_PX}px", last_hour - first_hour)>
                <div class="hours" aria-hidden="true">
                    {(first_hour..last_hour).map(|h| view! { <span>{format!("{h:02}:00")}</span> }).collect_view()}
                </div>
                {days.into_iter().map(|day| view! {
                    <div class="day" role="group" aria-label=day.label.clone()>
                        <h3>{day.label.clone()}</h3>
                        <div class="day-body" style=format!("height:{height}px")>
                            {day.appointments.into_iter().map(|a| {
                                let top = top_of(a.start_minute).saturating_sub(origin);
                                let tall = top_of(a.end_minute).saturating_sub(top_of(a.start_minute)).max(18);
                                let id = a.id.clone();
                                let button_id = format!("slot-{id}");
                                let opener = button_id.clone();
                                view! {
                                    <button type="button" class=format!("appt {}", a.status.key()) id=button_id
                                        style=format!("top:{top}px;height:{tall}px")
                                        on:click=move |_| selected.open(id.clone(), opener.clone())>
                                        <span class="time">{a.when.rsplit(", ").next().unwrap_or_default().to_owned()}</span>
                                        " "
                                        <span class="who">{a.patient_name.clone()}</span>
                                    </button>
                                }
                            }).collect_view()}
                        </div>
                    </div>
                }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn AppointmentList(
    list: Vec<AppointmentView>,
    filter: RwSignal<String>,
    selected: Selected,
) -> impl IntoView {
    let choices = [("upcoming", "Upcoming"), ("all", "All")]
        .into_iter()
        .chain(Status::ALL.into_iter().map(|s| (s.key(), s.label())));
    view! {
        <section class="panel" aria-labelledby="list-title">
            <div class="list-head">
                <h2 id="list-title">"List"</h2>
                <label for="status-filter">"Show"</label>
                <select id="status-filter" on:change=move |ev| filter.set(event_target_value(&ev))>
                    {choices.map(|(key, label)| view! {
                        <option value=key selected=move || filter.get() == key>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            // No table without rows: header cells with no data cells confuse screen readers.
            {if list.is_empty() {
                view! { <p class="hint">"No appointments here."</p> }.into_any()
            } else { view! {
                <table class="appointments">
                    <thead><tr>
                        <th>"When"</th><th>"Patient"</th><th>"Service"</th><th>"Method"</th>
                        <th>"Fee"</th><th>"Status"</th><th><span class="visually-hidden">"Details"</span></th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|a| {
                            let id = a.id.clone();
                            let button_id = format!("details-{id}");
                            let opener = button_id.clone();
                            view! {
                                <tr>
                                    <td>{a.when.clone()}</td>
                                    <td>{a.patient_name.clone()}</td>
                                    <td>{a.service_name.clone()}</td>
                                    <td>{a.method.clone()}</td>
                                    <td>{a.fee.clone()}</td>
                                    <td><span class=format!("badge {}", a.status.key())>{a.status.label()}</span></td>
                                    <td><button type="button" id=button_id on:click=move |_| selected.open(id.clone(), opener.clone())
                                        aria-label=format!("Details of {} on {}", a.patient_name, a.when)>"Details"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any() }}
        </section>
    }
}

/// What the doctor can do about an appointment's fee.
#[derive(Clone, Copy)]
struct Paying {
    mark_paid: ServerAction<MarkPaid>,
    link: ServerAction<PaymentLink>,
}

/// The selected appointment's payment, and the buttons for its fee.
#[component]
fn PaymentDetails(a: AppointmentView, paying: Paying) -> impl IntoView {
    let error = Signal::derive(move || {
        paying
            .mark_paid
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| paying.link.value().get().and_then(Result::err))
    });
    let busy = move || paying.mark_paid.pending().get() || paying.link.pending().get();
    let (mark_id, link_id) = (a.id.clone(), a.id.clone());
    view! {
        {a.payment.clone().map(|p| view! {
            <dl class="payment">
                <dt>"Payment"</dt><dd>{p.state.clone()}</dd>
                {p.paid.clone().map(|at| view! { <dt>"Paid on"</dt><dd>{at}</dd> })}
                {p.reference.clone().map(|r| view! { <dt>"Reference"</dt><dd><code>{r}</code></dd> })}
                {p.refund.clone().map(|r| view! { <dt>"Refund"</dt><dd>{r}</dd> })}
                {p.problem.clone().map(|r| view! { <dt>"Problem"</dt><dd>{r}</dd> })}
            </dl>
            {p.link.clone().map(|url| view! {
                <p class="copy-line">
                    <input type="text" readonly value=url.clone() aria-label="Payment link"/>
                    <CopyButton text=url label="Copy payment link"/>
                </p>
            })}
        })}
        <FormAlert error/>
        <div class="row-actions">
            {a.can_mark_paid.then(|| view! {
                <button type="button" disabled=busy on:click=move |_| {
                    paying.mark_paid.dispatch(MarkPaid { id: mark_id.clone() });
                }>"Mark paid at the clinic"</button>
            })}
            {a.can_ask_payment.then(|| view! {
                <button type="button" disabled=busy on:click=move |_| {
                    paying.link.dispatch(PaymentLink { id: link_id.clone() });
                }>{move || if paying.link.pending().get() { "Making the link…" } else { "Get a payment link" }}</button>
            })}
        </div>
    }
}

/// The selected appointment and the changes the doctor may make to it.
#[component]
fn Details(
    view: AppointmentsView,
    selected: Selected,
    change: ServerAction<ChangeAppointment>,
    paying: Paying,
) -> impl IntoView {
    let every: Vec<AppointmentView> = view
        .days
        .into_iter()
        .flat_map(|d| d.appointments)
        .chain(view.list)
        .collect();
    let error = Signal::derive(move || change.value().get().and_then(Result::err));
    move || {
        let id = selected.id.get()?;
        let a = every.iter().find(|a| a.id == id)?.clone();
        let buttons = a
            .actions
            .iter()
            .filter(|s| **s != Status::Cancelled)
            .map(|status| {
                let (id, key) = (a.id.clone(), status.key().to_owned());
                let label = match status {
                    Status::Completed => "Mark completed",
                    Status::NoShow => "Mark no-show",
                    _ => "Confirm",
                };
                view! {
                    <button type="button" on:click=move |_| {
                        change.dispatch(ChangeAppointment { id: id.clone(), status: key.clone(), reason: String::new() });
                    }>{label}</button>
                }
            })
            .collect_view();
        let can_cancel = a.actions.contains(&Status::Cancelled);
        let heading = NodeRef::<leptos::html::H2>::new();
        heading.on_load(move |heading| {
            if selected.arriving.get_value() {
                selected.arriving.set_value(false);
                let _ = heading.focus();
            }
        });
        let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" {
                ev.prevent_default();
                selected.close();
            }
        };
        Some(view! {
            <section class="panel details" aria-labelledby="details-title" on:keydown=on_keydown>
                // Takes the focus on opening (not a stop of the Tab order).
                <h2 id="details-title" tabindex="-1" node_ref=heading>{a.patient_name.clone()}</h2>
                <dl>
                    <dt>"When"</dt><dd>{a.when.clone()}</dd>
                    {a.on_file_as.clone().map(|name| view! { <dt>"On file as"</dt><dd>{name}</dd> })}
                    <dt>"Phone"</dt><dd>{a.patient_phone.clone()}</dd>
                    {a.note.clone().map(|note| view! { <dt>"Note"</dt><dd>{note}</dd> })}
                    <dt>"Service"</dt><dd>{a.service_name.clone()}</dd>
                    <dt>"Method"</dt><dd>{a.method.clone()}</dd>
                    <dt>"Fee"</dt><dd>{a.fee.clone()}</dd>
                    <dt>"Status"</dt><dd>{a.status.label()}</dd>
                    <dt>"Booked from"</dt><dd>{a.source.clone()}</dd>
                    {a.hold_expires.clone().map(|at| view! { <dt>"Held until"</dt><dd>{at}</dd> })}
                    {a.cancel_reason.clone().map(|r| view! { <dt>"Reason"</dt><dd>{r}</dd> })}
                </dl>
                <PaymentDetails a=a.clone() paying/>
                <FormAlert error/>
                <div class="row-actions">{buttons}</div>
                {can_cancel.then(|| view! {
                    <ActionForm action=change attr:class="form cancel">
                        <input type="hidden" name="id" value=a.id.clone()/>
                        <input type="hidden" name="status" value="cancelled"/>
                        <FormField label="Reason for cancelling" name="reason" error
                            validate=|v| appointments::cancel_reason(v).map(drop)/>
                        <button type="submit" class="danger" disabled=move || change.pending().get()>"Cancel appointment"</button>
                    </ActionForm>
                })}
                <button type="button" on:click=move |_| selected.close()>"Close"</button>
            </section>
        })
    }
}

/// What the booking form has chosen so far.
#[derive(Clone, Copy)]
struct Choice {
    /// Blank: the first bookable service.
    service: RwSignal<String>,
    /// Blank: the first day with a free time.
    day: RwSignal<String>,
    /// A free time picked from the suggestions after a lost race.
    time: RwSignal<Option<i64>>,
}

#[component]
fn BookingPanel(
    book: ServerAction<BookAppointment>,
    /// Free times change when an appointment is cancelled, too.
    change: ServerAction<ChangeAppointment>,
) -> impl IntoView {
    // Both resources are created here, outside the Transitions that read them: a resource
    // created while a Suspense renders its children keeps server rendering waiting.
    let options = Resource::new(|| (), |()| booking_options());
    let choice = Choice {
        service: RwSignal::new(String::new()),
        day: RwSignal::new(String::new()),
        time: RwSignal::new(None),
    };
    let times = Resource::new(
        move || {
            (
                choice.service.get(),
                choice.day.get(),
                book.version().get(),
                change.version().get(),
            )
        },
        |(service, day, _, _)| free_times(service, day),
    );
    view! {
        <section class="panel" aria-labelledby="book-title">
            <h2 id="book-title">"Book a patient"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move { Ok::<_, AppError>(match options.await {
                    Ok(BookingChoices { missing: Some(missing), .. }) => view! {
                        <p class="alert" role="note">{missing}</p>
                    }.into_any(),
                    Ok(options) => view! { <BookingForm options book choice times/> }.into_any(),
                    Err(error) => return Err(error),
                })})}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn BookingForm(
    options: BookingChoices,
    book: ServerAction<BookAppointment>,
    choice: Choice,
    times: Resource<Result<FreeTimesView, AppError>>,
) -> impl IntoView {
    let BookingChoices {
        services,
        phone_country,
        ..
    } = options;
    let Choice { service, day, time } = choice;
    let first_service = services.first().map(|s| s.id.clone()).unwrap_or_default();
    let current_service = move || {
        let chosen = service.get();
        if chosen.is_empty() {
            first_service.clone()
        } else {
            chosen
        }
    };
    let error = Signal::derive(move || book.value().get().and_then(Result::err));
    let methods = {
        let services = services.clone();
        let current_service = current_service.clone();
        move || {
            let current = current_service();
            let chosen = services.iter().find(|s| s.id == current).cloned();
            chosen.map(|s| {
                s.methods
                    .into_iter()
                    .enumerate()
                    .map(|(at, m)| view! {
                        <label class="check">
                            <input type="radio" name="method" value=m.key.clone() checked=at == 0/>
                            {format!("{} ({})", m.label, m.fee)}
                        </label>
                    })
                    .collect_view()
            })
        }
    };
    view! {
        <ActionForm action=book attr:class="form">
            <FormAlert error/>
            <SlotTaken book choice/>
            {move || book.value().get().and_then(Result::ok).map(|a| view! {
                <p class="success" role="status">{format!("Booked {} for {}.", a.when, a.patient_name)}</p>
            })}
            <div class="field">
                <label for="service">"Service"</label>
                <select id="service" name="service" on:change=move |ev| {
                    service.set(event_target_value(&ev));
                    day.set(String::new());
                }>
                    {services.iter().map(|s| view! {
                        <option value=s.id.clone()>{format!("{} · {} min", s.name, s.minutes)}</option>
                    }).collect_view()}
                </select>
            </div>
            <fieldset class="methods">
                <legend>"Method"</legend>
                {methods}
            </fieldset>
            <Transition fallback=|| view! { <p>"Finding free times…"</p> }>
                <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move { Ok::<_, AppError>(match times.await {
                    Ok(free) => {
                        let none_today = free.times.is_empty();
                        let refused = field_message(error, "starts_at");
                        let message = Signal::derive(move || {
                            refused.get().or_else(|| {
                                none_today.then(|| "No free times that day; choose another day.".to_owned())
                            })
                        });
                        view! {
                            <div class="field">
                                <label for="day">"Day"</label>
                                <select id="day" on:change=move |ev| { time.set(None); day.set(event_target_value(&ev)); }>
                                    {free.days.iter().map(|d| view! {
                                        <option value=d.date.clone() selected=d.date == free.day disabled=d.free == 0>
                                            {match d.free { 0 => format!("{} · full", d.label), 1 => format!("{} · 1 free time", d.label), n => format!("{} · {n} free times", d.label) }}
                                        </option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="starts_at">"Time"</label>
                                <select id="starts_at" name="starts_at"
                                    aria-invalid=move || refused.with(Option::is_some).then_some("true")
                                    aria-describedby=move || message.with(Option::is_some).then_some("starts_at-error")>
                                    {free.times.into_iter().map(|t| {
                                        let at = t.starts_at;
                                        view! {
                                            <option value=at.to_string() selected=move || time.get() == Some(at)>{t.label}</option>
                                        }
                                    }).collect_view()}
                                </select>
                                <FieldError id="starts_at-error" message/>
                            </div>
                        }.into_any()
                    }
                    Err(error) => return Err(error),
                })})}
                </ErrorBoundary>
            </Transition>
            <FormField label="Patient name" name="patient_name" autocomplete="off" error
                validate=|v| appointments::patient_name(v).map(drop)/>
            <PhoneCountrySelect name="phone_country" selected=phone_country.clone()/>
            <FormField label="Patient phone" name="patient_phone" input_type="tel" autocomplete="off" error
                hint="A national number uses the country above; or start with +."
                validate=|v| Phone::parse(v, "").map(drop).or_else(|e| if v.trim_start().starts_with('+') { Err(e) } else { Ok(()) })/>
            <FormField label="Note" name="note" error optional=true multiline=true
                validate=|v| appointments::patient_note(v).map(drop)/>
            <button type="submit" class="primary" disabled=move || book.pending().get()>"Book appointment"</button>
        </ActionForm>
    }
}

/// After losing a time to another booking: the nearest free times, one click each.
#[component]
fn SlotTaken(book: ServerAction<BookAppointment>, choice: Choice) -> impl IntoView {
    let Choice { day, time, .. } = choice;
    move || match book.value().get() {
        Some(Err(AppError::SlotTaken(nearby))) if !nearby.is_empty() => Some(view! {
            <div class="panel" role="group" aria-label="Free times nearby">
                <p>"Free times nearby:"</p>
                {nearby.into_iter().map(|choice| view! {
                    <button type="button" on:click=move |_| {
                        day.set(choice.date.clone());
                        time.set(Some(choice.starts_at));
                    }>{choice.label.clone()}</button>
                }).collect_view()}
            </div>
        }),
        _ => None,
    }
}

/// Today's appointments and the next few, for the dashboard home; `agenda` loads them.
#[component]
pub fn NextAppointments(agenda: Resource<Result<AgendaView, AppError>>) -> impl IntoView {
    let list = |items: Vec<AppointmentView>| {
        items
            .into_iter()
            .map(|a| view! {
                <li>
                    <strong>{a.when.clone()}</strong>
                    " · " {a.patient_name.clone()} " · " {a.service_name.clone()}
                    " · " <span class=format!("badge {}", a.status.key())>{a.status.label()}</span>
                </li>
            })
            .collect_view()
    };
    view! {
        <section class="panel" aria-labelledby="agenda-title">
            <h2 id="agenda-title">"Appointments"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move { Ok::<_, AppError>(match agenda.await {
                    Ok(agenda) => view! {
                        <h3>"Today"</h3>
                        {agenda.today.is_empty().then(|| view! { <p class="hint">"Nothing booked today."</p> })}
                        <ul class="agenda">{list(agenda.today)}</ul>
                        <h3>"Next"</h3>
                        {agenda.next.is_empty().then(|| view! { <p class="hint">"Nothing booked after today yet."</p> })}
                        <ul class="agenda">{list(agenda.next)}</ul>
                    }.into_any(),
                    Err(error) => return Err(error),
                })})}
                </ErrorBoundary>
            </Transition>
            <p><a href="/dashboard/appointments">"All appointments and booking"</a></p>
        </section>
    }
}
