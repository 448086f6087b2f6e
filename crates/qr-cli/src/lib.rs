//! qr-cli's library: the sidecar's wire protocol ([`protocol`], pure functions over bytes, for
//! tests and fuzzing) and the `--serve` loop ([`serve`]). The binary is `src/main.rs`.

pub mod protocol;
pub mod serve;
