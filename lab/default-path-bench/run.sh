#!/usr/bin/env bash
# The default path's cost in one criterion run: `qr_core::generate` with no options, this tree's
# build against a build of 04eb097 (main before the options, whose API was `qr_core::png`), each
# engine over the article's 10 texts. The bench first checks that both give the same bytes.
# Usage: lab/default-path-bench/run.sh [criterion args]
set -euo pipefail
rev=04eb097
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
before="$root/target/default-path-bench/before"
rm -rf "$before"
mkdir -p "$before"
git -C "$root" archive "$rev" | tar -x -C "$before"
# Another version, so cargo can link both builds of qr-core and qr-contract into one binary.
sed -i '0,/^version = "0.1.0"$/s//version = "0.0.0-before"/' "$before/Cargo.toml"
cd "$here"
CARGO_TARGET_DIR="$root/target/default-path-bench/target" cargo bench --bench default_path -- "$@"
