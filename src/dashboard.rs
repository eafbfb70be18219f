//! What the dashboard frame shows of the signed-in doctor: their name and how far the
//! practice setup has come, on every page (the bar, the overview's checklist, the wizard).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in doctor, as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInDoctor {
    pub full_name: String,
    /// Whether the practice profile has been saved (a setup step).
    pub has_profile: bool,
    /// Whether a time zone and some weekly hours are saved.
    pub has_hours: bool,
    /// Whether at least one appointment method is offered; the assistant cannot book until then.
    pub offers_a_method: bool,
    /// Whether at least one service is live.
    pub has_services: bool,
    /// The Instagram link's health, if an account is connected.
    pub instagram: Option<crate::instagram::Health>,
    /// Unread messages in the Inbox.
    pub unread: i64,
}

/// The dashboard's copy of [`current_doctor`], provided to every dashboard page.
pub type DoctorResource = Resource<Result<SignedInDoctor, AppError>>;

#[server(endpoint = "current_doctor")]
pub async fn current_doctor() -> Result<SignedInDoctor, AppError> {
    crate::context::for_doctor(async |db, doctor| {
        let mut tx = db.tenant(doctor).await?;
        let summary = crate::db::practice::summary(&mut tx)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let link = crate::db::instagram::get(&mut tx).await?;
        let unread = crate::db::conversations::unread_total(&mut tx).await?;
        tx.commit().await?;
        Ok(SignedInDoctor {
            instagram: link
                .as_ref()
                .map(|link| crate::instagram::connect::health(link, crate::db::now_millis())),
            full_name: summary.full_name,
            has_profile: summary.has_profile,
            has_hours: summary.has_hours,
            offers_a_method: summary.offers_a_method,
            has_services: summary.has_services,
            unread,
        })
    })
    .await
}
