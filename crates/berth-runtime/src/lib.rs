//! berth's container runtime layer: OCI spec generation with dockerd's defaults
//! ([`spec`], [`seccomp`]), the [`runtime::Runtime`] trait over embedded libcontainer and the
//! runc CLI, the per-container monitor ([`shim`]) and the `--init` process ([`init`]).
//!
//! libcontainer forks with raw `clone3` and runs Rust in the child, so everything that calls
//! a [`runtime::Runtime`] must run in a single-threaded process: the shim.

pub mod init;
pub mod runtime;
pub mod seccomp;
pub mod shim;
mod sockpath;
pub mod spec;
pub mod sys;
pub mod user;

pub use oci_spec;
