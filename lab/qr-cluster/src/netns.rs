//! Network namespaces for a cluster's replicas, made with iproute2 (`ip`, as root): one namespace
//! per replica, joined to this machine's by a veth pair whose two ends share a /30 of
//! [`NETWORK`], the replica's end (`eth0`, inside) and the host's end (`rq<pid>-<k>-<i>`, here).
//! Each is removed when dropped; those of a process that no longer runs (killed before it could
//! remove them) are removed by the next one that makes namespaces.
//!
//! Names carry this process's pid and a per-process counter, so parallel runs and tests never
//! clash; the /30s are picked under a lock (`/run/rusty-qr-cluster.lock`) among those that no
//! address or route of this machine overlaps.

use std::fs::File;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

/// The private range the /30s come from (10.213.0.0/16: 16,384 of them).
pub const NETWORK: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 213, 0, 0), 16);
/// Every namespace this module makes is named `<NAME_PREFIX><pid>-<k>-<i>`.
pub const NAME_PREFIX: &str = "rusty-qr-";
/// Held while /30s are picked and taken, so two processes never pick the same one.
const LOCK: &str = "/run/rusty-qr-cluster.lock";
/// Replicas per cluster: the host end's name (`rq<pid>-<k>-<i>`) must fit Linux's 15 bytes.
pub const MAX_REPLICAS: usize = 99;

/// One replica's namespace and veth pair; removed when dropped.
#[derive(Debug)]
pub struct Namespace {
    name: String,
    veth: String,
    inside: Ipv4Addr,
}

impl Namespace {
    /// The namespace's name (`ip netns exec NAME ...`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's end of the veth pair.
    pub fn veth(&self) -> &str {
        &self.veth
    }

    /// The replica's address, inside the namespace.
    pub fn addr(&self) -> Ipv4Addr {
        self.inside
    }

    /// Deletes the veth pair (both ends at once) and the namespace.
    pub fn remove(mut self) -> Result<()> {
        let result = self.delete();
        self.name.clear();
        result
    }

    fn delete(&self) -> Result<()> {
        if self.name.is_empty() {
            return Ok(());
        }
        // Deleting one end deletes both, at once; the namespace's own removal would take the pair
        // with it only once no process is left in it, and asynchronously.
        let link = ip(&["link", "del", &self.veth]);
        let netns = ip(&["netns", "del", &self.name]);
        link.and(netns)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Err(error) = self.delete() {
            eprintln!("qr-cluster: {error:#}");
        }
    }
}

/// Makes `count` namespaces, each with its veth pair and addresses, named after this process.
/// On an error, those made already are removed.
pub fn create(count: usize) -> Result<Vec<Namespace>> {
    static CLUSTERS: AtomicUsize = AtomicUsize::new(0);
    if count == 0 || count > MAX_REPLICAS {
        bail!("a cluster has 1 to {MAX_REPLICAS} replicas, not {count}");
    }
    if !rustix::process::geteuid().is_root() {
        bail!(
            "making network namespaces and veth pairs needs root (ip netns add, ip link add): run as root"
        );
    }
    let k = CLUSTERS.fetch_add(1, Ordering::Relaxed) % 100;
    let pid = std::process::id();
    let lock = File::create(LOCK).with_context(|| format!("cannot open {LOCK}"))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .with_context(|| format!("cannot lock {LOCK}"))?;
    remove_stale()?;
    let mut taken = in_use()?;
    let mut namespaces = Vec::with_capacity(count);
    for i in 0..count {
        let subnet = free_subnet(&taken)?;
        taken.push((subnet, 30));
        let [a, b, c, d] = subnet.octets();
        let host = Ipv4Addr::new(a, b, c, d + 1);
        let inside = Ipv4Addr::new(a, b, c, d + 2);
        let name = format!("{NAME_PREFIX}{pid}-{k}-{i}");
        let veth = format!("rq{pid}-{k}-{i}");
        ip(&["netns", "add", &name])?;
        let namespace = Namespace { name, veth, inside };
        let (name, veth) = (namespace.name.clone(), namespace.veth.clone());
        namespaces.push(namespace);
        let (host, inside) = (format!("{host}/30"), format!("{inside}/30"));
        ip(&[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &name,
        ])?;
        ip(&["addr", "add", &host, "dev", &veth])?;
        ip(&["link", "set", &veth, "up"])?;
        ip(&["-n", &name, "addr", "add", &inside, "dev", "eth0"])?;
        ip(&["-n", &name, "link", "set", "eth0", "up"])?;
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
    }
    // The lock is released when `lock` is dropped: the addresses are on the host's ends now.
    Ok(namespaces)
}

/// Whether namespace `name` exists.
pub fn exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

/// Runs `ip ARGS`; an error with its stderr unless it exits 0.
fn ip(args: &[&str]) -> Result<()> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .context("cannot run ip (iproute2)")?;
    if !output.status.success() {
        bail!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// `ip ARGS`' stdout.
fn ip_output(args: &[&str]) -> Result<String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .context("cannot run ip (iproute2)")?;
    if !output.status.success() {
        bail!("`ip {}` failed ({})", args.join(" "), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Deletes the namespaces (and so their veth pairs) of processes that no longer run.
fn remove_stale() -> Result<()> {
    for line in ip_output(&["netns", "list"])?.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split('-').next()?.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("qr-cluster: removing namespace {name}, left by process {pid}");
            ip(&["netns", "del", name])?;
        }
    }
    Ok(())
}

/// The IPv4 prefixes this machine uses: its addresses and its routes (every table).
fn in_use() -> Result<Vec<(Ipv4Addr, u8)>> {
    let addresses = ip_output(&["-o", "-4", "addr", "show"])?;
    let routes = ip_output(&["-4", "route", "show", "table", "all"])?;
    let from_addresses = addresses.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        words.find(|&word| word == "inet")?;
        words.next()
    });
    // A route's first word is its destination, or its type (`local`, `broadcast`, ...) then it.
    let from_routes = routes.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        if first.starts_with(|c: char| c.is_ascii_digit()) {
            Some(first)
        } else {
            words.next()
        }
    });
    Ok(from_addresses
        .chain(from_routes)
        .filter_map(prefix)
        .collect())
}

/// `A.B.C.D` or `A.B.C.D/LEN` as a prefix.
fn prefix(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = text.split_once('/').unwrap_or((text, "32"));
    let len: u8 = len.parse().ok().filter(|&len| len <= 32)?;
    Some((addr.parse().ok()?, len))
}

/// Whether two prefixes share an address (one holds the other).
fn overlap((a, a_len): (Ipv4Addr, u8), (b, b_len): (Ipv4Addr, u8)) -> bool {
    let len = a_len.min(b_len);
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(a) & mask == u32::from(b) & mask
}

/// The first /30 of [`NETWORK`] that none of `taken` overlaps.
fn free_subnet(taken: &[(Ipv4Addr, u8)]) -> Result<Ipv4Addr> {
    let (base, len) = NETWORK;
    let count = 1u32 << (30 - len);
    (0..count)
        .map(|n| Ipv4Addr::from(u32::from(base) + 4 * n))
        .find(|&subnet| taken.iter().all(|&used| !overlap(used, (subnet, 30))))
        .with_context(|| {
            format!(
                "no /30 of {}/{len} is free: this machine's addresses or routes cover it",
                base
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> (Ipv4Addr, u8) {
        prefix(text).unwrap()
    }

    #[test]
    fn prefixes_overlap_when_one_holds_the_other() {
        assert!(overlap(p("10.213.0.0/30"), p("10.213.0.2")));
        assert!(overlap(p("10.0.0.0/8"), p("10.213.0.4/30")));
        assert!(!overlap(p("10.213.0.0/30"), p("10.213.0.4/30")));
        assert!(overlap(p("0.0.0.0/0"), p("10.213.0.4/30")));
        assert_eq!(prefix("default"), None);
        assert_eq!(prefix("10.0.0.1/33"), None);
    }

    #[test]
    fn the_first_free_subnet_skips_what_is_taken() {
        assert_eq!(free_subnet(&[]).unwrap(), Ipv4Addr::new(10, 213, 0, 0));
        let taken = [p("10.213.0.1/30"), p("10.213.0.6")];
        assert_eq!(free_subnet(&taken).unwrap(), Ipv4Addr::new(10, 213, 0, 8));
        let err = free_subnet(&[p("10.0.0.0/8")]).unwrap_err().to_string();
        assert!(err.starts_with("no /30 of 10.213.0.0/16 is free"), "{err}");
    }
}
