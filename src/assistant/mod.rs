//! The booking assistant that answers patients in Instagram DMs from the doctor's setup:
//! menus, quick replies and forgiving text, no language model. [`engine`] decides (pure),
//! [`catalogue`] holds its words, [`when`] reads typed days and times.

pub mod catalogue;
pub mod engine;
pub mod turn;
pub mod when;
