//! The LXC containers' network: one bridge brise creates when it is absent
//! (`brisebr0`, the first address of a private /24 on it), a static address
//! per container derived from its name (collisions resolved by probing the
//! next free one, so rules stay stable), and `route_localnet` on the bridge
//! when a port is published on loopback (DNAT of 127.0.0.1 needs it). The
//! address choice is pure ([`allocate`]); the rest runs `ip` through
//! `crate::command` and writes procfs.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnet::Ipv4Net;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::config::Network;
use crate::command::{self, CommandError, Invocation};

#[derive(Debug, Error)]
pub enum NetworkError {
    #[error("no free address left in `{subnet}` for container `{name}`")]
    Full { subnet: Ipv4Net, name: String },
    #[error("the LXC subnet `{subnet}` is too small: a /24 to /16 is needed")]
    SubnetSize { subnet: Ipv4Net },
    #[error(
        "`{bridge}` exists but is not a bridge with address `{gateway}/{prefix}` ({detail}): \
         remove it or configure another LXC bridge"
    )]
    BridgeMismatch {
        bridge: String,
        gateway: Ipv4Addr,
        prefix: u8,
        detail: String,
    },
    #[error("the LXC subnet `{subnet}` overlaps `{route}` on `{device}`: choose another subnet")]
    SubnetInUse {
        subnet: Ipv4Net,
        route: String,
        device: String,
    },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("cannot understand `ip -json` output: {0}")]
    IpOutput(serde_json::Error),
    #[error("cannot set `{path}`: {source}")]
    Procfs {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The bridge and subnet every LXC container of one LXC path is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    /// Interface name (at most 15 bytes).
    pub name: String,
    /// A private IPv4 subnet; its first address is the bridge's (the gateway).
    pub subnet: Ipv4Net,
}

impl Bridge {
    /// The bridge's own address, the containers' gateway.
    #[must_use]
    pub fn gateway(&self) -> Ipv4Addr {
        let base = u32::from(self.subnet.network());
        Ipv4Addr::from(base.saturating_add(1))
    }

    /// The network settings of a container at `address`.
    #[must_use]
    pub fn network(&self, address: Ipv4Addr) -> Network {
        Network {
            bridge: self.name.clone(),
            address,
            prefix: self.subnet.prefix_len(),
            gateway: self.gateway(),
            broadcast: self.subnet.broadcast(),
        }
    }
}

/// The address of container `name`: a slot derived from its name, or the next
/// free one after it; `taken` are the addresses other containers hold.
///
/// # Errors
/// The subnet is not a /16 to /24, or every address is taken.
pub fn allocate(
    bridge: &Bridge,
    name: &str,
    taken: &BTreeSet<Ipv4Addr>,
) -> Result<Ipv4Addr, NetworkError> {
    let prefix = bridge.subnet.prefix_len();
    if !(16..=24).contains(&prefix) {
        return Err(NetworkError::SubnetSize {
            subnet: bridge.subnet,
        });
    }
    let base = u32::from(bridge.subnet.network());
    // Host numbers 2 ..= broadcast - 1 (1 is the bridge).
    let hosts = (1u32 << (32 - u32::from(prefix))) - 3;
    let hash = Sha256::digest(format!("brise-lxc-address:{name}").as_bytes());
    let seed = u32::from_be_bytes([
        hash.first().copied().unwrap_or(0),
        hash.get(1).copied().unwrap_or(0),
        hash.get(2).copied().unwrap_or(0),
        hash.get(3).copied().unwrap_or(0),
    ]);
    let start = seed % hosts;
    for step in 0..hosts {
        let host = 2 + (start + step) % hosts;
        let address = Ipv4Addr::from(base + host);
        if !taken.contains(&address) {
            return Ok(address);
        }
    }
    Err(NetworkError::Full {
        subnet: bridge.subnet,
        name: name.to_owned(),
    })
}

#[derive(Debug, Deserialize)]
struct IpLink {
    #[serde(default)]
    ifname: String,
    #[serde(default)]
    linkinfo: Option<LinkInfo>,
    #[serde(default)]
    addr_info: Vec<AddrInfo>,
    #[serde(default)]
    operstate: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct LinkInfo {
    #[serde(default)]
    info_kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AddrInfo {
    #[serde(default)]
    family: String,
    #[serde(default)]
    local: String,
    #[serde(default)]
    prefixlen: u8,
}

#[derive(Debug, Deserialize)]
struct IpRoute {
    #[serde(default)]
    dst: String,
    #[serde(default)]
    dev: String,
}

/// What to do about the bridge, from `ip -details -json addr show` output.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BridgeState {
    Absent,
    Ready,
    /// A bridge without its address, or down.
    NeedsSetup {
        address: bool,
        up: bool,
    },
}

fn bridge_state(bridge: &Bridge, links: &[IpLink]) -> Result<BridgeState, NetworkError> {
    let Some(link) = links.iter().find(|l| l.ifname == bridge.name) else {
        return Ok(BridgeState::Absent);
    };
    let mismatch = |detail: String| NetworkError::BridgeMismatch {
        bridge: bridge.name.clone(),
        gateway: bridge.gateway(),
        prefix: bridge.subnet.prefix_len(),
        detail,
    };
    let kind = link
        .linkinfo
        .as_ref()
        .and_then(|info| info.info_kind.clone())
        .unwrap_or_default();
    if kind != "bridge" {
        return Err(mismatch(format!("it is a `{kind}` interface")));
    }
    let gateway = bridge.gateway().to_string();
    let mut has_address = false;
    for address in link.addr_info.iter().filter(|a| a.family == "inet") {
        if address.local == gateway && address.prefixlen == bridge.subnet.prefix_len() {
            has_address = true;
        } else {
            return Err(mismatch(format!(
                "it has address `{}/{}`",
                address.local, address.prefixlen
            )));
        }
    }
    let up = link.flags.iter().any(|f| f == "UP") || link.operstate.as_deref() == Some("UP");
    if has_address && up {
        Ok(BridgeState::Ready)
    } else {
        Ok(BridgeState::NeedsSetup {
            address: !has_address,
            up: !up,
        })
    }
}

fn ip_json<T: for<'de> Deserialize<'de>>(invocation: &Invocation) -> Result<T, NetworkError> {
    let output = command::run(invocation)?;
    serde_json::from_str(&output.stdout).map_err(NetworkError::IpOutput)
}

/// A route on another device overlapping `subnet` (another network uses it).
fn overlapping_route(bridge: &Bridge, routes: &[IpRoute]) -> Option<(String, String)> {
    routes.iter().find_map(|route| {
        if route.dev == bridge.name || route.dst == "default" {
            return None;
        }
        let net: Ipv4Net = route
            .dst
            .parse()
            .or_else(|_| route.dst.parse::<Ipv4Addr>().map(Ipv4Net::from))
            .ok()?;
        let overlaps =
            net.contains(&bridge.subnet.network()) || bridge.subnet.contains(&net.network());
        overlaps.then(|| (route.dst.clone(), route.dev.clone()))
    })
}

/// Create the bridge with its address when absent, bring it up; whether
/// anything changed. Refuses an interface of that name that is not our bridge,
/// and a subnet another device already routes.
///
/// # Errors
/// `ip` fails, or the name or subnet is taken by something else.
pub fn ensure_bridge(bridge: &Bridge) -> Result<bool, NetworkError> {
    let links: Vec<IpLink> =
        ip_json(&Invocation::new("ip").args(["-details", "-json", "address", "show"]))?;
    let state = bridge_state(bridge, &links)?;
    if state == BridgeState::Ready {
        return Ok(false);
    }
    let routes: Vec<IpRoute> =
        ip_json(&Invocation::new("ip").args(["-json", "-4", "route", "show"]))?;
    if let Some((route, device)) = overlapping_route(bridge, &routes) {
        return Err(NetworkError::SubnetInUse {
            subnet: bridge.subnet,
            route,
            device,
        });
    }
    let address = format!("{}/{}", bridge.gateway(), bridge.subnet.prefix_len());
    let (add_address, set_up) = match state {
        BridgeState::Absent => {
            let created = command::run(
                &Invocation::new("ip")
                    .args(["link", "add", "name"])
                    .arg(&bridge.name)
                    .args(["type", "bridge"]),
            );
            // Another brise may have created it meanwhile: check again.
            if let Err(error) = created {
                let links: Vec<IpLink> =
                    ip_json(&Invocation::new("ip").args(["-details", "-json", "address", "show"]))?;
                if bridge_state(bridge, &links)? == BridgeState::Absent {
                    return Err(error.into());
                }
            }
            (true, true)
        }
        BridgeState::NeedsSetup { address, up } => (address, up),
        BridgeState::Ready => (false, false),
    };
    if add_address {
        command::run(
            &Invocation::new("ip")
                .args(["address", "replace"])
                .arg(&address)
                .args(["broadcast", "+", "dev"])
                .arg(&bridge.name),
        )?;
    }
    if set_up {
        command::run(
            &Invocation::new("ip")
                .args(["link", "set", "dev"])
                .arg(&bridge.name)
                .arg("up"),
        )?;
    }
    Ok(true)
}

/// Remove the bridge (tests' own bridges; brise never removes the production one).
///
/// # Errors
/// `ip` fails for another reason than the bridge being absent.
pub fn remove_bridge(name: &str) -> Result<(), NetworkError> {
    let output = command::output(&Invocation::new("ip").args(["link", "delete", "dev", name]))?;
    if output.status.success() || output.stderr.contains("Cannot find device") {
        Ok(())
    } else {
        Err(NetworkError::Command(CommandError::CommandFailed {
            invocation: Box::new(Invocation::new("ip").args(["link", "delete", "dev", name])),
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        }))
    }
}

/// `/proc/sys/net/ipv4/conf/<bridge>/route_localnet`.
#[must_use]
pub fn route_localnet_path(bridge: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"))
}

/// Let packets from 127.0.0.0/8 be routed to the bridge (DNAT of loopback
/// ports), when it is not already allowed; whether it changed.
///
/// # Errors
/// The procfs file cannot be read or written.
pub fn enable_route_localnet(bridge: &str) -> Result<bool, NetworkError> {
    let path = route_localnet_path(bridge);
    let current = std::fs::read_to_string(&path).map_err(|source| NetworkError::Procfs {
        path: path.clone(),
        source,
    })?;
    if current.trim() == "1" {
        return Ok(false);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut file| file.write_all(b"1\n"))
        .map_err(|source| NetworkError::Procfs { path, source })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bridge() -> Bridge {
        Bridge {
            name: "brisebr0".to_owned(),
            subnet: "10.0.213.0/24".parse().unwrap(),
        }
    }

    #[test]
    fn the_gateway_is_the_first_address_and_containers_get_the_rest() {
        let bridge = bridge();
        assert_eq!(bridge.gateway(), Ipv4Addr::new(10, 0, 213, 1));
        let network = bridge.network(Ipv4Addr::new(10, 0, 213, 9));
        assert_eq!(network.broadcast, Ipv4Addr::new(10, 0, 213, 255));
        assert_eq!(network.prefix, 24);
    }

    #[test]
    fn an_address_is_derived_from_the_name_and_stays_stable() {
        let bridge = bridge();
        let none = BTreeSet::new();
        let web = allocate(&bridge, "web", &none).unwrap();
        assert_eq!(web, allocate(&bridge, "web", &none).unwrap());
        assert!(bridge.subnet.contains(&web));
        let last = web.octets()[3];
        assert!((2..=254).contains(&last), "{web}");
    }

    #[test]
    fn a_taken_address_moves_to_the_next_free_one() {
        let bridge = bridge();
        let web = allocate(&bridge, "web", &BTreeSet::new()).unwrap();
        let taken: BTreeSet<Ipv4Addr> = [web].into();
        let other = allocate(&bridge, "web", &taken).unwrap();
        assert_ne!(other, web);
        assert!(bridge.subnet.contains(&other));
    }

    #[test]
    fn a_full_subnet_is_an_error() {
        let bridge = bridge();
        let taken: BTreeSet<Ipv4Addr> = (2..=254).map(|h| Ipv4Addr::new(10, 0, 213, h)).collect();
        let error = allocate(&bridge, "web", &taken).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no free address left in `10.0.213.0/24` for container `web`"
        );
        let tiny = Bridge {
            name: "b".to_owned(),
            subnet: "10.0.0.0/30".parse().unwrap(),
        };
        assert!(matches!(
            allocate(&tiny, "web", &BTreeSet::new()),
            Err(NetworkError::SubnetSize { .. })
        ));
    }

    fn links(json: &str) -> Vec<IpLink> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_bridge_state_comes_from_ip_json() {
        let bridge = bridge();
        assert_eq!(
            bridge_state(&bridge, &links(r#"[{"ifname":"lo","addr_info":[]}]"#)).unwrap(),
            BridgeState::Absent
        );
        let ready = r#"[{"ifname":"brisebr0","flags":["BROADCAST","UP"],"linkinfo":{"info_kind":"bridge"},
            "addr_info":[{"family":"inet","local":"10.0.213.1","prefixlen":24},{"family":"inet6","local":"fe80::1","prefixlen":64}]}]"#;
        assert_eq!(
            bridge_state(&bridge, &links(ready)).unwrap(),
            BridgeState::Ready
        );
        let bare = r#"[{"ifname":"brisebr0","flags":["BROADCAST"],"linkinfo":{"info_kind":"bridge"},"addr_info":[]}]"#;
        assert_eq!(
            bridge_state(&bridge, &links(bare)).unwrap(),
            BridgeState::NeedsSetup {
                address: true,
                up: true
            }
        );
        let veth = r#"[{"ifname":"brisebr0","linkinfo":{"info_kind":"veth"},"addr_info":[]}]"#;
        assert!(
            bridge_state(&bridge, &links(veth))
                .unwrap_err()
                .to_string()
                .contains("it is a `veth` interface")
        );
        let other = r#"[{"ifname":"brisebr0","linkinfo":{"info_kind":"bridge"},
            "addr_info":[{"family":"inet","local":"192.168.9.1","prefixlen":24}]}]"#;
        assert!(
            bridge_state(&bridge, &links(other))
                .unwrap_err()
                .to_string()
                .contains("it has address `192.168.9.1/24`")
        );
    }

    #[test]
    fn a_subnet_routed_elsewhere_is_found() {
        let bridge = bridge();
        let routes: Vec<IpRoute> = serde_json::from_str(
            r#"[{"dst":"default","dev":"eth0"},{"dst":"10.0.0.0/16","dev":"eth1"},{"dst":"10.0.213.0/24","dev":"brisebr0"}]"#,
        )
        .unwrap();
        assert_eq!(
            overlapping_route(&bridge, &routes),
            Some(("10.0.0.0/16".to_owned(), "eth1".to_owned()))
        );
        assert_eq!(overlapping_route(&bridge, &routes[2..]), None);
    }
}
