//! A local cluster's folder: `cluster.json` (who is in it and where), and one pid file and one
//! log per node. Every command that meets the cluster later (`status`, `down`, `kv`, a node
//! process itself) finds it through this folder alone.

use node::{NodeId, PlantedBug, Variant};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};

/// The one address everything binds to: nothing of a local cluster leaves the machine.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// What `cluster.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Nodes `1..=nodes`.
    pub nodes: u8,
    /// Node `n` listens on UDP `127.0.0.1:(base_port + n)`.
    pub base_port: u16,
    /// The store variant every node runs.
    pub variant: Variant,
    /// The root seed: node `n` in incarnation `i` draws from stream `Node(n, i)` of it.
    pub seed: u64,
    /// Wall-clock milliseconds per node tick.
    pub tick_ms: u64,
    /// A planted bug every node runs with (to show a real test catches it), or `none`.
    #[serde(default)]
    pub bug: PlantedBug,
}

impl ClusterFile {
    /// The node ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (1..=self.nodes).map(NodeId)
    }

    /// Whether `id` is one of the cluster's nodes.
    pub fn contains(&self, id: NodeId) -> bool {
        (1..=self.nodes).contains(&id.0)
    }

    /// Where node `id` listens.
    pub fn addr(&self, id: NodeId) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(
            LOOPBACK,
            self.base_port + u16::from(id.0),
        ))
    }

    /// The node listening at `addr`, if one does.
    pub fn node_at(&self, addr: SocketAddr) -> Option<NodeId> {
        let offset = addr.port().checked_sub(self.base_port)?;
        let id = NodeId(u8::try_from(offset).ok()?);
        (addr.ip() == LOOPBACK && self.contains(id)).then_some(id)
    }
}

/// Paths inside a cluster folder.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The folder `dir`.
    pub fn new(dir: &Path) -> Layout {
        Layout {
            dir: dir.to_path_buf(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `cluster.json`.
    pub fn cluster_file(&self) -> PathBuf {
        self.dir.join("cluster.json")
    }

    /// The pid file of node `id`.
    pub fn pid_file(&self, id: NodeId) -> PathBuf {
        self.dir.join(format!("n{id}.pid"))
    }

    /// The log of node `id` (every incarnation appends to it).
    pub fn log_file(&self, id: NodeId) -> PathBuf {
        self.dir.join(format!("n{id}.log"))
    }

    /// Reads `cluster.json`; the error is one line naming the file.
    pub fn read(&self) -> Result<ClusterFile, String> {
        let path = self.cluster_file();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e} (is a cluster up in this folder?)", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}: cluster file: {e}", path.display(), e.line().max(1)))
    }

    /// Writes `cluster.json`.
    pub fn write(&self, cluster: &ClusterFile) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let text = serde_json::to_string_pretty(cluster).expect("a cluster file serializes");
        std::fs::write(self.cluster_file(), text + "\n")
    }

    /// The pid recorded for node `id`, if its pid file is there and readable.
    pub fn pid(&self, id: NodeId) -> Option<i32> {
        std::fs::read_to_string(self.pid_file(id))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// A base port such that `base + 1 ..= base + nodes` are all free on loopback right now, tried
/// from a start drawn from the launcher's pid and the clock (launcher-side only: no node ever
/// sees it). Another program could take a port between this probe and the nodes' bind; a node
/// that cannot bind exits at once and the launcher reports it.
pub fn free_base_port(nodes: u8) -> Option<u16> {
    const LOW: u32 = 20_000;
    const SPAN: u32 = 40_000;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut start = (std::process::id().wrapping_mul(7919) ^ nanos) % SPAN;
    for _ in 0..64 {
        let base = (LOW + start) as u16;
        let all_free: Option<Vec<UdpSocket>> = (1..=u16::from(nodes))
            .map(|n| UdpSocket::bind((LOOPBACK, base + n)).ok())
            .collect();
        if all_free.is_some() {
            return Some(base);
        }
        start = (start + 997) % SPAN;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ids_map_both_ways() {
        let cluster = ClusterFile {
            nodes: 5,
            base_port: 30_000,
            variant: Variant::Versioned,
            seed: 1,
            tick_ms: 10,
            bug: PlantedBug::None,
        };
        assert_eq!(cluster.addr(NodeId(3)).to_string(), "127.0.0.1:30003");
        assert_eq!(cluster.node_at(cluster.addr(NodeId(5))), Some(NodeId(5)));
        assert_eq!(cluster.node_at("127.0.0.1:30006".parse().unwrap()), None);
        assert_eq!(cluster.node_at("127.0.0.1:30000".parse().unwrap()), None);
        assert_eq!(cluster.node_at("127.0.0.1:29999".parse().unwrap()), None);
        assert_eq!(cluster.node_at("127.0.0.2:30001".parse().unwrap()), None);
    }
}
