//! What connecting Instagram can come to, as the pane and the errors say it.

use serde::{Deserialize, Serialize};

/// How a trip through Meta's login dialog ended; the callback sends the doctor back to the
/// pane with its code in `?result=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Connected,
    /// Several accounts: the pane offers them.
    Choose,
    Cancelled,
    MetaRefused,
    MetaUnreachable,
    NoEligibleAccount,
    TakenByAnotherDoctor,
    InvalidState,
    Expired,
    OtherSession,
    NotConfigured,
    /// Something failed on our side.
    Failed,
}

impl Outcome {
    const ALL: [Self; 12] = [
        Self::Connected,
        Self::Choose,
        Self::Cancelled,
        Self::MetaRefused,
        Self::MetaUnreachable,
        Self::NoEligibleAccount,
        Self::TakenByAnotherDoctor,
        Self::InvalidState,
        Self::Expired,
        Self::OtherSession,
        Self::NotConfigured,
        Self::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Choose => "choose",
            Self::Cancelled => "cancelled",
            Self::MetaRefused => "meta-refused",
            Self::MetaUnreachable => "meta-unreachable",
            Self::NoEligibleAccount => "no-account",
            Self::TakenByAnotherDoctor => "taken",
            Self::InvalidState => "invalid",
            Self::Expired => "expired",
            Self::OtherSession => "other-session",
            Self::NotConfigured => "not-configured",
            Self::Failed => "failed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|outcome| outcome.code() == code)
    }

    pub fn is_success(self) -> bool {
        matches!(self, Self::Connected | Self::Choose)
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Connected => "Instagram is connected. The assistant now answers DMs sent to this account.",
            Self::Choose => "You manage several Instagram accounts. Pick the one the assistant should answer.",
            Self::Cancelled => "You cancelled on Facebook, so nothing changed. Connect again whenever you are ready.",
            Self::MetaRefused => "Facebook did not complete the connection, so nothing changed. Please try again.",
            Self::MetaUnreachable => "Facebook could not be reached just now, so nothing changed. Please try again in a moment.",
            Self::NoEligibleAccount => "None of the Facebook Pages you manage has an Instagram professional account linked to it. Switch your Instagram account to a professional (business or creator) account, link it to a Facebook Page you manage, then connect again.",
            Self::TakenByAnotherDoctor => "That Instagram account is already connected to another Clariva practice. It has to be disconnected there first.",
            Self::InvalidState => "That connection link is not valid: it was already used or has been changed. Start again with Connect Instagram.",
            Self::Expired => "That connection took longer than 10 minutes and expired. Start again with Connect Instagram.",
            Self::OtherSession => "That connection was started from another log-in. Start again with Connect Instagram here.",
            Self::NotConfigured => "Instagram connections are not set up on this Clariva server yet.",
            Self::Failed => "Something went wrong on our side, so nothing was connected. Please try again in a moment.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_code_reads_back_as_itself() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::from_code(outcome.code()), Some(outcome));
        }
        assert_eq!(Outcome::from_code("anything else"), None);
    }
}
