//! The services pane: add, edit, reorder and archive the services patients can book, each
//! with the appointment methods it allows.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{TracksEdits, UnsavedEdits};
use crate::domain::methods::AppointmentMethod;
use crate::domain::services;
use crate::error::AppError;
use crate::ui::{field_message, load_failed, FieldError, FormAlert, FormField, SaveOutcome};

/// One service as the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Blank: the practice's default length.
    pub duration: String,
    pub methods: Vec<AppointmentMethod>,
    pub archived: bool,
    /// None of its methods is offered by the practice: patients cannot book it.
    pub unbookable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesView {
    pub services: Vec<ServiceView>,
    /// The methods the practice offers; a service may allow only these.
    pub offered: Vec<AppointmentMethod>,
    /// The practice's default appointment length, used by services without their own.
    pub default_minutes: u32,
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::context::request_id;
    use crate::db::{self, TenantTx};
    use crate::domain::methods::AppointmentMethod;
    use crate::domain::FieldErrors;
    use crate::error::AppError;

    /// Runs `change` (given the offered methods) in the signed-in doctor's transaction and
    /// audits it under `action` with the service id it returns, or answers "not found" when
    /// it returns none: another doctor's id looks exactly like one that does not exist.
    pub async fn change_service<F>(action: &'static str, change: F) -> Result<(), AppError>
    where
        F: AsyncFnOnce(&mut TenantTx, &[AppointmentMethod]) -> Result<Option<String>, AppError>,
    {
        crate::context::for_doctor(async |db, doctor| {
            let write = async |tx: &mut TenantTx| {
                let offered = offered_methods(tx).await?;
                let service_id = change(tx, &offered).await?.ok_or(AppError::NotFound)?;
                Ok(vec![format!("service:{service_id}")])
            };
            let id = request_id();
            db::audit::save_settings(db, doctor, action, id.as_deref(), write).await
        })
        .await
    }

    pub async fn offered_methods(tx: &mut TenantTx) -> Result<Vec<AppointmentMethod>, AppError> {
        Ok(db::methods::load(tx).await?.offered())
    }

    /// A write refused by the unique name index becomes a field error.
    pub fn name_taken(error: sqlx::Error) -> AppError {
        if db::is_unique_violation(&error) {
            AppError::Invalid(FieldErrors::single(
                "name",
                "You already have a service with this name.",
            ))
        } else {
            error.into()
        }
    }
}

#[server(endpoint = "setup/services")]
pub async fn list_services() -> Result<ServicesView, AppError> {
    use crate::domain::availability::BookingRules;

    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let offered = ssr::offered_methods(&mut tx).await?;
        let stored = crate::db::services::list(&mut tx).await?;
        let default_minutes = crate::db::availability::load(&mut tx)
            .await?
            .settings
            .map_or_else(BookingRules::default, |(_, rules)| rules)
            .appointment_minutes;
        tx.commit().await?;
        let services = stored
            .into_iter()
            .map(|s| ServiceView {
                unbookable: !s.methods.iter().any(|m| offered.contains(m)),
                id: s.id,
                name: s.name,
                description: s.description.unwrap_or_default(),
                duration: s
                    .duration_minutes
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                methods: s.methods,
                archived: s.archived,
            })
            .collect();
        Ok(ServicesView {
            services,
            offered,
            default_minutes,
        })
    })
    .await
}

/// Adds a service (`id` blank) or edits one.
#[server(endpoint = "setup/services/save")]
pub async fn save_service(
    id: String,
    name: String,
    description: String,
    duration: String,
    method_text: Option<String>,
    method_voice: Option<String>,
    method_video: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::services::ServiceDraft;

    let chosen: Vec<AppointmentMethod> = [
        (AppointmentMethod::Text, method_text),
        (AppointmentMethod::Voice, method_voice),
        (AppointmentMethod::Video, method_video),
    ]
    .into_iter()
    .filter_map(|(method, on)| on.map(|_| method))
    .collect();
    let action = if id.is_empty() {
        "service.added"
    } else {
        "service.updated"
    };
    ssr::change_service(action, async |tx, offered| {
        let draft = ServiceDraft::parse(&name, &description, &duration, &chosen, offered)
            .map_err(AppError::Invalid)?;
        if id.is_empty() {
            let id = crate::db::services::insert(tx, &draft)
                .await
                .map_err(ssr::name_taken)?;
            return Ok(Some(id));
        }
        let found = crate::db::services::update(tx, &id, &draft)
            .await
            .map_err(ssr::name_taken)?;
        Ok(found.then(|| id.clone()))
    })
    .await
}

#[server(endpoint = "setup/services/archive")]
pub async fn archive_service(id: String) -> Result<(), AppError> {
    ssr::change_service("service.archived", async |tx, _| {
        let found = crate::db::services::set_archived(tx, &id, true).await?;
        Ok(found.then(|| id.clone()))
    })
    .await
}

#[server(endpoint = "setup/services/restore")]
pub async fn restore_service(id: String) -> Result<(), AppError> {
    ssr::change_service("service.restored", async |tx, _| {
        let found = crate::db::services::set_archived(tx, &id, false)
            .await
            .map_err(ssr::name_taken)?;
        Ok(found.then(|| id.clone()))
    })
    .await
}

/// Moves a live service one place `up` or down in the list patients see.
#[server(endpoint = "setup/services/move")]
pub async fn move_service(id: String, up: bool) -> Result<(), AppError> {
    ssr::change_service("service.moved", async |tx, _| {
        let found = crate::db::services::shift(tx, &id, up).await?;
        Ok(found.then(|| id.clone()))
    })
    .await
}

#[component]
pub fn ServicesPane() -> impl IntoView {
    let save = ServerAction::<SaveService>::new();
    let archive = ServerAction::<ArchiveService>::new();
    let restore = ServerAction::<RestoreService>::new();
    let reorder = ServerAction::<MoveService>::new();
    let saving = SaveOutcome::of(save);
    let loaded = Resource::new(
        move || {
            (
                saving.succeeded.get(),
                archive.version().get(),
                restore.version().get(),
                reorder.version().get(),
            )
        },
        |_| list_services(),
    );
    // The service being edited; None: the form adds a new one.
    let editing = RwSignal::new(None::<ServiceView>);
    let edits = use_context::<UnsavedEdits>();
    Effect::new(move || {
        if matches!(save.value().get(), Some(Ok(()))) {
            editing.set(None);
            if let Some(edits) = edits {
                edits.clear();
            }
        }
    });
    let list_error = Signal::derive(move || {
        archive
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| restore.value().get().and_then(Result::err))
            .or_else(|| reorder.value().get().and_then(Result::err))
    });
    view! {
        <h1>"Services"</h1>
        <p class="lead">"What patients can book, in the order the assistant lists them."</p>
        <FormAlert error=list_error/>
        <Transition fallback=|| view! { <p>"Loading your services…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || loaded.get().map(|result| Ok::<_, AppError>(match result {
                Ok(view) => view! {
                    <ServiceList view=view.clone() editing archive restore reorder/>
                    <ServiceForm offered=view.offered editing save/>
                }.into_any(),
                Err(error) => return Err(error),
            }))}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ServiceList(
    view: ServicesView,
    editing: RwSignal<Option<ServiceView>>,
    archive: ServerAction<ArchiveService>,
    restore: ServerAction<RestoreService>,
    reorder: ServerAction<MoveService>,
) -> impl IntoView {
    let (live, archived): (Vec<_>, Vec<_>) = view.services.into_iter().partition(|s| !s.archived);
    let last = live.len().saturating_sub(1);
    let default_minutes = view.default_minutes;
    view! {
        {live.is_empty().then(|| view! { <p class="panel">"No services yet. Add your first one below."</p> })}
        <ol class="services">
            {live.into_iter().enumerate().map(|(at, service)| {
                let id = service.id.clone();
                let (up_id, down_id, archive_id) = (id.clone(), id.clone(), id.clone());
                let edit = service.clone();
                let name = service.name.clone();
                view! {
                    <li class="panel service">
                        <div>
                            <strong>{service.name.clone()}</strong>
                            <span class="meta">
                                {if service.duration.is_empty() { format!("{default_minutes} min (default)") } else { format!("{} min", service.duration) }}
                                " · "
                                {service.methods.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")}
                            </span>
                            {(!service.description.is_empty()).then(|| view! { <p class="hint">{service.description.clone()}</p> })}
                            {service.unbookable.then(|| view! {
                                <p class="warning">"Patients cannot book this: none of its methods is offered."</p>
                            })}
                        </div>
                        <div class="row-actions">
                            // Each button names its service to a screen reader ("Move
                            // Follow-up up"); the row shows which one to everyone else.
                            <button type="button" on:click=move |_| editing.set(Some(edit.clone()))>
                                "Edit"<span class="visually-hidden">" "{name.clone()}</span>
                            </button>
                            <button type="button" disabled=at == 0
                                on:click=move |_| { reorder.dispatch(MoveService { id: up_id.clone(), up: true }); }>
                                "Move "<span class="visually-hidden">{name.clone()}" "</span>"up"
                            </button>
                            <button type="button" disabled=at == last
                                on:click=move |_| { reorder.dispatch(MoveService { id: down_id.clone(), up: false }); }>
                                "Move "<span class="visually-hidden">{name.clone()}" "</span>"down"
                            </button>
                            <button type="button"
                                on:click=move |_| { archive.dispatch(ArchiveService { id: archive_id.clone() }); }>
                                "Archive"<span class="visually-hidden">" "{name.clone()}</span>
                            </button>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ol>
        {(!archived.is_empty()).then(|| view! {
            <h2>"Archived"</h2>
            <ul class="services archived">
                {archived.into_iter().map(|service| {
                    let id = service.id.clone();
                    view! {
                        <li class="panel service">
                            <span>{service.name.clone()}</span>
                            <button type="button"
                                on:click=move |_| { restore.dispatch(RestoreService { id: id.clone() }); }>
                                "Restore"<span class="visually-hidden">" "{service.name}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
    }
}

#[component]
fn ServiceForm(
    offered: Vec<AppointmentMethod>,
    editing: RwSignal<Option<ServiceView>>,
    save: ServerAction<SaveService>,
) -> impl IntoView {
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let methods_error = field_message(error, "methods");
    view! {
        {move || {
            let current = editing.get();
            let offered = offered.clone();
            let service = current.clone().unwrap_or(ServiceView {
                id: String::new(),
                name: String::new(),
                description: String::new(),
                duration: String::new(),
                methods: offered.clone(),
                archived: false,
                unbookable: false,
            });
            let heading = if current.is_some() { "Edit service" } else { "Add a service" };
            view! {
                <h2>{heading}</h2>
                <TracksEdits><ActionForm action=save attr:class="panel form">
                    <FormAlert error/>
                    <input type="hidden" name="id" value=service.id.clone()/>
                    <FormField label="Service name" name="name" value=service.name.clone() error
                        validate=|v| services::service_name(v).map(drop)/>
                    <FormField label="Description" name="description" value=service.description.clone()
                        error optional=true multiline=true
                        validate=|v| services::description(v).map(drop)/>
                    <FormField label="Duration (minutes)" name="duration" input_type="number"
                        value=service.duration.clone() error optional=true
                        hint="Leave blank to use your default appointment length."
                        validate=|v| services::duration(v).map(drop)/>
                    <fieldset class="methods"
                        aria-describedby=move || methods_error.with(Option::is_some).then_some("methods-error")>
                        <legend>"Allowed methods"</legend>
                        {offered.is_empty().then(|| view! {
                            <p class="warning">"Your practice offers no methods yet; set them under Methods & fees."</p>
                        })}
                        {offered.iter().map(|method| view! {
                            <label class="check">
                                // The server reports a refused choice under "methods".
                                <input type="checkbox" name=format!("method_{}", method.key()) value="on"
                                    data-field="methods" checked=service.methods.contains(method)/>
                                {method.label()}
                            </label>
                        }).collect_view()}
                        <FieldError id="methods-error" message=methods_error/>
                    </fieldset>
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        {if current.is_some() { "Save service" } else { "Add service" }}
                    </button>
                    {current.is_some().then(|| view! {
                        <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                    })}
                </ActionForm></TracksEdits>
            }
        }}
    }
}
