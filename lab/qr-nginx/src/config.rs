//! The nginx configuration qr-nginx writes for one run, as text: the routing table (`/qrcode`,
//! `/healthz` and `/metrics` to qr-server, every other path to the Node app), keep-alive upstreams, and the settings that keep
//! the HTTP contract (`contract/cases.json`) byte for byte through nginx. Each choice is explained
//! where it is written, and in the crate's README. `cargo xtask cluster` (`qr-cluster`) writes the
//! same configuration with replicas of qr-server behind one load-balanced upstream instead.

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;

/// The paths qr-server answers (its image, its API description, its health and its metrics):
/// each a `location =` of its own. Every other path is the Node app's.
pub const RUST_PATHS: [&str; 4] = ["/qrcode", "/openapi.json", "/healthz", "/metrics"];

/// Idle keep-alive connections each nginx worker keeps open to each app: above the benchmark's 100
/// client connections, so none is closed and opened again under load.
pub const UPSTREAM_KEEPALIVE: usize = 128;

/// What one run's configuration needs.
#[derive(Debug, Clone)]
pub struct Config<'a> {
    /// The run folder: pid file, error log and temporary files live there (see `RunDir`).
    pub dir: &'a Path,
    /// Where nginx listens.
    pub listen: SocketAddr,
    /// Who answers behind nginx.
    pub backends: Backends<'a>,
    /// nginx worker processes.
    pub workers: usize,
    /// Whether nginx runs as root (it then needs a `user` for its workers).
    pub root: bool,
}

/// Who answers behind nginx.
#[derive(Debug, Clone)]
pub enum Backends<'a> {
    /// tier-4-nginx: qr-server answers `/qrcode`, `/healthz` and `/metrics`, the Node app (tier-0)
    /// every other path.
    Split { rust: SocketAddr, node: SocketAddr },
    /// `qr-cluster`: replicas of qr-server answer every path, balanced round-robin, with passive
    /// health checks and retries (see [`replicas_upstream`]).
    Replicas(&'a [SocketAddr]),
}

impl Config<'_> {
    /// The text of `nginx.conf`.
    pub fn render(&self) -> String {
        let dir = |name: &str| quoted(&self.dir.join(name));
        // As root, nginx would run its workers as `nobody`, who cannot enter the run folder (0700,
        // and it may sit under a home folder nobody can enter either) to write temporary files, a
        // failure that shows only at run time. The workers run as root instead, as the two apps
        // and qr-nginx do: `nobody` would isolate nothing that matters on 127.0.0.1. Not as root,
        // nginx keeps its own user and ignores the directive (with a warning), so it is left out.
        let user = if self.root { "user root;\n" } else { "" };
        let mut text = format!(
            r#"# Written by qr-nginx for one run; removed when it exits.
daemon off;
{user}# One worker per CPU this process may use.
worker_processes {workers};
pid {pid};
error_log {error_log} warn;
# Graceful stop (SIGQUIT): in-flight requests get as long as the apps give theirs.
worker_shutdown_timeout 10s;

events {{
    # Each client connection holds two: its own and one to an app.
    worker_connections 1024;
}}

http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {client_body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};

    # As both apps: a client that has not sent its whole request head within 10 s is cut off.
    client_header_timeout 10s;
    # A request line or a header line up to 64 KiB reaches the apps (a 20 KB URL gets their
    # "text must be <= 512 bytes"); a longer one gets the apps' own answer, 431, below.
    large_client_header_buffers 4 64k;
    # The apps see what the client sent: headers with underscores and every other header name
    # (an invalid one gets the apps' 400), routed on the path as sent, slashes unmerged.
    underscores_in_headers on;
    ignore_invalid_headers off;
    merge_slashes off;

    # HTTP/1.1 with keep-alive to the apps, and the Host header as the client sent it (or none).
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    # A client that shuts its sending side once its request is sent (`nc -N`, HTTP/1.0-style
    # clients) still gets its answer: by default nginx takes that end of input for the client
    # going away and drops the request the app is answering (its log says 499).
    proxy_ignore_client_abort on;
"#,
            workers = self.workers,
            pid = dir("nginx.pid"),
            error_log = dir("error.log"),
            client_body = dir("client_body"),
            proxy = dir("proxy"),
            fastcgi = dir("fastcgi"),
            uwsgi = dir("uwsgi"),
            scgi = dir("scgi"),
        );
        // The upstream names the routing table below sends to.
        let (rust, rest) = match &self.backends {
            Backends::Split { rust, node } => {
                for (name, addr) in [("rust", rust), ("node", node)] {
                    let server = format!("server {addr};");
                    text.push_str(&upstream(name, &[server]));
                }
                ("rust", "node")
            }
            Backends::Replicas(replicas) => {
                text.push_str(&replicas_upstream("replicas", replicas));
                ("replicas", "replicas")
            }
        };
        // The app that answers each path: nginx's TRACE goes there too (below).
        text.push_str("\n    map $uri $owner {\n");
        let _ = writeln!(text, "        default {rest};");
        for path in RUST_PATHS {
            let _ = writeln!(text, "        {path} {rust};");
        }
        text.push_str("    }\n");
        let _ = write!(
            text,
            r#"
    server {{
        listen {listen};

        # The routing table. proxy_pass without a URI part: the request target goes on unchanged
        # (raw `<` and its kin included: qr-server serves them as if percent-encoded).
"#,
            listen = self.listen,
        );
        for path in RUST_PATHS {
            let _ = write!(
                text,
                "        location = {path} {{\n            proxy_pass http://{rust};\n        }}\n"
            );
        }
        let _ = write!(
            text,
            r#"        location / {{
            proxy_pass http://{rest};
        }}

        # nginx refuses TRACE itself, before routing, with its own 405 page: the app that owns the
        # path answers it instead, as both apps do (405 "method not allowed" with their `Allow` on
        # their paths, 404 "not found" elsewhere). A variable's value names an upstream; the
        # request target still goes on unchanged.
        error_page 405 = @trace;
        location @trace {{
            proxy_pass http://$owner;
        }}

        # A request line (414) or header line (494) over the buffers above: the apps answer a head
        # over 64 KiB with an empty 431 and close, so nginx does too. The URI cannot come from a
        # client: nginx resolves every "/../" of a request's path (or refuses it with a 400).
        error_page 414 494 = /../head-too-large;
        location = /../head-too-large {{
            return 431;
        }}
    }}
}}
"#
        );
        text
    }
}

/// An upstream block: `servers` (each a `server ...;` line), kept alive. The idle limit is below
/// both apps' (Node 5 s, qr-server 10 s), so in steady state nginx, not the app, closes an idle
/// connection: nginx never sends a request on a connection the app is closing for being idle.
fn upstream(name: &str, servers: &[String]) -> String {
    let mut text = format!("\n    upstream {name} {{\n");
    for server in servers {
        let _ = writeln!(text, "        {server}");
    }
    let _ = write!(
        text,
        "        keepalive {UPSTREAM_KEEPALIVE};\n        keepalive_timeout 4s;\n    }}\n"
    );
    text
}

/// How long nginx leaves a replica alone after a failed request before it sends it one again: a
/// replica that restarts is back in use within this time of listening again.
pub const FAIL_TIMEOUT_SECONDS: u64 = 2;

/// The upstream of a cluster's replicas, and how nginx retries a request that failed on one.
fn replicas_upstream(name: &str, replicas: &[SocketAddr]) -> String {
    // Passive health checks: one failed request (below) takes a replica out of the rotation for
    // FAIL_TIMEOUT_SECONDS, then one request tries it again. A zone shares that state between
    // the workers, so a dead replica is skipped by all of them at once.
    let mut servers = vec![format!("zone {name} 64k;")];
    servers.extend(
        replicas
            .iter()
            .map(|addr| format!("server {addr} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;")),
    );
    let tries = replicas.len();
    upstream(name, &servers)
        + &format!(
            r#"
    # Retries, for the requests nginx may send twice. `error` is a refused connection (a replica
    # stopped, or restarting: its port is closed), a reset, or a connection closed before the
    # answer's head (a replica killed with requests in flight on it, or closing a connection just
    # as nginx sent a request on it); `timeout` a replica that does not answer; `http_502` and
    # `http_503` a replica's own 502 or 503 (qr-server's "server is busy" past its bound).
    # nginx resends a request it had sent already only if its method is idempotent: GET, HEAD,
    # PUT, DELETE, OPTIONS and TRACE are; POST, LOCK and PATCH never are (`non_idempotent` is not
    # given), so they may fail where a GET is retried.
    #
    # Where failures hide: a kept-alive connection the replica closes just as nginx writes a
    # request on it. A draining qr-server (SIGTERM) answers what it reads with `connection: close`
    # and closes a connection that has been idle for 250 ms; a request crossing that close on the
    # wire gets a reset or an end of stream before any byte. nginx took that connection from its
    # keep-alive cache, so it retries the request on a new connection to another replica and does
    # not count the cached one as a try (ngx_http_upstream_next: `u->peer.cached` and an `error`
    # give the try back): however many cached connections are closing, every replica still gets
    # its try. The keep-alive idle limit above (4 s, below qr-server's 10 s) keeps the race out
    # of steady state; it can only happen while a replica drains or dies.
    #
    # Bounds: each replica at most once per request; connecting takes microseconds on a veth, so
    # a connect that takes a second means a replica that cannot accept (its backlog is full);
    # answering takes milliseconds, so 10 s without one means a hung replica; and no retry starts
    # after 10 s.
    proxy_next_upstream error timeout http_502 http_503;
    proxy_next_upstream_tries {tries};
    proxy_next_upstream_timeout 10s;
    proxy_connect_timeout 1s;
    proxy_send_timeout 10s;
    proxy_read_timeout 10s;
"#
        )
}

/// `path` as an nginx quoted string.
fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(root: bool) -> String {
        Config {
            dir: Path::new("/repo/target/nginx/42"),
            listen: "127.0.0.1:8080".parse().unwrap(),
            backends: Backends::Split {
                rust: "127.0.0.1:1001".parse().unwrap(),
                node: "127.0.0.1:1002".parse().unwrap(),
            },
            workers: 3,
            root,
        }
        .render()
    }

    /// The non-comment lines of `text`, trimmed.
    fn directives(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    }

    /// The block opened by the line `open`, up to its closing brace.
    fn block<'a>(text: &'a str, open: &str) -> Vec<&'a str> {
        let lines = directives(text);
        let start = lines.iter().position(|line| *line == open).unwrap();
        let end = start + lines[start..].iter().position(|line| *line == "}").unwrap();
        lines[start + 1..end].to_vec()
    }

    #[test]
    fn qrcode_goes_to_rust_and_every_other_path_to_node() {
        let text = config(false);
        for path in ["/qrcode", "/openapi.json", "/healthz", "/metrics"] {
            let open = format!("location = {path} {{");
            assert_eq!(block(&text, &open), ["proxy_pass http://rust;"]);
        }
        assert_eq!(block(&text, "location / {"), ["proxy_pass http://node;"]);
        // TRACE, which nginx refuses before routing, goes to the app that owns the path.
        assert_eq!(
            block(&text, "location @trace {"),
            ["proxy_pass http://$owner;"]
        );
        assert_eq!(
            block(&text, "map $uri $owner {"),
            [
                "default node;",
                "/qrcode rust;",
                "/openapi.json rust;",
                "/healthz rust;",
                "/metrics rust;"
            ]
        );
        assert_eq!(
            block(&text, "upstream rust {"),
            [
                "server 127.0.0.1:1001;",
                "keepalive 128;",
                "keepalive_timeout 4s;"
            ]
        );
        assert_eq!(block(&text, "upstream node {")[0], "server 127.0.0.1:1002;");
        let lines = directives(&text);
        for line in [
            "listen 127.0.0.1:8080;",
            "daemon off;",
            "worker_processes 3;",
            "proxy_http_version 1.1;",
            "proxy_set_header Connection \"\";",
            "proxy_set_header Host $http_host;",
            "access_log off;",
        ] {
            assert!(lines.contains(&line), "{line} missing from:\n{text}");
        }
    }

    #[test]
    fn every_path_nginx_writes_is_in_the_run_folder() {
        let text = config(false);
        let written = directives(&text)
            .into_iter()
            .filter(|line| line.contains('/') && !line.contains("http://"))
            .filter(|line| !line.starts_with("location") && !line.starts_with("error_page"))
            .filter(|line| !RUST_PATHS.iter().any(|path| line.starts_with(path)));
        let mut count = 0;
        for line in written {
            assert!(line.contains(" \"/repo/target/nginx/42/"), "{line}");
            count += 1;
        }
        assert_eq!(count, 7, "pid, error_log and five temp paths:\n{text}");
    }

    #[test]
    fn replicas_share_one_upstream_with_health_checks_and_retries() {
        let replicas: Vec<SocketAddr> = ["10.0.0.2:42069", "10.0.0.6:42069"]
            .iter()
            .map(|addr| addr.parse().unwrap())
            .collect();
        let text = Config {
            dir: Path::new("/repo/target/nginx/42-cluster-0"),
            listen: "127.0.0.1:8080".parse().unwrap(),
            backends: Backends::Replicas(&replicas),
            workers: 2,
            root: true,
        }
        .render();
        assert_eq!(
            block(&text, "upstream replicas {"),
            [
                "zone replicas 64k;",
                "server 10.0.0.2:42069 max_fails=1 fail_timeout=2s;",
                "server 10.0.0.6:42069 max_fails=1 fail_timeout=2s;",
                "keepalive 128;",
                "keepalive_timeout 4s;"
            ]
        );
        for open in [
            "location = /qrcode {",
            "location = /openapi.json {",
            "location = /healthz {",
            "location / {",
        ] {
            assert_eq!(
                block(&text, open),
                ["proxy_pass http://replicas;"],
                "{open}"
            );
        }
        let owners = block(&text, "map $uri $owner {");
        assert!(
            owners.iter().all(|line| line.ends_with(" replicas;")),
            "{owners:?}"
        );
        assert!(!text.contains("upstream rust") && !text.contains("upstream node"));
        let lines = directives(&text);
        for line in [
            "proxy_next_upstream error timeout http_502 http_503;",
            "proxy_next_upstream_tries 2;",
            "proxy_next_upstream_timeout 10s;",
            "proxy_connect_timeout 1s;",
            "proxy_http_version 1.1;",
            "proxy_set_header Connection \"\";",
            "listen 127.0.0.1:8080;",
        ] {
            assert!(lines.contains(&line), "{line} missing from:\n{text}");
        }
        // tier-4-nginx keeps nginx's defaults.
        assert!(!config(false).contains("proxy_next_upstream"));
    }

    #[test]
    fn workers_run_as_root_only_under_root() {
        assert!(directives(&config(true)).contains(&"user root;"));
        assert!(!config(false).contains("user "));
    }

    #[test]
    fn paths_are_quoted() {
        assert_eq!(quoted(Path::new("/a b/c")), r#""/a b/c""#);
        assert_eq!(quoted(Path::new(r#"/a"b\c"#)), r#""/a\"b\\c""#);
    }
}
