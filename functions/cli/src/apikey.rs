//! `pakn apikey create|list|revoke`: the city registers a client
//! application (an Open311 client) and hands it a key, shown once; only
//! the key's SHA-256 is stored, on the configured backend.

use crate::compose::Composed;
use anyhow::{Result, bail};
use clap::Subcommand;
use pakn_config::{Backend, Config};
use pakn_core::ports::SystemClock;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Issue a key for a client application (printed once).
    Create {
        /// The application's name, e.g. "Ứng dụng X".
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Every key: id, name, created, revoked.
    List {
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Revoke a key by its id: it is refused from now on.
    Revoke {
        id: String,
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
}

impl ApiKeyCommand {
    pub fn backend(&self) -> Option<Backend> {
        match self {
            ApiKeyCommand::Create { backend, .. }
            | ApiKeyCommand::List { backend }
            | ApiKeyCommand::Revoke { backend, .. } => *backend,
        }
    }
}

/// The catalogue's two sentences for a domain error, for the terminal.
fn worded(e: pakn_core::Error) -> anyhow::Error {
    let (en, vi) = pakn_api::messages::messages(&e);
    anyhow::anyhow!("{en}\n{vi}")
}

pub async fn run(cfg: &Config, cmd: ApiKeyCommand) -> Result<()> {
    let composed = Composed::build(cfg, Arc::new(SystemClock)).await?;
    let keys = composed.pakn.api_keys();
    let when =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match cmd {
        ApiKeyCommand::Create { name, .. } => {
            let issued = keys.create(&name).await.map_err(worded)?;
            println!("id     {}", issued.record.id);
            println!("name   {}", issued.record.name);
            println!("key    {}", issued.key);
            eprintln!(
                "Give the key to the application: it is shown only now (pakn keeps its SHA-256). \
                 The application sends it as api_key to POST /open311/v2/requests.{{json,xml}}.\n\
                 Hãy trao khoá cho ứng dụng: khoá chỉ hiện một lần."
            );
        }
        ApiKeyCommand::List { .. } => {
            println!("id\tname\tcreated\trevoked");
            for k in keys.list().await.map_err(worded)? {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.id,
                    k.name,
                    when(k.created_at),
                    k.revoked_at.map(when).unwrap_or_else(|| "-".into())
                );
            }
        }
        ApiKeyCommand::Revoke { id, .. } => {
            if id.trim().is_empty() {
                bail!("give the key's id (pakn apikey list)");
            }
            let k = keys.revoke(&id).await.map_err(worded)?;
            println!(
                "revoked {} ({}) at {}",
                k.id,
                k.name,
                k.revoked_at.map(when).unwrap_or_default()
            );
        }
    }
    Ok(())
}
