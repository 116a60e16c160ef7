//! Repository checks written in Rust. Today one: the IAM least-privilege check
//! ([`check`]), which compares each function's IAM policy in `template.yaml` with the AWS
//! SDK calls its code makes.
//!
//! For every `AWS::Serverless::Function` (crate = its `CodeUri: functions/<name>`):
//!
//! 1. **Grants** ([`template`]): the actions of the function's inline policy statements
//!    (`Action` a string or a list; statements and values under `!If` count with both
//!    branches). A SAM policy template, a managed policy, `Role`, `NotAction`,
//!    `NotResource` or a wildcard action fail: they cannot be compared with the code.
//!    `Effect: Deny` statements are not grants (listed with `-v`). SAM's own additions
//!    (dead-letter queue, X-Ray, CloudWatch Logs) are not in `Policies` and not checked.
//! 2. **Calls** ([`source`], [`sdk`]): the operations of the AWS SDK crates the function
//!    depends on, read from the SDK sources in the cargo registry at Cargo.lock's
//!    versions, found in the function's non-test source parsed with `syn`: a fluent call
//!    `<client>.<operation>()` whose receiver is typed as `aws_sdk_<svc>::Client` (a
//!    `self` field, `self` in an `impl` for the client, a parameter or `let` of that
//!    type), a fully qualified `aws_sdk_<svc>::Client::<operation>(..)`, or an untyped
//!    receiver whose chain is sent (`.send()`, `.into_paginator()`, `.customize()`) when
//!    exactly one of the function's SDKs has the operation. Calls inside `groundcrew`
//!    are charged to the type making them (e.g. `AwsSecretStore`) and to a function
//!    whose code names that type through its module.
//! 3. **Actions** ([`rules`]): operation `Op` of service `svc` is `<prefix>:Op` except
//!    for [`rules::ACTION_EXCEPTIONS`]; every action must exist in cfn-lint's IAM data.
//! 4. **Rules**: a granted action never called fails; a called action not granted fails
//!    unless [`rules::NOT_GRANTED_OK`] lists it with a reason (a stale entry fails);
//!    `Resource: "*"` fails unless the action has no resource-level permissions
//!    ([`rules::STAR_OK`]); an `aws_sdk_*` client named, or an SDK call made, outside the
//!    crate's adapters (`src/aws.rs`, `src/aws/**`) fails ([`rules::ADAPTER_RULE_IS_ERROR`];
//!    `groundcrew`'s own `shared/src` is its adapter for secrets).
//!
//! Known limits: no type information. A client reached through a chain of fields
//! (`self.queue.client`), a `Deref` wrapper or a method's return value is found only by
//! the `.send()` rule; a call built inside a macro other than a list of expressions
//! (`join!`, `vec!`, `format!`) or in another crate is not found. Every call in the
//! source counts, reached or not; a shared type counts with all its calls. Conditional
//! grants (`!If`) count as granted. How narrow a scoped `Resource` or `Condition` is, is
//! not judged (only `Resource: "*"`).

pub mod check;
pub mod iam_data;
pub mod rules;
pub mod sdk;
pub mod source;
pub mod template;

/// A problem that stops the check of one function (or all of them).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

impl CheckError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<std::io::Error> for CheckError {
    fn from(e: std::io::Error) -> Self {
        Self(e.to_string())
    }
}
