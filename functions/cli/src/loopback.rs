//! Benches talk to this machine only: the one check every bench's URL passes.

use anyhow::{Result, bail};

/// Refuse anything but a loopback address: benches never leave the machine.
pub fn loopback_only(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("{url}: only http:// on 127.0.0.1 is allowed"))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
    };
    let ok = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !ok {
        bail!("{url}: benches only talk to 127.0.0.1 / localhost (got host '{host}')");
    }
    Ok(())
}
