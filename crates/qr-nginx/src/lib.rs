//! nginx in front of tier 4, as a library the two binaries share: `qr-nginx` (tier-4-nginx, nginx
//! routing `/qrcode` to qr-server and every other path to the Node app) and `qr-cluster`
//! (`cargo xtask cluster`: N replicas of qr-server, each in a network namespace of its own, behind
//! one load-balanced nginx upstream).
//!
//! `config` writes nginx's configuration, `nginx` runs nginx in its run folder, `status` sees a
//! child's exit without reaping it, `netns` makes and removes the namespaces and their veth pairs,
//! and `cluster` puts them together. Run the tests with `cargo test -p qr-nginx -- --include-ignored`
//! (as root, after `cargo xtask build`).

pub mod cluster;
pub mod config;
pub mod netns;
pub mod nginx;
pub mod status;
