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
    /// Whether the account's email address is confirmed (a banner asks until it is).
    pub email_confirmed: bool,
}

impl SignedInDoctor {
    /// What is left to do before the assistant can book patients by message, in checklist
    /// order (`set your hours and time zone and add a service`); `None` when nothing is.
    pub fn cannot_book_until(&self) -> Option<String> {
        let missing: Vec<&str> = [
            (self.has_hours, "set your hours and time zone"),
            (self.offers_a_method, "offer an appointment method"),
            (self.has_services, "add a service"),
        ]
        .into_iter()
        .filter(|(done, _)| !done)
        .map(|(_, step)| step)
        .collect();
        match missing.as_slice() {
            [] => None,
            [only] => Some((*only).to_owned()),
            [first @ .., last] => Some(format!("{} and {last}", first.join(", "))),
        }
    }
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
        let zone = crate::db::availability::zone(&mut tx).await?;
        let account = crate::db::doctors::account(&mut tx).await?;
        tx.commit().await?;
        let now = crate::db::now_millis();
        Ok(SignedInDoctor {
            email_confirmed: account.is_some_and(|a| a.email_confirmed),
            instagram: link
                .as_ref()
                .map(|link| crate::instagram::connect::health(link, now, &zone)),
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

#[cfg(test)]
mod tests {
    use super::SignedInDoctor;

    fn doctor(has_hours: bool, offers_a_method: bool, has_services: bool) -> SignedInDoctor {
        SignedInDoctor {
            full_name: "Asha Rao".into(),
            has_profile: true,
            has_hours,
            offers_a_method,
            has_services,
            instagram: None,
            unread: 0,
            email_confirmed: true,
        }
    }

    #[test]
    fn the_checklist_says_what_the_assistant_needs_before_it_can_book() {
        assert_eq!(
            doctor(false, false, false).cannot_book_until().as_deref(),
            Some("set your hours and time zone, offer an appointment method and add a service")
        );
        assert_eq!(
            doctor(true, false, true).cannot_book_until().as_deref(),
            Some("offer an appointment method")
        );
        assert_eq!(
            doctor(false, true, false).cannot_book_until().as_deref(),
            Some("set your hours and time zone and add a service")
        );
        assert_eq!(doctor(true, true, true).cannot_book_until(), None);
    }
}
