//! rusty-qr's front door. Run with `cargo xtask <build|serve|test|bench>`.

fn main() {}
