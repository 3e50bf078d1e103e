//! `pakn wards load FILE.geojson` / `pakn wards show`: the city's own ward
//! boundaries (no public package has Hanoi's post-2025 wards). `load`
//! checks the file against the 126 wards of the reference data — an
//! unknown code refuses the whole file, wards left out are loaded without a
//! boundary and listed — and stores it as a new version, made current last
//! (see `pakn_core::wards` and each backend's `WardMapStore`). The router
//! picks the new version up within a minute (`pakn_core::routing::WardCache`).

use crate::compose::Composed;
use anyhow::{Context, Result};
use clap::Subcommand;
use pakn_config::{Backend, Config};
use pakn_core::ports::SystemClock;
use pakn_core::wards::{WardMap, WardMapInfo, parse_geojson};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum WardsCommand {
    /// Load a GeoJSON FeatureCollection (a `ward_code` property per feature) as the current boundaries.
    Load {
        file: PathBuf,
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// The current boundaries: version, when loaded, counts, wards without a boundary.
    Show {
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
}

impl WardsCommand {
    pub fn backend(&self) -> Option<Backend> {
        match self {
            WardsCommand::Load { backend, .. } | WardsCommand::Show { backend } => *backend,
        }
    }
}

fn print_info(i: &WardMapInfo) {
    println!("version   {}", i.version);
    println!(
        "loaded    {}",
        i.loaded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!("wards     {}", i.wards);
    println!("polygons  {}", i.polygons);
    println!("missing   {}", i.missing.len());
    if !i.missing.is_empty() {
        println!(
            "Phường/xã chưa có ranh giới — wards without a boundary (their reports need a ward_code, else triage): {}",
            i.missing.join(", ")
        );
    }
}

pub async fn run(cfg: &Config, cmd: WardsCommand) -> Result<()> {
    let composed = Composed::build(cfg, Arc::new(SystemClock)).await?;
    let pakn = &composed.pakn;
    match cmd {
        WardsCommand::Load { file, .. } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let parsed = parse_geojson(&text, &pakn.refdata)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let map = WardMap::new(parsed.wards, parsed.missing, pakn.now());
            pakn.ward_maps
                .put_ward_map(&map)
                .await
                .context("storing the ward boundaries")?;
            print_info(&map.info());
        }
        WardsCommand::Show { .. } => match pakn.ward_maps.current_ward_map().await? {
            Some(i) => print_info(&i),
            None => println!(
                "Chưa nạp ranh giới phường/xã — no ward boundaries loaded (`pakn wards load FILE.geojson`)"
            ),
        },
    }
    Ok(())
}
