//! The nginx configuration qr-nginx writes for one run, as text: the routing table (`/qrcode`,
//! `/healthz` and `/metrics` to qr-server, every other path to the Node app), keep-alive upstreams, and the settings that keep
//! the HTTP contract (`contract/cases.json`) byte for byte through nginx. Each choice is explained
//! where it is written, and in the crate's README.

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;

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
    /// qr-server, which answers `/qrcode`, `/healthz` and `/metrics`.
    pub rust: SocketAddr,
    /// The Node app (tier-0), which answers every other path.
    pub node: SocketAddr,
    /// nginx worker processes.
    pub workers: usize,
    /// Whether nginx runs as root (it then needs a `user` for its workers).
    pub root: bool,
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
        for (name, addr) in [("rust", self.rust), ("node", self.node)] {
            // The idle limit is below both apps' (Node 5 s, qr-server 10 s), so nginx never sends a
            // request on a connection the app is closing.
            let _ = write!(
                text,
                r#"
    upstream {name} {{
        server {addr};
        keepalive {UPSTREAM_KEEPALIVE};
        keepalive_timeout 4s;
    }}
"#
            );
        }
        let _ = write!(
            text,
            r#"
    server {{
        listen {listen};

        # The routing table. proxy_pass without a URI part: the request target goes on unchanged.
        # The Rust service's own health and metrics go with it.
        location = /qrcode {{
            proxy_pass http://rust;
        }}
        location = /healthz {{
            proxy_pass http://rust;
        }}
        location = /metrics {{
            proxy_pass http://rust;
        }}
        location / {{
            proxy_pass http://node;
        }}

        # nginx refuses TRACE itself, before routing, with its own 405 page: the Node app answers it
        # instead, as both apps do (405 "method not allowed" on /qrcode, 404 "not found" elsewhere).
        error_page 405 = @trace;
        location @trace {{
            proxy_pass http://node;
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
"#,
            listen = self.listen,
        );
        text
    }
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
            rust: "127.0.0.1:1001".parse().unwrap(),
            node: "127.0.0.1:1002".parse().unwrap(),
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
        assert_eq!(
            block(&text, "location = /qrcode {"),
            ["proxy_pass http://rust;"]
        );
        for path in ["/healthz", "/metrics"] {
            let open = format!("location = {path} {{");
            assert_eq!(block(&text, &open), ["proxy_pass http://rust;"]);
        }
        assert_eq!(block(&text, "location / {"), ["proxy_pass http://node;"]);
        assert_eq!(
            block(&text, "location @trace {"),
            ["proxy_pass http://node;"]
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
            .filter(|line| !line.starts_with("location") && !line.starts_with("error_page"));
        let mut count = 0;
        for line in written {
            assert!(line.contains(" \"/repo/target/nginx/42/"), "{line}");
            count += 1;
        }
        assert_eq!(count, 7, "pid, error_log and five temp paths:\n{text}");
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
