//! Pure rules of the practice, compiled for the server and the browser alike: no I/O here.
//! Every form field is parsed into a domain value once ("parse, don't validate"), so code past
//! that point cannot hold an invalid one, and the browser shows the same messages the server
//! enforces.

pub mod account;
pub mod appointments;
pub mod assistant;
pub mod availability;
pub mod field_errors;
pub mod instagram;
pub mod methods;
pub mod money;
pub mod outgoing;
pub mod payments;
pub mod profile;
pub mod services;
/// Server-only: it needs the time zone database, which the browser bundle does not carry.
#[cfg(feature = "ssr")]
pub mod slots;
pub mod text;

pub use field_errors::FieldErrors;
