//! `autoOptimize`: applies a complete run's winner to `$LATEST`, and to an alias when one
//! is named (a new version published at the winning configuration).

use groundcrew::Deadline;

use crate::lambda::{CodeSource, LambdaApi, LambdaError};
use crate::run::Target;
use crate::wait::{call, until_updated, until_version_active};

/// Returns the version the alias now points at, when an alias was named.
pub async fn apply<L: LambdaApi>(
    lambda: &L,
    function: &str,
    winner: Target,
    code: &CodeSource,
    alias: Option<&str>,
    deadline: Deadline,
) -> Result<Option<String>, LambdaError> {
    let now = until_updated(lambda, function, deadline).await?;
    if now.architecture != winner.architecture {
        call(deadline, "UpdateFunctionCode", || {
            lambda.update_architecture(function, winner.architecture, code)
        })
        .await?;
        until_updated(lambda, function, deadline).await?;
    }
    if now.memory_mb != winner.memory_mb {
        call(deadline, "UpdateFunctionConfiguration", || {
            lambda.update_memory(function, winner.memory_mb)
        })
        .await?;
        until_updated(lambda, function, deadline).await?;
    }
    let Some(alias) = alias else { return Ok(None) };
    let description = format!(
        "power-tuner autoOptimize: {} MB {}",
        winner.memory_mb,
        winner.architecture.as_str()
    );
    let version = call(deadline, "PublishVersion", || {
        lambda.publish_version(function, &description)
    })
    .await?;
    until_version_active(lambda, function, &version, deadline).await?;
    call(deadline, "UpdateAlias", || {
        lambda.put_alias(function, alias, &version)
    })
    .await?;
    Ok(Some(version))
}
