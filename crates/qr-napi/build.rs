//! Link settings Node.js addons need on some platforms (e.g. macOS's dynamic lookup).

fn main() {
    napi_build::setup();
}
