//! The run's two clients: the paced GitHub client, whose long waits are logged as they
//! start, and, for container packages, the registry client of their manifests.

use std::sync::Arc;

use crate::config::Config;
use crate::github::GitHub;
use crate::model::version::PackageType;
use crate::registry::{Patience, Registry};
use crate::report::log::Log;

use super::execute;

/// The GitHub client of the run. A long wait is logged as it starts, while the run is busy
/// awaiting the request.
pub fn github<W: std::io::Write + Send + 'static>(
    config: &Config,
    log: &Log<W>,
) -> anyhow::Result<GitHub> {
    let mut github = GitHub::new(&config.api_url, &config.token, config.pacing.clone())?;
    let side = log.side();
    github.announce_waits(Arc::new(move |notice| {
        side.info(&execute::wait_line(notice))
    }));
    Ok(github)
}

/// The registry client of a container package's manifests; other types have none.
pub fn registry(config: &Config) -> anyhow::Result<Option<Registry>> {
    Ok(match config.package_type {
        PackageType::Container => Some(Registry::new(
            &config.registry_url,
            &config.token,
            Patience::from_pacing(&config.pacing),
        )?),
        _ => None,
    })
}
