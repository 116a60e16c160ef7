//! Puts the function back: deletes what the ledger lists (and any version carrying the
//! run's marker), then restores the original configuration. Idempotent: running it again,
//! from any invocation or the `cleanup` action, finds nothing more to do.

use futures::StreamExt;
use groundcrew::Deadline;

use crate::lambda::{CodeSource, FunctionState, LambdaApi, LambdaError};
use crate::state::Ledger;
use crate::wait::{call, until_updated};

/// Deletions in flight during cleanup (throttling is retried).
const CLEANUP_PARALLELISM: usize = 6;

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    pub complete: bool,
    pub aliases_deleted: usize,
    pub versions_deleted: usize,
    pub restored: bool,
    pub problems: Vec<String>,
}

/// What to clean for one run.
pub struct Scope<'a> {
    pub function: &'a str,
    pub original: &'a FunctionState,
    pub ledger: &'a Ledger,
    /// The description of the run's versions.
    pub marker: &'a str,
    /// Versions that existed before the run: never deleted.
    pub existing: &'a [String],
    /// The code to restore when the architecture changed.
    pub original_code: &'a CodeSource,
}

async fn delete_all<'a, F, Fut>(
    items: &'a [String],
    op: F,
) -> Vec<(String, Result<(), LambdaError>)>
where
    F: Fn(&'a String) -> Fut,
    Fut: std::future::Future<Output = Result<(), LambdaError>>,
{
    futures::stream::iter(items)
        .map(|item| {
            let fut = op(item);
            async move { (item.clone(), fut.await) }
        })
        .buffer_unordered(CLEANUP_PARALLELISM)
        .collect()
        .await
}

pub async fn cleanup<L: LambdaApi>(
    lambda: &L,
    scope: &Scope<'_>,
    deadline: Deadline,
) -> CleanupReport {
    let mut report = CleanupReport::default();
    let f = scope.function;
    // Aliases first (a version an alias points at cannot be deleted).
    for (alias, r) in delete_all(&scope.ledger.aliases, |alias| {
        call(deadline, "DeleteAlias", move || {
            lambda.delete_alias(f, alias)
        })
    })
    .await
    {
        match r {
            Ok(()) => report.aliases_deleted += 1,
            Err(e) => report
                .problems
                .push(format!("alias {alias} not deleted: {e}")),
        }
    }
    let mut versions: Vec<String> = scope.ledger.versions.clone();
    match call(deadline, "ListVersionsByFunction", || {
        lambda.list_versions(f)
    })
    .await
    {
        Ok(listed) => versions.extend(
            listed
                .into_iter()
                .filter(|v| v.description == scope.marker)
                .map(|v| v.version),
        ),
        Err(e) => report.problems.push(format!(
            "versions published without a recorded number were not looked for: {e}"
        )),
    }
    versions.sort();
    versions.dedup();
    versions.retain(|v| v != "$LATEST" && !scope.existing.contains(v));
    for (version, r) in delete_all(&versions, |version| {
        call(deadline, "DeleteFunction", move || {
            lambda.delete_version(f, version)
        })
    })
    .await
    {
        match r {
            Ok(()) => report.versions_deleted += 1,
            Err(e) => report
                .problems
                .push(format!("version {version} not deleted: {e}")),
        }
    }
    match restore(lambda, f, scope.original, scope.original_code, deadline).await {
        Ok(()) => report.restored = true,
        Err(e) => report
            .problems
            .push(format!("the original configuration was not restored: {e}")),
    }
    report.complete = report.problems.is_empty();
    if !report.complete {
        tracing::error!(problems = ?report.problems, "cleanup incomplete");
    }
    report
}

/// Puts architecture, memory, log settings and environment back as they were.
pub async fn restore<L: LambdaApi>(
    lambda: &L,
    function: &str,
    original: &FunctionState,
    original_code: &CodeSource,
    deadline: Deadline,
) -> Result<(), LambdaError> {
    let now = until_updated(lambda, function, deadline).await?;
    if now.architecture != original.architecture {
        // `original_code` is the original architecture's package when one was given (a
        // native build); the current package otherwise (code that runs on both).
        call(deadline, "UpdateFunctionCode", || {
            lambda.update_architecture(function, original.architecture, original_code)
        })
        .await?;
        let back = until_updated(lambda, function, deadline).await?;
        // The package put back must be the one that was deployed.
        if let (Some(was), Some(is)) = (&original.code_sha256, &back.code_sha256) {
            if was != is {
                return Err(LambdaError::other(format!(
                    "the code put back has CodeSha256 {is}, not the original {was}"
                )));
            }
        }
    }
    if now.memory_mb != original.memory_mb {
        call(deadline, "UpdateFunctionConfiguration", || {
            lambda.update_memory(function, original.memory_mb)
        })
        .await?;
        until_updated(lambda, function, deadline).await?;
    }
    if now.logging.is_some() && now.logging != original.logging {
        if let Some(logging) = &original.logging {
            call(deadline, "UpdateFunctionConfiguration", || {
                lambda.update_logging(function, logging)
            })
            .await?;
            until_updated(lambda, function, deadline).await?;
        }
    }
    if now.environment != original.environment {
        let vars = original.environment.clone().unwrap_or_default();
        call(deadline, "UpdateFunctionConfiguration", || {
            lambda.update_environment(function, vars.clone())
        })
        .await?;
        until_updated(lambda, function, deadline).await?;
    }
    Ok(())
}
