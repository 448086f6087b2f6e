//! Fuzz target: any bytes through the contract's text rule and the fast engine; the PNG must read
//! back as the same bytes (rqrr), else the error is a typed input error. Never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qr_core::Engine;

fuzz_target!(|data: &[u8]| rusty_qr_fuzz::core(data, Engine::Fast));
