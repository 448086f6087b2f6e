//! One typed server configuration, [`ServerSpec`], and the one place that turns it into the
//! command that starts it: `cargo xtask serve`, the conformance suite and the benchmark all
//! start servers through [`ServerSpec::command`], so they run and measure the same thing.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};
use qr_contract::Engine;

use crate::paths::{self, repo_root};
use crate::{CEILING_TEXT, Host, Mode, Stack, Tier};

/// Which server to start, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerSpec {
    /// The tier to serve.
    pub tier: Tier,
    /// Single process or cluster (ignored by tier-4).
    pub mode: Mode,
    /// Cluster workers (`--workers N`); `None` leaves the host's default. Ignored by tier-4.
    pub workers: Option<usize>,
    /// The address a Rust server listens on: 127.0.0.1, or one in a network namespace of its own
    /// (`cargo xtask cluster`). The Node host always listens on 127.0.0.1.
    pub ip: IpAddr,
    /// The port on `ip`; 0 picks a free one.
    pub port: u16,
    /// The Rust engine (`--engine E`); `None` leaves the default. Tier-0 has none.
    pub engine: Option<Engine>,
    /// The HTTP stack under the host's app: one of `tier.host().stacks()`.
    pub stack: Stack,
}

impl ServerSpec {
    /// A spec for `tier` in `mode` on an ephemeral port, on its host's default stack, with the
    /// defaults.
    pub fn new(tier: Tier, mode: Mode) -> Self {
        ServerSpec {
            tier,
            mode,
            workers: None,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            engine: None,
            stack: tier.host().default_stack(),
        }
    }

    /// The same spec on `stack`.
    pub fn on(self, stack: Stack) -> Self {
        ServerSpec { stack, ..self }
    }

    /// A short name for logs and errors: `tier-1 cluster`, `tier-4`, `tier-3 single on fastify`
    /// (a stack is named when it is not the host's default).
    pub fn label(&self) -> String {
        let mut label = self.tier.to_string();
        if self.tier.has_modes() {
            label = format!("{label} {}", self.mode);
        }
        if !self.stack.is_default() {
            label = format!("{label} on {}", self.stack);
        }
        label
    }

    /// The documented command for this server, run in the repository root, with
    /// `RUSTY_QR_CLI` pointing at the release build of `qr-cli`.
    pub fn command(&self) -> Command {
        let mut command;
        if self.tier.has_modes() {
            if self.tier.is_node() {
                command = Command::new("node");
                command.arg("node/server.js");
            } else {
                command = Command::new(paths::venv().join("bin/python"));
                command.args(["-m", "rusty_qr"]);
                command.env("PYTHONPATH", paths::python_host());
                command.env("RUSTY_QR_WASM", paths::node_build().join("qr_wasm.wasm"));
            }
            command.args(["--tier", self.tier.name(), "--mode", self.mode.name()]);
            if let Some(workers) = self.workers {
                command.args(["--workers".to_owned(), workers.to_string()]);
            }
            command.args(["--port".to_owned(), self.port.to_string()]);
            command.args(self.stack.flag().into_iter().flatten());
        } else {
            let binary = match self.tier {
                Tier::Tier4Nginx => paths::qr_nginx(),
                _ => paths::qr_server(),
            };
            command = Command::new(binary);
            let addr = std::net::SocketAddr::new(self.ip, self.port);
            command.args(["--addr".to_owned(), addr.to_string()]);
            if self.tier.is_ceiling() {
                command.args(["--ceiling", CEILING_TEXT]);
            }
        }
        if let Some(engine) = self.engine {
            command.args(["--engine", engine.name()]);
        }
        command.current_dir(repo_root());
        command.env("RUSTY_QR_CLI", paths::qr_cli());
        if self.tier == Tier::Tier3Async {
            // libuv reads it once, before the script runs: one pool thread per CPU.
            command.env("UV_THREADPOOL_SIZE", cpus().to_string());
        }
        command
    }

    /// The build outputs this server needs.
    pub fn required_outputs(&self) -> Vec<PathBuf> {
        let root = repo_root();
        let build = paths::node_build();
        let mut outputs = Vec::new();
        match self.tier.host() {
            Host::Node => {
                outputs.extend([root.join("node/server.js"), root.join("node/node_modules")]);
            }
            Host::Python => outputs.push(paths::venv().join("bin/python")),
            Host::Rust => {}
        }
        match self.tier {
            // The PyO3 extension is installed in the venv: the server's self-check finds it.
            Tier::Tier0 | Tier::PyTier0 | Tier::PyTier3 | Tier::PyCeiling => {}
            Tier::Tier1 | Tier::Tier1Sidecar | Tier::PyTier1 => outputs.push(paths::qr_cli()),
            Tier::Tier2 | Tier::PyTier2 => outputs.push(build.join("qr_wasm.wasm")),
            Tier::Tier2Bindgen => outputs.extend([
                build.join("bindgen/qr_wasm_bindgen.js"),
                build.join("bindgen/qr_wasm_bindgen_bg.wasm"),
            ]),
            Tier::Tier3 | Tier::Tier3Async | Tier::NodeCeiling => {
                outputs.push(build.join("qr_napi.node"))
            }
            Tier::Tier4 | Tier::RustCeiling => outputs.push(paths::qr_server()),
            Tier::Tier4Nginx => outputs.extend([
                paths::qr_nginx(),
                paths::qr_server(),
                root.join("node/server.js"),
                root.join("node/node_modules"),
            ]),
        }
        outputs
    }

    /// Fails with one clear line if the tier does not run on the stack.
    pub fn check_stack(&self) -> Result<()> {
        if self.stack.host() != self.tier.host() {
            bail!(
                "{} does not run on {} (its stacks: {})",
                self.tier,
                self.stack,
                names(self.tier.host().stacks())
            );
        }
        Ok(())
    }

    /// Fails with one clear line if the spec cannot work or a build output is missing.
    pub fn check(&self) -> Result<()> {
        if !self.tier.uses_rust_core() && self.engine.is_some() {
            bail!("{} has no Rust engine: it takes no --engine", self.tier);
        }
        self.check_stack()?;
        all_built(&self.required_outputs())
    }
}

/// The CPUs this process may use (1 if unknown).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `express, fastify`.
fn names(stacks: &[Stack]) -> String {
    let names: Vec<&str> = stacks.iter().map(|stack| stack.name()).collect();
    names.join(", ")
}

/// Fails with one line naming the first of `outputs` that does not exist.
fn all_built(outputs: &[PathBuf]) -> Result<()> {
    match outputs.iter().find(|output| !output.exists()) {
        Some(missing) => bail!(
            "{} is missing: run `cargo xtask build`",
            paths::shown(missing)
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn args(command: &Command) -> Vec<&str> {
        command.get_args().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn tier_4_command_is_the_binary_with_addr_and_engine() {
        let mut spec = ServerSpec::new(Tier::Tier4, Mode::Cluster);
        spec.port = 8080;
        spec.workers = Some(3);
        let command = spec.command();
        assert_eq!(command.get_program(), paths::qr_server());
        assert_eq!(args(&command), ["--addr", "127.0.0.1:8080"]);
        assert_eq!(command.get_current_dir(), Some(repo_root()));

        spec.engine = Some(Engine::Article);
        assert_eq!(
            args(&spec.command()),
            ["--addr", "127.0.0.1:8080", "--engine", "article"]
        );
        assert_eq!(spec.label(), "tier-4");

        spec.ip = "10.0.0.2".parse().unwrap();
        assert_eq!(args(&spec.command())[..2], ["--addr", "10.0.0.2:8080"]);
    }

    #[test]
    fn node_commands_name_tier_mode_workers_port_and_engine() {
        let spec = ServerSpec::new(Tier::Tier2Bindgen, Mode::Single);
        let command = spec.command();
        assert_eq!(command.get_program(), "node");
        assert_eq!(
            args(&command),
            [
                "node/server.js",
                "--tier",
                "tier-2-bindgen",
                "--mode",
                "single",
                "--port",
                "0"
            ]
        );
        assert_eq!(command.get_current_dir(), Some(repo_root()));
        let cli = paths::qr_cli();
        let env: Vec<_> = command.get_envs().collect();
        assert_eq!(env, [(OsStr::new("RUSTY_QR_CLI"), Some(cli.as_os_str()))]);

        let spec = ServerSpec {
            workers: Some(2),
            port: 42069,
            engine: Some(Engine::Article),
            ..ServerSpec::new(Tier::Tier3, Mode::Cluster)
        };
        assert_eq!(
            args(&spec.command()),
            [
                "node/server.js",
                "--tier",
                "tier-3",
                "--mode",
                "cluster",
                "--workers",
                "2",
                "--port",
                "42069",
                "--engine",
                "article"
            ]
        );
        assert_eq!(spec.label(), "tier-3 cluster");

        let fastify = spec.on(Stack::Fastify);
        assert_eq!(
            args(&fastify.command())[9..],
            ["--http", "fastify", "--engine", "article"]
        );
        assert_eq!(fastify.label(), "tier-3 cluster on fastify");
        assert_eq!(
            spec.on(Stack::Granian).check().unwrap_err().to_string(),
            "tier-3 does not run on granian (its stacks: express, fastify)"
        );
    }

    #[test]
    fn variants_and_ceilings_start_what_they_promise() {
        let env = |spec: &ServerSpec, name: &str| {
            spec.command()
                .get_envs()
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value.map(|v| v.to_str().unwrap().to_owned()))
        };
        let async_tier = ServerSpec::new(Tier::Tier3Async, Mode::Single);
        assert_eq!(
            env(&async_tier, "UV_THREADPOOL_SIZE"),
            Some(cpus().to_string())
        );
        assert_eq!(
            env(
                &ServerSpec::new(Tier::Tier3, Mode::Single),
                "UV_THREADPOOL_SIZE"
            ),
            None
        );

        let ceiling = ServerSpec::new(Tier::RustCeiling, Mode::Cluster);
        assert_eq!(ceiling.command().get_program(), paths::qr_server());
        assert_eq!(
            args(&ceiling.command()),
            ["--addr", "127.0.0.1:0", "--ceiling", CEILING_TEXT]
        );
        assert_eq!(ceiling.label(), "rust-ceiling");

        let nginx = ServerSpec {
            engine: Some(Engine::Fast),
            ..ServerSpec::new(Tier::Tier4Nginx, Mode::Single)
        };
        assert_eq!(nginx.command().get_program(), paths::qr_nginx());
        assert_eq!(
            args(&nginx.command()),
            ["--addr", "127.0.0.1:0", "--engine", "fast"]
        );
        assert!(nginx.required_outputs().contains(&paths::qr_server()));
    }

    #[test]
    fn python_command_is_the_venv_s_launcher_with_tier_mode_and_port() {
        let spec = ServerSpec {
            workers: Some(2),
            port: 8080,
            engine: Some(Engine::Article),
            ..ServerSpec::new(Tier::PyTier3, Mode::Cluster)
        };
        let command = spec.command();
        assert_eq!(command.get_program(), paths::venv().join("bin/python"));
        assert_eq!(
            args(&command),
            [
                "-m",
                "rusty_qr",
                "--tier",
                "py-tier-3",
                "--mode",
                "cluster",
                "--workers",
                "2",
                "--port",
                "8080",
                "--engine",
                "article"
            ]
        );
        let env: Vec<_> = command.get_envs().collect();
        assert!(env.contains(&(
            OsStr::new("PYTHONPATH"),
            Some(paths::python_host().as_os_str())
        )));
        assert_eq!(spec.label(), "py-tier-3 cluster");
        let granian = spec.on(Stack::Granian);
        assert_eq!(args(&granian.command())[10..12], ["--server", "granian"]);
        assert_eq!(granian.label(), "py-tier-3 cluster on granian");
    }

    #[test]
    fn every_tier_names_its_build_outputs() {
        for &tier in Tier::ALL {
            let outputs = ServerSpec::new(tier, Mode::Single).required_outputs();
            assert!(!outputs.is_empty() || tier == Tier::Tier0, "{tier}");
            if tier.host() == Host::Python {
                assert!(
                    outputs.contains(&paths::venv().join("bin/python")),
                    "{tier}"
                );
            }
        }
        assert!(
            ServerSpec::new(Tier::Tier3, Mode::Single)
                .required_outputs()
                .contains(&paths::node_build().join("qr_napi.node"))
        );
        let missing = repo_root().join("target/qr-harness-no-such-output");
        assert_eq!(
            all_built(&[repo_root().join("Cargo.toml"), missing])
                .unwrap_err()
                .to_string(),
            "target/qr-harness-no-such-output is missing: run `cargo xtask build`"
        );
        let spec = ServerSpec {
            engine: Some(Engine::Article),
            ..ServerSpec::new(Tier::Tier0, Mode::Single)
        };
        assert_eq!(
            spec.check().unwrap_err().to_string(),
            "tier-0 has no Rust engine: it takes no --engine"
        );
    }
}
