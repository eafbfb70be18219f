//! The profile pane: who the doctor is and how the practice presents itself.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{SaveButton, TracksEdits};
use crate::domain::account::FullName;
use crate::domain::profile::{self, Phone};
use crate::error::AppError;
use crate::ui::{load_failed, FormAlert, FormField, PhoneCountrySelect, SaveOutcome};

/// The profile as the form shows it; blank strings for what is not filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileForm {
    pub full_name: String,
    /// From the account; shown, not edited here.
    pub email: String,
    pub practice_name: String,
    pub phone: String,
    pub phone_country: String,
    pub address: String,
    pub public_note: String,
}

#[server(endpoint = "setup/profile")]
pub async fn practice_profile() -> Result<ProfileForm, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let stored = crate::db::practice::profile(&mut tx)
            .await?
            .ok_or(AppError::Unauthorized)?;
        tx.commit().await?;
        Ok(ProfileForm {
            full_name: stored.full_name,
            email: stored.email,
            practice_name: stored.practice_name.unwrap_or_default(),
            phone: stored.phone.unwrap_or_default(),
            phone_country: stored.phone_country.unwrap_or_default(),
            address: stored.address.unwrap_or_default(),
            public_note: stored.public_note.unwrap_or_default(),
        })
    })
    .await
}

#[server(endpoint = "setup/profile/save")]
pub async fn save_profile(
    full_name: String,
    practice_name: String,
    phone: String,
    phone_country: String,
    address: String,
    public_note: String,
) -> Result<(), AppError> {
    use crate::context::request_id;
    use crate::domain::profile::Profile;

    crate::context::for_doctor(async |db, doctor| {
        let profile = Profile::parse(
            &full_name,
            &practice_name,
            &phone,
            &phone_country,
            &address,
            &public_note,
        )
        .map_err(AppError::Invalid)?;
        let id = request_id();
        let write = async |tx: &mut _| crate::db::practice::save(tx, &profile).await;
        crate::db::audit::save_settings(db, doctor, "profile.updated", id.as_deref(), write)
            .await?;
        Ok(())
    })
    .await
}

#[component]
pub fn ProfilePane() -> impl IntoView {
    let save = ServerAction::<SaveProfile>::new();
    let SaveOutcome {
        error,
        saved,
        succeeded,
    } = SaveOutcome::of(save);
    let profile = Resource::new(move || succeeded.get(), |_| practice_profile());
    super::after_save("profile", saved);
    view! {
        <h1>"Practice profile"</h1>
        <p class="lead">"How your practice introduces itself. Patients see the practice name and the note."</p>
        <Transition fallback=|| view! { <p>"Loading your profile…"</p> }>
            <ErrorBoundary fallback=load_failed>
            {move || profile.get().map(|loaded| loaded.map(|form| view! { <ProfileFields form save error/> }))}
            </ErrorBoundary>
        </Transition>
        <Show when=move || saved.get()>
            <p class="saved" role="status">"Profile saved."</p>
        </Show>
    }
}

#[component]
fn ProfileFields(
    form: ProfileForm,
    save: ServerAction<SaveProfile>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let country = form.phone_country.clone();
    view! {
        <TracksEdits><ActionForm action=save attr:class="panel form">
            <FormAlert error/>
            <FormField
                label="Full name"
                name="full_name"
                autocomplete="name"
                value=form.full_name
                error
                validate=|v| FullName::parse(v).map(drop)
            />
            <FormField
                label="Practice name"
                name="practice_name"
                autocomplete="organization"
                value=form.practice_name
                error
                validate=|v| profile::practice_name(v).map(drop)
            />
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" type="email" value=form.email readonly=true/>
                <p class="hint">"The email you log in with."</p>
            </div>
            <PhoneCountrySelect name="phone_country" selected=country/>
            <FormField
                label="Phone"
                name="phone"
                input_type="tel"
                autocomplete="tel"
                value=form.phone
                error
                optional=true
                hint="Optional. Saved in international form, e.g. +91 98765 43210."
                validate=|v| {
                    // A national number depends on the country chosen; the server checks it.
                    if v.trim().starts_with('+') { Phone::parse(v, "").map(drop) } else { Ok(()) }
                }
            />
            <FormField
                label="Address"
                name="address"
                autocomplete="street-address"
                value=form.address
                error
                optional=true
                multiline=true
                validate=|v| profile::address(v).map(drop)
            />
            <FormField
                label="Note for patients"
                name="public_note"
                value=form.public_note
                error
                optional=true
                multiline=true
                hint="Optional, up to 280 characters, e.g. parking or what to bring."
                validate=|v| profile::public_note(v).map(drop)
            />
            <SaveButton pending=save.pending() label="Save profile"/>
        </ActionForm></TracksEdits>
    }
}
