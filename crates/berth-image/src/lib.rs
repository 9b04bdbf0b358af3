//! berth's image store: import of rootfs tars, layers (safe extraction, whiteouts),
//! the image index and its tags, container overlay filesystems, export tars and the
//! image JSON of the Docker Engine API.
//!
//! Everything is synchronous std code; the daemon calls it from blocking tasks.
//! Every path is taken as a parameter (the data root, container dirs), nothing is
//! global.
//!
//! Errors: [`ImageError`] (store and queries; map with [`ImageError::http_status`]),
//! [`layer::LayerError`], [`rootfs::RootfsError`] (500), [`changes::ChangeError`]
//! and [`reference::ReferenceError`] (400).

pub mod changes;
pub mod layer;
pub mod reference;
pub mod rootfs;
mod store;
mod sys;

pub use store::{
    chain_id, short_id, ContainerUse, DeleteItem, ImageError, ImageId, ImageStore, ImportOptions,
    LayerInfo, PreparedRootfs,
};

#[cfg(test)]
mod tests;
