//! Instagram: each doctor links their own Instagram professional account (through the
//! Facebook Page it belongs to). So far: sealing the Page token at rest ([`seal`]); the
//! stored link and the lookup from an Instagram or Page id to its doctor are in
//! [`crate::db::instagram`].

#[cfg(feature = "ssr")]
pub mod graph;
#[cfg(feature = "ssr")]
pub mod seal;
