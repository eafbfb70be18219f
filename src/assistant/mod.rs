//! The booking assistant that answers patients in Instagram DMs from the doctor's setup:
//! menus, quick replies and forgiving text, no language model. [`engine`] decides (pure),
//! [`catalogue`] holds its words, [`when`] reads typed days and times, [`turn`] runs a turn of
//! a real conversation. The doctor tries it out at `/dashboard/assistant` ([`preview`], its
//! page in `page`): the same engine on their practice, a dry run.

#[cfg(feature = "ssr")]
pub mod catalogue;
#[cfg(feature = "ssr")]
pub mod engine;
mod page;
pub mod preview;
#[cfg(feature = "ssr")]
pub mod turn;
#[cfg(feature = "ssr")]
pub mod when;

pub use page::TryAssistantRoute;
