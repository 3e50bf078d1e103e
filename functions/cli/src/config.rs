//! Configuration from the environment, parsed once into a typed value that
//! fails fast with a message saying what to fix (CONTRACT.md "Configuration").

use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Embedded SQLite store and queue (the default; no AWS at all).
    Sqlite,
    /// DynamoDB, SQS and SNS (real AWS, or a local emulator via AWS_ENDPOINT_URL).
    Aws,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub backend: Backend,
    pub db: PathBuf,
    pub addr: SocketAddr,
    pub jwt_secret: Option<Vec<u8>>,
    /// Seconds between deadline sweeps in `pakn serve`.
    pub sweep_every: u64,
    pub refdata_dir: Option<PathBuf>,
    /// Run the clock this many times faster than real time (demos of the deadline sweep).
    pub clock_speed: Option<f64>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env(backend_flag: Option<Backend>) -> Result<Self> {
        let backend = match (backend_flag, var("PAKN_BACKEND").as_deref()) {
            (Some(b), _) => b,
            (None, None | Some("sqlite")) => Backend::Sqlite,
            (None, Some("aws")) => Backend::Aws,
            (None, Some(other)) => bail!("PAKN_BACKEND must be 'sqlite' or 'aws', not '{other}'"),
        };
        let addr = var("PAKN_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr: SocketAddr = addr.parse().with_context(|| {
            format!("PAKN_ADDR must be host:port, e.g. 127.0.0.1:8080 (got '{addr}')")
        })?;
        let sweep_every = match var("PAKN_SWEEP_SECONDS") {
            None => 60,
            Some(s) => s.parse::<u64>().ok().filter(|n| *n > 0).with_context(|| {
                format!("PAKN_SWEEP_SECONDS must be a positive number of seconds (got '{s}')")
            })?,
        };
        if backend == Backend::Aws {
            for v in ["TABLE_NAME", "INTAKE_QUEUE_URL", "TOPIC_ARN"] {
                if var(v).is_none() {
                    bail!(
                        "--backend aws needs {v} (run `pakn provision` against your endpoint and export what it prints)"
                    );
                }
            }
        }
        let clock_speed = match var("PAKN_CLOCK_SPEED") {
            None => None,
            Some(s) => Some(
                s.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 1.0 && *x <= 1_000_000.0)
                    .with_context(|| {
                        format!("PAKN_CLOCK_SPEED must be a number from 1 to 1000000 (got '{s}')")
                    })?,
            ),
        };
        Ok(Config {
            clock_speed,
            backend,
            db: var("PAKN_DB")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("pakn.db")),
            addr,
            jwt_secret: var("PAKN_JWT_SECRET").map(String::into_bytes),
            sweep_every,
            refdata_dir: var("PAKN_REFDATA_DIR").map(PathBuf::from),
        })
    }

    /// The local token secret: PAKN_JWT_SECRET, or one generated once and
    /// stored beside the database (`<db>.jwt-secret`, mode 0600).
    pub fn local_secret(&self) -> Result<Vec<u8>> {
        if let Some(s) = &self.jwt_secret {
            if s.len() < 32 {
                bail!("PAKN_JWT_SECRET must be at least 32 bytes");
            }
            return Ok(s.clone());
        }
        let path = PathBuf::from(format!("{}.jwt-secret", self.db.display()));
        if let Ok(s) = std::fs::read_to_string(&path) {
            let s = s.trim().to_string();
            if s.len() >= 32 {
                return Ok(s.into_bytes());
            }
        }
        let secret: String = rand::random::<[u8; 32]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(secret.into_bytes())
    }

    pub fn refdata(&self) -> Result<pakn_core::refdata::RefData> {
        match &self.refdata_dir {
            None => Ok(pakn_core::refdata::RefData::embedded()),
            Some(d) => pakn_core::refdata::RefData::from_dir(d)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("PAKN_REFDATA_DIR={}", d.display())),
        }
    }
}
