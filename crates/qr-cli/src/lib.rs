//! qr-cli's library: the sidecar's wire format ([`wire`], pure functions over bytes, for tests and
//! fuzzing) and the `--serve` loop ([`sidecar`]). The binary is `src/main.rs`.

pub mod sidecar;
pub mod wire;
