//! `cargo xtask image`: tier 4 as a container image, `rusty-qr/qr-server:latest`, built by
//! `docker build` from deploy/Dockerfile: `FROM scratch` (no base image, so no registry) with the
//! static qr-server built here (glibc linked in with `+crt-static`; the toolchain has no musl
//! target here), run as a numeric non-root user, with no shell.
//!
//! Run with `cargo xtask image`: the static build, `docker build` with the running engine or a
//! `dockerd` started here (lab/xtask/src/docker.rs), the image's config checked through
//! `docker image inspect` and its binary run alone (static: it runs; no shell: `/bin/sh` does
//! not), then `docker save` to `target/image/qr-server.tar` (for `docker load`,
//! `podman load` or `kind load image-archive`: a dockerd started here keeps its images in
//! `target/docker/`, out of other engines' reach). `cargo xtask image --check` (run by
//! `cargo xtask test`) also runs the image with every engine and passes the conformance suite
//! against it.
//!
//! # Written by hand, then built by Docker
//! This module used to write the image archive itself (the layer's tar and gzip, digests, config,
//! OCI and `docker save` manifests), read it back and check it. Measured against `docker build` of
//! deploy/Dockerfile (2026-12-06; Debian 12's docker.io 20.10, vfs, its legacy builder; the same
//! 3.3 MB binary, already built; 2 shared cores):
//!
//! | | written by hand | `docker build` |
//! | --- | --- | --- |
//! | lines (what differs) | ~440 Rust (writer, read-back, tar and ELF checks, tests), the tar and flate2 crates | 18 of Dockerfile, ~165 Rust (build, inspect, two runs alone, tests) |
//! | seconds | 4 to 5.6 (gzip -9 in xtask's debug build), + 0.3 to `docker load` it | 6 to 7 (0.1 to 0.2 cached) + 0.06 `docker save` + 0.3 to 0.8 to start a dockerd: 2.1 to 2.6 in all, cached |
//! | reproducible | yes: the same binary gives the same bytes, the same image ID | no: two `--no-cache` builds differ (the time is in the config and the layer's folders); a cached build, and `docker save` of one image, are the same bytes |
//! | needs an engine | not to write the tar, but to run it (`--check`, `test`, any user) | yes |
//!
//! What was lost, the byte-reproducible image, nothing here uses (deploy/k8s names a tag). Only
//! BuildKit 0.11 or newer (`SOURCE_DATE_EPOCH`) would give it back: two builds with the BuildKit
//! that Debian 12's dockerd embeds (`DOCKER_BUILDKIT=1` with its docker 20.10 client) differed too.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use anyhow::{Result, ensure};
use qr_contract::Engine;
use qr_harness::{paths, repo_root};
use serde_json::{Value, json};

use crate::builds;
use crate::cmd::{Step, cargo, output, run};
use crate::docker::{Container, Docker};

/// The image's name.
const IMAGE: &str = "rusty-qr/qr-server:latest";
/// The Dockerfile, relative to the repository root.
const DOCKERFILE: &str = "deploy/Dockerfile";
/// Where deploy/Dockerfile puts the binary.
const BINARY: &str = "/usr/local/bin/qr-server";
/// deploy/Dockerfile's default command: every interface, inside the container's network namespace.
const DEFAULT_ARGS: [&str; 2] = ["--addr", "0.0.0.0:8080"];
const PORT: &str = "8080/tcp";
/// The uid the server runs as (deploy/Dockerfile's USER; distroless's `nonroot`).
const UID: &str = "65532";
/// How the static binary is linked: glibc linked in, and no debug info (symbols stay, so a
/// backtrace still names functions).
const STATIC_FLAGS: [&str; 4] = ["-C", "target-feature=+crt-static", "-C", "strip=debuginfo"];

/// `cargo xtask image [--check]`.
pub fn image(check: bool) -> Result<()> {
    let root = repo_root();
    let binary = build_static(root)?;
    let docker = Docker::running_or_start()?;
    build_image(&docker, root, &binary)?;
    check_runs_alone(&docker)?;
    let out = paths::target_dir().join("image/qr-server.tar");
    run(docker
        .command()
        .args(["save", "--output"])
        .arg(&out)
        .arg(IMAGE))?;
    println!(
        "{IMAGE}, saved to {} ({:.1} MiB; the binary {:.1} MiB)",
        paths::shown(&out),
        mib(std::fs::metadata(&out)?.len()),
        mib(std::fs::metadata(&binary)?.len()),
    );
    if check {
        builds::check_node()?;
        builds::npm_ci_if_stale(root)?;
        check_in_docker(&docker, root)?;
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Links the release qr-server statically: `cargo rustc` passes the flags to the binary's own
/// compile and link only, so every library (the qr-server crate's included) is the release
/// build's, already built, and only the binary is made again. It replaces the dynamic binary in
/// `target/release/`, which the next `cargo build --release` makes again (its flags differ).
/// A static binary is the same server: it runs wherever the dynamic one does.
fn build_static(root: &Path) -> Result<PathBuf> {
    let step = Step::start("static link of the release qr-server (+crt-static)");
    run(cargo(root)
        .args([
            "rustc",
            "--release",
            "-p",
            "qr-server",
            "--bin",
            "qr-server",
            "--",
        ])
        .args(STATIC_FLAGS))?;
    step.done();
    Ok(paths::qr_server())
}

/// `docker build` of deploy/Dockerfile in a context folder holding `binary` alone
/// (`target/image/context/`), then the built image's rules checked.
fn build_image(docker: &Docker, root: &Path, binary: &Path) -> Result<()> {
    let context = paths::target_dir().join("image/context");
    if context.exists() {
        std::fs::remove_dir_all(&context)?;
    }
    std::fs::create_dir_all(&context)?;
    std::fs::copy(binary, context.join("qr-server"))?;
    let step = Step::start("docker build (deploy/Dockerfile: FROM scratch, the static binary)");
    run(docker
        .command()
        .args(["build", "--tag", IMAGE, "--file"])
        .arg(root.join(DOCKERFILE))
        .arg(format!(
            "--label=org.opencontainers.image.version={}",
            env!("CARGO_PKG_VERSION")
        ))
        .arg(&context))?;
    step.done();
    let inspected = output(docker.command().args(["image", "inspect", IMAGE]))?;
    let inspected: Value = serde_json::from_str(&inspected)?;
    check_config(&inspected[0])
}

/// The image's rules, on its `docker image inspect`: one layer (the binary's); a numeric user
/// that is not root; the binary itself as entrypoint (no shell), listening on port 8080 of every
/// interface by default.
fn check_config(image: &Value) -> Result<()> {
    let layers = image["RootFS"]["Layers"].as_array().map_or(0, Vec::len);
    ensure!(layers == 1, "{layers} layers: expected one, the binary's");
    let config = &image["Config"];
    let user = config["User"].as_str().unwrap_or_default();
    let ids: Vec<Option<u32>> = user.split(':').map(|id| id.parse().ok()).collect();
    ensure!(
        ids.len() == 2 && ids.iter().all(|id| id.is_some_and(|id| id != 0)),
        "the user is {user:?}: expected numeric non-root uid:gid"
    );
    ensure!(
        config["Entrypoint"] == json!([BINARY]),
        "the entrypoint is {}: expected the binary itself, no shell",
        config["Entrypoint"]
    );
    ensure!(config["Cmd"] == json!(DEFAULT_ARGS), "the default command");
    ensure!(config["ExposedPorts"] == json!({ PORT: {} }), "port 8080");
    ensure!(image["Os"] == "linux", "a Linux image");
    Ok(())
}

/// What running the image alone shows: `qr-server --help` runs (so the binary is static: `scratch`
/// has no dynamic loader), and `/bin/sh` does not (`docker run` exits 127 when the command is not
/// found: there is no shell).
fn check_runs_alone(docker: &Docker) -> Result<()> {
    let run_alone = |entrypoint: &str, args: &[&str]| {
        docker
            .command()
            .args(["run", "--rm", "--pull", "never", "--entrypoint", entrypoint])
            .arg(IMAGE)
            .args(args)
            .output()
    };
    let help = run_alone(BINARY, &["--help"])?;
    ensure!(
        help.status.success(),
        "{BINARY} does not run in the image ({}; is it static?): {}",
        help.status,
        String::from_utf8_lossy(&help.stderr).trim()
    );
    let shell = run_alone("/bin/sh", &["-c", "true"])?;
    ensure!(
        shell.status.code() == Some(127),
        "the image ran /bin/sh ({}): it must have no shell",
        shell.status
    );
    Ok(())
}

/// Runs the image for every engine on host networking at 127.0.0.1
/// on a free port, read-only, without capabilities (as deploy/k8s runs it), checks that its
/// process is not root, passes the conformance suite against it (`RUSTY_QR_EXTERNAL`), and stops
/// it with SIGTERM, which must end it with status 0.
fn check_in_docker(docker: &Docker, root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    for &engine in Engine::ALL {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let container = Container {
            docker,
            name: format!("rusty-qr-image-check-{}-{engine}", std::process::id()),
        };
        let step = Step::start("docker run (host network, 127.0.0.1, read-only, no capabilities)");
        run(docker
            .command()
            .args(["run", "--detach", "--pull", "never", "--network", "host"])
            .args(["--read-only", "--cap-drop", "ALL"])
            .args(["--security-opt", "no-new-privileges"])
            .args(["--name", &container.name, IMAGE])
            .args(["--addr", &addr.to_string(), "--engine", engine.name()]))?;
        container.wait_for(addr)?;
        step.done();
        let pid = container.inspect("{{.State.Pid}}")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let uid = status.lines().find(|line| line.starts_with("Uid:"));
        ensure!(
            uid.is_some_and(|line| line.split_whitespace().skip(1).all(|id| id == UID)),
            "the container's process runs as {uid:?}, not {UID}"
        );
        let step = Step::start("the conformance suite against the container");
        run(cargo(root)
            .args(["test", "-p", "qr-harness", "--test", "conformance", "--"])
            .args(["--include-ignored", "tier_4_"])
            .env("RUSTY_QR_EXTERNAL", format!("{engine}@{addr}")))?;
        step.done();
        run(docker.command().args(["stop", "-t", "30", &container.name]))?;
        let exit = container.inspect("{{.State.ExitCode}}")?;
        ensure!(
            exit == "0",
            "after SIGTERM the container exited with {exit}, not 0"
        );
    }
    println!(
        "the image passed the conformance suite with every engine in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `docker image inspect` says of deploy/Dockerfile's image (the fields checked).
    fn inspected() -> Value {
        json!({
            "Os": "linux",
            "Architecture": "amd64",
            "RootFS": { "Type": "layers", "Layers": ["sha256:e7fd80ddb82c38cb65ed32c64d8fe8dabde9640afca8cd1685c13d812d3b7628"] },
            "Config": {
                "User": "65532:65532",
                "Entrypoint": [BINARY],
                "Cmd": DEFAULT_ARGS,
                "ExposedPorts": { PORT: {} },
                "StopSignal": "SIGTERM",
            },
        })
    }

    #[test]
    fn a_broken_image_fails_the_check() {
        check_config(&inspected()).unwrap();
        let fails = |pointer: &str, value: Value, why: &str| {
            let mut image = inspected();
            *image.pointer_mut(pointer).unwrap() = value;
            let err = check_config(&image).unwrap_err().to_string();
            assert!(err.contains(why), "{pointer}: {err}");
        };
        for user in ["0:0", "65532", "nobody:nogroup", "65532:0", ""] {
            fails("/Config/User", json!(user), "non-root");
        }
        fails(
            "/Config/Entrypoint",
            json!(["/bin/sh", "-c", BINARY]),
            "no shell",
        );
        fails(
            "/RootFS/Layers",
            json!(["sha256:a", "sha256:b"]),
            "2 layers",
        );
        fails(
            "/Config/Cmd",
            json!(["--addr", "127.0.0.1:8080"]),
            "command",
        );
        fails("/Config/ExposedPorts", json!({ "80/tcp": {} }), "8080");
        fails("/Os", json!("windows"), "Linux");
    }

    #[test]
    fn the_dockerfile_declares_what_the_check_expects() {
        let dockerfile = std::fs::read_to_string(repo_root().join(DOCKERFILE)).unwrap();
        let lines: Vec<&str> = dockerfile.lines().map(str::trim).collect();
        for expected in [
            "FROM scratch".to_owned(),
            format!("COPY qr-server {BINARY}"),
            format!("USER {UID}:{UID}"),
            format!("EXPOSE {}", PORT.trim_end_matches("/tcp")),
            format!("ENTRYPOINT {}", json!([BINARY])),
            format!("CMD {}", json!(DEFAULT_ARGS)),
        ] {
            let found = lines
                .iter()
                .any(|line| line.replace(", ", ",") == expected.replace(", ", ","));
            assert!(found, "{DOCKERFILE} has no line {expected:?}");
        }
        let stages = lines
            .iter()
            .filter(|line| line.starts_with("FROM "))
            .count();
        assert_eq!(stages, 1, "one stage, FROM scratch: no registry");
    }
}
