//! Docker Engine API vocabulary shared by the daemon and the CLI: wire types,
//! routes parsed into typed actions, errors mapped to dockerd's status codes.
#![forbid(unsafe_code)]

pub mod compat;
pub mod error;
pub mod filters;
mod query;
pub mod route;
pub mod types;
pub mod version;
