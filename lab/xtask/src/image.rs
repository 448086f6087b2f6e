//! `cargo xtask image`: tier 4 as a container image, written here without a registry or a base
//! image: a static `qr-server` (glibc linked in with `+crt-static`; the toolchain has no musl
//! target here), alone in one layer, run as a numeric non-root user, with no shell.
//!
//! Run with `cargo xtask image` (writes `target/image/qr-server.tar`, which `docker load` and
//! `podman load` read: a `docker save` archive that is also an OCI image layout), or
//! `cargo xtask image --check` to also run it in Docker and pass the conformance suite against
//! it. `deploy/Dockerfile` builds the same image where a registry is reachable.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use qr_contract::Engine;
use qr_harness::{paths, repo_root};
use serde_json::{Value, json};

use crate::cmd::{Step, cargo, output, run, sha256_hex};

/// The image's name, as `docker load` tags it.
pub const IMAGE: &str = "rusty-qr/qr-server:latest";
/// Where the binary lives in the image (layer paths have no leading `/`).
const BINARY: &str = "usr/local/bin/qr-server";
/// The user and group the server runs as: numeric, since the image has no /etc/passwd, and not
/// root (65532 is distroless's `nonroot`).
const USER: &str = "65532:65532";
/// The default command's address: every interface, inside the container's network namespace.
const DEFAULT_ARGS: [&str; 2] = ["--addr", "0.0.0.0:8080"];
const PORT: &str = "8080/tcp";
/// Every file's and the image's time: the same binary gives the same bytes.
const CREATED: &str = "1970-01-01T00:00:00Z";
/// How the static binary is built (deploy/Dockerfile uses the same flags): glibc linked in, and
/// no debug info (symbols stay, so a backtrace still names functions).
const RUSTFLAGS: &str = "-C target-feature=+crt-static -C strip=debuginfo";

const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// `cargo xtask image [--check]`.
pub fn image(check: bool) -> Result<()> {
    let root = repo_root();
    let binary = build_static(root)?;
    let out = paths::target_dir().join("image/qr-server.tar");
    let written = write(&binary, &out)?;
    println!(
        "{}: {IMAGE}, {} bytes ({:.1} MiB; the gzipped layer {} bytes, {:.1} MiB; the binary {} bytes)",
        paths::shown(&out),
        written.total,
        mib(written.total),
        written.layer_gz,
        mib(written.layer_gz),
        written.binary,
    );
    if check {
        super::check_node()?;
        super::npm_ci_if_stale(root)?;
        check_in_docker(root, &out)?;
    }
    Ok(())
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// This machine's Rust target for the static binary (the GNU one: only its standard library is
/// installed), and its name in an image's config.
fn target() -> Result<(&'static str, &'static str)> {
    match std::env::consts::ARCH {
        "x86_64" => Ok(("x86_64-unknown-linux-gnu", "amd64")),
        "aarch64" => Ok(("aarch64-unknown-linux-gnu", "arm64")),
        other => bail!("no container image for {other}: only x86_64 and aarch64"),
    }
}

/// Builds the static qr-server with `--target`, so it lands in its own folder
/// (`target/<triple>/release/`) and the flags reach neither build scripts nor the normal release
/// build. Our `RUSTFLAGS` replace any in the environment.
fn build_static(root: &Path) -> Result<PathBuf> {
    let (triple, _) = target()?;
    let step = Step::start("static release build of qr-server (+crt-static, target/<triple>/)");
    run(cargo(root)
        .args(["build", "--release", "-p", "qr-server", "--target", triple])
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", RUSTFLAGS))?;
    step.done();
    Ok(paths::target_dir()
        .join(triple)
        .join("release")
        .join("qr-server"))
}

/// Sizes of a written image, in bytes.
#[derive(Debug)]
struct Written {
    total: usize,
    layer_gz: usize,
    binary: usize,
}

/// Writes the image of `binary` to `out`, after reading it back and checking its rules.
fn write(binary: &Path, out: &Path) -> Result<Written> {
    let bytes =
        std::fs::read(binary).with_context(|| format!("reading {}", paths::shown(binary)))?;
    let (_, architecture) = target()?;
    let tar = image_tar(&bytes, architecture)?;
    let image = inspect(&tar)?;
    check(&image)?;
    std::fs::create_dir_all(out.parent().expect("a file in a folder"))?;
    std::fs::write(out, &tar).with_context(|| format!("writing {}", paths::shown(out)))?;
    Ok(Written {
        total: tar.len(),
        layer_gz: image.layer_gz,
        binary: bytes.len(),
    })
}

/// The image of `binary` as a `docker save` archive that is also an OCI image layout: the blobs
/// (config, gzipped layer, OCI manifest) under `blobs/sha256/`, `index.json` and `oci-layout` for
/// OCI tools, `manifest.json` for `docker load`. Entries sorted, times and owners fixed.
fn image_tar(binary: &[u8], architecture: &str) -> Result<Vec<u8>> {
    let layer = tar(&[
        Entry::dir("usr/"),
        Entry::dir("usr/local/"),
        Entry::dir("usr/local/bin/"),
        Entry::file(BINARY, binary),
    ])?;
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(&layer)?;
    let layer_gz = gzip.finish()?;
    let config = serde_json::to_vec(&json!({
        "architecture": architecture,
        "os": "linux",
        "created": CREATED,
        "config": {
            "User": USER,
            "Entrypoint": [format!("/{BINARY}")],
            "Cmd": DEFAULT_ARGS,
            "ExposedPorts": { PORT: {} },
            "StopSignal": "SIGTERM",
            "Labels": {
                "org.opencontainers.image.title": "qr-server",
                "org.opencontainers.image.description": "rusty-qr tier 4: GET /qrcode?text=... answers a QR code as PNG",
                "org.opencontainers.image.version": env!("CARGO_PKG_VERSION"),
                "org.opencontainers.image.licenses": env!("CARGO_PKG_LICENSE"),
            },
        },
        "rootfs": { "type": "layers", "diff_ids": [digest(&layer)] },
        "history": [{ "created": CREATED, "created_by": "cargo xtask image" }],
    }))?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": descriptor(CONFIG_TYPE, &config),
        "layers": [descriptor(LAYER_TYPE, &layer_gz)],
    }))?;
    let (repository, tag) = IMAGE.split_once(':').expect("IMAGE has a tag");
    let mut index = descriptor(MANIFEST_TYPE, &manifest);
    index["annotations"] = json!({
        "io.containerd.image.name": format!("docker.io/{IMAGE}"),
        "org.opencontainers.image.ref.name": tag,
    });
    let index = json!({ "schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [index] });
    let docker = json!([{
        "Config": blob_path(&config),
        "RepoTags": [format!("{repository}:{tag}")],
        "Layers": [blob_path(&layer_gz)],
    }]);
    let mut blobs: Vec<(String, &[u8])> = [&config, &layer_gz, &manifest]
        .map(|blob| (blob_path(blob), blob.as_slice()))
        .to_vec();
    blobs.sort();
    let (index, docker) = (serde_json::to_vec(&index)?, serde_json::to_vec(&docker)?);
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    let mut entries = vec![Entry::dir("blobs/"), Entry::dir("blobs/sha256/")];
    entries.extend(blobs.iter().map(|(path, blob)| Entry::file(path, blob)));
    entries.extend([
        Entry::file("index.json", &index),
        Entry::file("manifest.json", &docker),
        Entry::file("oci-layout", layout),
    ]);
    tar(&entries)
}

/// `sha256:<hex>` of `bytes`.
fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

fn blob_path(blob: &[u8]) -> String {
    digest(blob).replace("sha256:", "blobs/sha256/")
}

fn descriptor(media_type: &str, blob: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": digest(blob), "size": blob.len() })
}

/// One entry of a tar as the image has it: owned by root, mode 0755, time 0.
struct Entry<'a> {
    path: &'a str,
    data: Option<&'a [u8]>,
}

impl<'a> Entry<'a> {
    fn dir(path: &'a str) -> Self {
        Entry { path, data: None }
    }
    fn file(path: &'a str, data: &'a [u8]) -> Self {
        Entry {
            path,
            data: Some(data),
        }
    }
}

fn tar(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(match entry.data {
            Some(_) => tar::EntryType::Regular,
            None => tar::EntryType::Directory,
        });
        let data = entry.data.unwrap_or_default();
        header.set_size(data.len() as u64);
        header.set_mode(if entry.path == BINARY || entry.data.is_none() {
            0o755
        } else {
            0o644
        });
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        builder.append_data(&mut header, entry.path, data)?;
    }
    Ok(builder.into_inner()?)
}

/// What an image archive holds, read back as `docker load` reads it, with every blob checked
/// against its digest and the OCI index leading to the same config and layer.
#[derive(Debug)]
struct Inspected {
    config: Value,
    /// The layer's entries: path, mode, owner uid and gid, and whether a directory.
    entries: Vec<(String, u32, u64, u64, bool)>,
    binary: Vec<u8>,
    layer_gz: usize,
}

fn inspect(archive: &[u8]) -> Result<Inspected> {
    let files = untar(archive)?;
    for (path, bytes) in &files {
        if path.starts_with("blobs/") {
            ensure!(
                *path == blob_path(bytes),
                "{path} does not hold its digest's bytes"
            );
        }
    }
    let file = |path: &str| {
        files
            .get(path)
            .with_context(|| format!("the image has no {path}"))
    };
    let parse = |path: &str| -> Result<Value> { Ok(serde_json::from_slice(file(path)?)?) };
    let docker = parse("manifest.json")?;
    ensure!(
        docker.as_array().map(Vec::len) == Some(1),
        "manifest.json lists one image"
    );
    let docker = &docker[0];
    ensure!(docker["RepoTags"] == json!([IMAGE]), "tagged {IMAGE}");
    let config_path = docker["Config"].as_str().context("a config")?;
    let layers = docker["Layers"].as_array().context("layers")?;
    ensure!(layers.len() == 1, "one layer, not {}", layers.len());
    let layer_path = layers[0].as_str().context("a layer path")?;
    let layer_gz = file(layer_path)?;
    let mut layer = Vec::new();
    GzDecoder::new(layer_gz.as_slice()).read_to_end(&mut layer)?;
    let config = parse(config_path)?;
    ensure!(
        config["rootfs"]["diff_ids"] == json!([digest(&layer)]),
        "the config's diff_id is the layer's digest"
    );

    let index = parse("index.json")?;
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .context("index.json")?;
    let manifest = parse(&manifest_digest.replace("sha256:", "blobs/sha256/"))?;
    ensure!(
        manifest["config"]["digest"] == digest(file(config_path)?)
            && manifest["layers"] == json!([descriptor(LAYER_TYPE, layer_gz)]),
        "the OCI manifest names the config and layer manifest.json names"
    );
    ensure!(parse("oci-layout")?["imageLayoutVersion"] == "1.0.0");

    let mut entries = Vec::new();
    let mut binary = Vec::new();
    for entry in tar::Archive::new(layer.as_slice()).entries()? {
        let mut entry = entry?;
        let header = entry.header();
        let path = String::from_utf8(entry.path_bytes().into_owned())?;
        let dir = header.entry_type().is_dir();
        entries.push((
            path.clone(),
            header.mode()?,
            header.uid()?,
            header.gid()?,
            dir,
        ));
        if path == BINARY {
            entry.read_to_end(&mut binary)?;
        }
    }
    Ok(Inspected {
        config,
        entries,
        binary,
        layer_gz: layer_gz.len(),
    })
}

/// The regular files of a tar, by path.
fn untar(archive: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for entry in tar::Archive::new(archive).entries()? {
        let mut entry = entry?;
        if entry.header().entry_type().is_file() {
            let path = String::from_utf8(entry.path_bytes().into_owned())?;
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            files.insert(path, bytes);
        }
    }
    Ok(files)
}

/// The image's rules: its one file is the static binary (with the folders above it), root's and
/// not writable by anyone else; it runs as a numeric user that is not root; its entrypoint is the
/// binary itself (no shell), listening on port 8080 of every interface by default.
fn check(image: &Inspected) -> Result<()> {
    let parents = ["usr/", "usr/local/", "usr/local/bin/"];
    for (path, mode, uid, gid, dir) in &image.entries {
        let expected = if *dir {
            parents.contains(&path.as_str())
        } else {
            path == BINARY
        };
        ensure!(
            expected,
            "the layer holds {path}: only {BINARY} belongs there"
        );
        ensure!(
            (*mode, *uid, *gid) == (0o755, 0, 0),
            "{path} is mode {mode:o}, owner {uid}:{gid}: expected 755, 0:0"
        );
    }
    let files = image.entries.iter().filter(|entry| !entry.4).count();
    ensure!(
        files == 1,
        "the layer holds {files} files, not just {BINARY}"
    );
    ensure!(
        needs_no_loader(&image.binary)?,
        "{BINARY} needs a dynamic loader (it is not static), which the image does not have"
    );
    let config = &image.config["config"];
    let user = config["User"].as_str().unwrap_or_default();
    let ids: Vec<Option<u32>> = user.split(':').map(|id| id.parse().ok()).collect();
    ensure!(
        ids.len() == 2 && ids.iter().all(|id| id.is_some_and(|id| id != 0)),
        "the user is {user:?}: expected numeric non-root uid:gid"
    );
    ensure!(
        config["Entrypoint"] == json!([format!("/{BINARY}")]),
        "the entrypoint is {}: expected the binary itself, no shell",
        config["Entrypoint"]
    );
    ensure!(config["Cmd"] == json!(DEFAULT_ARGS), "the default command");
    ensure!(config["ExposedPorts"] == json!({ PORT: {} }), "port 8080");
    ensure!(image.config["os"] == "linux", "a Linux image");
    Ok(())
}

/// Whether a 64-bit little-endian ELF file runs without a dynamic loader: it has no PT_INTERP
/// program header (a static-pie binary, like ours, still has PT_DYNAMIC, for itself).
fn needs_no_loader(elf: &[u8]) -> Result<bool> {
    const PT_INTERP: u32 = 3;
    ensure!(
        elf.len() >= 64 && elf.starts_with(b"\x7fELF\x02\x01"),
        "not a 64-bit little-endian ELF file"
    );
    let number = |at: usize, len: usize| -> u64 {
        elf[at..at + len]
            .iter()
            .rev()
            .fold(0, |n, &byte| n << 8 | u64::from(byte))
    };
    let (offset, size, count) = (number(0x20, 8), number(0x36, 2), number(0x38, 2));
    for i in 0..count {
        let at = usize::try_from(offset + i * size)?;
        let kind = elf
            .get(at..at + 4)
            .context("a program header past the end")?;
        if kind == PT_INTERP.to_le_bytes() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Loads the image into Docker (the running engine, or one started here) and, for every engine,
/// runs it on host networking at 127.0.0.1 on a free port, checks that its process is not root,
/// passes the conformance suite against it (`RUSTY_QR_EXTERNAL`), and stops it with SIGTERM,
/// which must end it with status 0.
fn check_in_docker(root: &Path, tar: &Path) -> Result<()> {
    let started = Instant::now();
    let docker = Docker::running_or_start()?;
    let step = Step::start("docker load");
    run(docker.command().arg("load").arg("--input").arg(tar))?;
    step.done();
    for &engine in Engine::ALL {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let container = Container {
            docker: &docker,
            name: format!("rusty-qr-image-check-{}-{engine}", std::process::id()),
        };
        let step = Step::start("docker run (host network, 127.0.0.1)");
        run(docker
            .command()
            .args(["run", "--detach", "--pull", "never", "--network", "host"])
            .args(["--name", &container.name, IMAGE])
            .args(["--addr", &addr.to_string(), "--engine", engine.name()]))?;
        container.wait_for(addr)?;
        step.done();
        let pid = container.inspect("{{.State.Pid}}")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let uid = status.lines().find(|line| line.starts_with("Uid:"));
        ensure!(
            uid.is_some_and(|line| line.split_whitespace().skip(1).all(|id| id == "65532")),
            "the container's process runs as {uid:?}, not 65532"
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

/// A container started by [`check_in_docker`]: removed when dropped, whatever happened.
struct Container<'a> {
    docker: &'a Docker,
    name: String,
}

impl Container<'_> {
    /// Waits (at most 30 s) until `addr` accepts connections; fails with the container's log.
    fn wait_for(&self, addr: SocketAddr) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                let logs = output(self.docker.command().args(["logs", &self.name]));
                bail!("the container never listened on {addr}: {logs:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn inspect(&self, format: &str) -> Result<String> {
        let text = output(
            self.docker
                .command()
                .args(["inspect", "--format", format, &self.name]),
        )?;
        Ok(text.trim().to_owned())
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self
            .docker
            .command()
            .args(["rm", "--force", &self.name])
            .stdout(Stdio::null())
            .status();
    }
}

/// The Docker client, talking to the engine that runs already (`DOCKER_HOST` or the default
/// socket) or to a `dockerd` started here, which is stopped, by its pid, when this is dropped.
struct Docker {
    /// The daemon started here, with its socket and its folder under /tmp.
    started: Option<(Child, String, PathBuf)>,
}

impl Docker {
    fn command(&self) -> Command {
        let mut command = Command::new("docker");
        if let Some((_, host, _)) = &self.started {
            command.env("DOCKER_HOST", host);
        }
        command
    }

    fn answers(&self) -> bool {
        self.command()
            .args(["version", "--format", "{{.Server.Version}}"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// The running engine, else a `dockerd` of Debian's `docker.io` package (installed when
    /// missing), started with what a machine without systemd, iptables or overlayfs needs: no
    /// bridge network (containers use the host's), no iptables rules, the vfs storage driver; its
    /// images under `target/docker/`.
    fn running_or_start() -> Result<Docker> {
        let existing = Docker { started: None };
        if existing.answers() {
            eprintln!("==> using the running Docker engine");
            return Ok(existing);
        }
        let dockerd = qr_harness::tools::dockerd()?;
        let step = Step::start("start dockerd (its own socket, data in target/docker/)");
        // The socket and containerd's live under a short path: a Unix socket's is at most 107 bytes.
        let runtime = std::env::temp_dir().join(format!("rusty-qr-docker-{}", std::process::id()));
        let data = paths::target_dir().join("docker");
        std::fs::create_dir_all(&runtime)?;
        std::fs::create_dir_all(&data)?;
        let host = format!("unix://{}", runtime.join("docker.sock").display());
        let log = std::fs::File::create(data.join("dockerd.log"))?;
        let mut command = Command::new(dockerd);
        command
            .args(["--host", &host, "--data-root"])
            .arg(data.join("data"))
            .arg("--exec-root")
            .arg(runtime.join("exec"))
            .arg("--pidfile")
            .arg(runtime.join("dockerd.pid"))
            .args(["--iptables=false", "--bridge=none", "--storage-driver=vfs"])
            .stdout(log.try_clone()?)
            .stderr(log);
        qr_harness::end_with_launcher(&mut command, rustix::process::Signal::TERM);
        let child = command.spawn().context("cannot start dockerd")?;
        let docker = Docker {
            started: Some((child, host, runtime)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !docker.answers() {
            if Instant::now() > deadline {
                bail!(
                    "dockerd did not answer within 60 s; see {}",
                    paths::shown(&data.join("dockerd.log"))
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        step.done();
        Ok(docker)
    }
}

impl Drop for Docker {
    /// Stops the dockerd started here (SIGTERM, then SIGKILL after 30 s) and removes its folder
    /// under /tmp.
    fn drop(&mut self) {
        let Some((child, _, runtime)) = &mut self.started else {
            return;
        };
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        // dockerd leaves its network namespace mounted (exec/netns/default): unmount what is left.
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        for point in mounts.lines().filter_map(|line| line.split(' ').nth(1)) {
            if Path::new(point).starts_with(&*runtime) {
                let _ = Command::new("umount").arg(point).status();
            }
        }
        let _ = std::fs::remove_dir_all(runtime);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest ELF header with `headers` program headers of the given types.
    fn elf(headers: &[u32]) -> Vec<u8> {
        let mut elf = vec![0; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&(headers.len() as u16).to_le_bytes());
        for &kind in headers {
            let mut header = vec![0; 56];
            header[..4].copy_from_slice(&kind.to_le_bytes());
            elf.extend(header);
        }
        elf
    }

    #[test]
    fn a_loader_is_needed_only_with_pt_interp() {
        assert!(needs_no_loader(&elf(&[1, 2, 1])).unwrap());
        assert!(!needs_no_loader(&elf(&[6, 3, 1])).unwrap());
        assert!(needs_no_loader(b"#!/bin/sh\n").is_err());
        assert!(needs_no_loader(&elf(&[3])[..66]).is_err());
        // This test binary is linked dynamically.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(!needs_no_loader(&me).unwrap());
    }

    #[test]
    fn an_image_reads_back_keeps_the_rules_and_is_reproducible() {
        let binary = elf(&[1, 2]);
        let tar = image_tar(&binary, "amd64").unwrap();
        assert_eq!(tar, image_tar(&binary, "amd64").unwrap());
        let image = inspect(&tar).unwrap();
        check(&image).unwrap();
        assert_eq!(image.binary, binary);
        let paths: Vec<&str> = image.entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(paths, ["usr/", "usr/local/", "usr/local/bin/", BINARY]);
        assert_eq!(image.config["config"]["User"], USER);
        assert_eq!(image.config["architecture"], "amd64");
        let names: Vec<String> = untar(&tar).unwrap().into_keys().collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(names.ends_with(&["index.json", "manifest.json", "oci-layout"].map(String::from)));
    }

    #[test]
    fn a_broken_image_fails_the_check() {
        let good = || inspect(&image_tar(&elf(&[1]), "amd64").unwrap()).unwrap();
        let fails = |image: Inspected, why: &str| {
            let err = check(&image).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        };
        let mut dynamic = good();
        dynamic.binary = elf(&[3]);
        fails(dynamic, "not static");
        for user in ["0:0", "65532", "nobody:nogroup", "65532:0"] {
            let mut root = good();
            root.config["config"]["User"] = json!(user);
            fails(root, "non-root");
        }
        let mut shell = good();
        shell.entries.push(("bin/sh".into(), 0o755, 0, 0, false));
        fails(shell, "holds bin/sh");
        let mut writable = good();
        writable.entries[3].1 = 0o777;
        fails(writable, "mode 777");
        let mut wrapped = good();
        wrapped.config["config"]["Entrypoint"] = json!(["/bin/sh", "-c", "qr-server"]);
        fails(wrapped, "no shell");
    }

    #[test]
    fn a_tampered_layer_does_not_read_back() {
        let tar = image_tar(&elf(&[1]), "amd64").unwrap();
        let mut files = untar(&tar).unwrap();
        let docker: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        let layer = files
            .get_mut(docker[0]["Layers"][0].as_str().unwrap())
            .unwrap();
        let last = layer.len() - 1;
        layer[last] ^= 1;
        let entries: Vec<Entry> = files.iter().map(|(p, b)| Entry::file(p, b)).collect();
        let err = inspect(&super::tar(&entries).unwrap()).unwrap_err();
        assert!(
            err.to_string().contains("does not hold its digest's bytes"),
            "{err}"
        );
    }

    /// The real image: builds the static qr-server (minutes the first time), writes and checks
    /// `target/image/qr-server.tar`, and runs the binary outside any container.
    #[test]
    #[ignore = "builds qr-server for the image (minutes); run by `cargo xtask test`"]
    fn the_real_image_is_static_and_keeps_the_rules() {
        let binary = build_static(repo_root()).unwrap();
        let out = paths::target_dir().join("image/qr-server.tar");
        let written = write(&binary, &out).unwrap();
        let image = inspect(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(image.binary, std::fs::read(&binary).unwrap());
        assert_eq!(
            written.total,
            std::fs::metadata(&out).unwrap().len() as usize
        );
        let help = Command::new(&binary).arg("--help").output().unwrap();
        assert!(help.status.success(), "{help:?}");
        assert!(String::from_utf8_lossy(&help.stdout).contains("--addr"));
    }
}
