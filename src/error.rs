//! `AppError`, the one error type: what a doctor is told, and (on the server) the HTTP status.
//! The cause of an internal failure is logged where it happens and never sent to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::appointments::SlotChoice;
use crate::domain::FieldErrors;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Some fields are wrong; each message shows beside its input.
    #[error("Please correct the highlighted fields.")]
    Invalid(FieldErrors),
    /// A log-in with an unknown email or a wrong password: one message for both. Close to the
    /// limit it carries how many failures remain before log-in pauses.
    #[error("The email or password is incorrect.{}", pause_warning(.0))]
    BadCredentials(Option<u32>),
    #[error("Please log in to continue.")]
    Unauthorized,
    #[error("That was not found.")]
    NotFound,
    /// Too many failed log-ins; the message says how long to wait.
    #[error("{0}")]
    TooManyAttempts(String),
    /// Someone else booked that time first; here are the nearest free times instead.
    #[error("That time was just taken. Please pick another time.")]
    SlotTaken(Vec<SlotChoice>),
    /// The change does not fit the current state of things; the message says why.
    #[error("{0}")]
    Conflict(String),
    /// Connecting Instagram through Meta did not work out; the outcome says how.
    #[error("{}", .0.message())]
    Instagram(crate::domain::instagram::Outcome),
    /// The request never reached us, or came back unreadable.
    #[error("{0}")]
    Request(String),
    /// Too much at once (password checks queue for a free core); try again shortly.
    #[error("Clariva is busy right now. Please try again in a few seconds.")]
    Busy,
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
}

fn pause_warning(remaining: &Option<u32>) -> String {
    match remaining {
        Some(1) => " One more failed attempt will pause log-in for a while.".into(),
        Some(n) => format!(" {n} more failed attempts will pause log-in for a while."),
        None => String::new(),
    }
}

impl AppError {
    /// Field messages, when the error is about the form's fields.
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            Self::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            ServerFnErrorErr::Request(_) => Self::Request(
                "Could not reach Clariva. Check your connection and try again.".into(),
            ),
            other => {
                #[cfg(feature = "ssr")]
                tracing::warn!(error = %other, "server function request failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                Self::Request(
                    "That request could not be processed. Reload the page and try again.".into(),
                )
            }
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use leptos::server_fn::error::FromServerFnError;

    use super::AppError;
    use crate::domain::instagram::Outcome;

    impl AppError {
        pub fn status(&self) -> StatusCode {
            match self {
                Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                Self::BadCredentials(_) | Self::Unauthorized => StatusCode::UNAUTHORIZED,
                Self::NotFound => StatusCode::NOT_FOUND,
                Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
                Self::SlotTaken(_) | Self::Conflict(_) => StatusCode::CONFLICT,
                Self::Request(_) => StatusCode::BAD_REQUEST,
                Self::Instagram(outcome) => match outcome {
                    Outcome::MetaRefused | Outcome::MetaUnreachable => StatusCode::BAD_GATEWAY,
                    Outcome::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
                    Outcome::Failed => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::CONFLICT,
                },
                Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
                Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }

        /// Seconds after which a refused request may be tried again, for `Retry-After`.
        pub fn retry_after(&self) -> Option<u32> {
            matches!(self, Self::Busy).then_some(RETRY_BUSY_AFTER_SECS)
        }

        /// Logs the cause of an unexpected failure and hides it from the user.
        pub fn internal(context: &'static str, cause: impl std::fmt::Display) -> Self {
            tracing::error!(error = %cause, "{context}");
            Self::Internal
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            Self::internal("database error", error)
        }
    }

    /// How long a client is asked to wait after [`AppError::Busy`].
    const RETRY_BUSY_AFTER_SECS: u32 = 2;

    impl IntoResponse for AppError {
        /// The same JSON a server function's error carries, so the browser decodes it either way.
        fn into_response(self) -> Response {
            let mut response = (
                self.status(),
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                self.ser(),
            )
                .into_response();
            if let Some(seconds) = self.retry_after() {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            response
        }
    }
}
