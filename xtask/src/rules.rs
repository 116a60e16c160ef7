//! The check's tables: IAM prefixes, the operations whose action is spelled otherwise,
//! the allowlists with their reasons, and the switch of the adapter rule.

/// `true` once all five crates keep every SDK client in `src/aws.rs` / `src/aws/**`:
/// a client named or an SDK call made elsewhere then fails the check instead of warning.
pub const ADAPTER_RULE_IS_ERROR: bool = true;

/// IAM service prefix of each AWS SDK crate (`aws-sdk-<key>`). A crate missing here
/// fails the check until it is added.
pub const IAM_PREFIX: &[(&str, &str)] = &[
    ("applicationautoscaling", "application-autoscaling"),
    ("cloudfront", "cloudfront"),
    ("cloudwatch", "cloudwatch"),
    ("codepipeline", "codepipeline"),
    ("dynamodb", "dynamodb"),
    ("ecs", "ecs"),
    ("lambda", "lambda"),
    ("rds", "rds"),
    ("resourcegroupstagging", "tag"),
    ("s3", "s3"),
    ("secretsmanager", "secretsmanager"),
    ("sns", "sns"),
    ("sqs", "sqs"),
    ("ssm", "ssm"),
];

pub fn iam_prefix(svc: &str) -> Option<&'static str> {
    IAM_PREFIX.iter().find(|(s, _)| *s == svc).map(|(_, p)| *p)
}

/// Operations whose IAM action is not `<prefix>:<OperationName>`. Everything else used
/// here maps one to one (CloudWatch GetMetricData -> cloudwatch:GetMetricData); a
/// missing entry shows up as a derived action cfn-lint's IAM data does not know.
pub const ACTION_EXCEPTIONS: &[(&str, &str, &[&str])] = &[
    // The Invoke API is authorised by the lambda:InvokeFunction action.
    ("lambda", "Invoke", &["lambda:InvokeFunction"]),
    // Listing a bucket's objects (either API version) is authorised by s3:ListBucket.
    ("s3", "ListObjectsV2", &["s3:ListBucket"]),
    ("s3", "ListObjects", &["s3:ListBucket"]),
    // HEAD on an object needs the permission to GET it.
    ("s3", "HeadObject", &["s3:GetObject"]),
    // A write transaction is authorised item by item: a put, an update or a delete in it
    // needs that item action. (A ConditionCheck item would need
    // dynamodb:ConditionCheckItem; no crate uses one.)
    (
        "dynamodb",
        "TransactWriteItems",
        &[
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
    ),
];

/// The IAM actions an operation needs (one, except for a few in [`ACTION_EXCEPTIONS`]).
pub fn to_actions(svc: &str, op: &str) -> Vec<String> {
    if let Some((_, _, actions)) = ACTION_EXCEPTIONS
        .iter()
        .find(|(s, o, _)| *s == svc && *o == op)
    {
        return actions.iter().map(|a| a.to_string()).collect();
    }
    vec![format!("{}:{op}", iam_prefix(svc).unwrap_or(svc))]
}

/// Actions a function's code calls but its policy deliberately does not grant:
/// (function, action, reason). Each must still be called and not granted (else: stale).
/// (telegram-webhook's SSM calls are granted, on its registration records; SSM
/// references for its secrets need more, which its README tells users to add.)
pub const NOT_GRANTED_OK: &[(&str, &str, &str)] = &[
    // A CodePipeline job's input artifact (a manifest of changed paths) is read with the
    // temporary artifactCredentials CodePipeline puts in the job, not the function's role.
    (
        "cloudfront-invalidate",
        "s3:GetObject",
        "CodePipeline input artifacts are read with the job's own artifact credentials",
    ),
];

/// Actions that may be granted on `Resource: "*"` because they have no resource-level
/// permissions (Service Authorization Reference; each is checked against cfn-lint's
/// IAM data).
pub const STAR_OK: &[(&str, &str)] = &[
    // cfn-lint lists one optional resource type, CloudWatch's `dataset`, which plain
    // metrics are not (see STAR_OK_DESPITE_RESOURCE_TYPES).
    ("cloudwatch:GetMetricData", "metrics have no ARN"),
    ("ecs:ListClusters", "no resource types"),
    ("ecs:DescribeTaskDefinition", "no resource types"),
    (
        "ecs:ListServices",
        "no resource types (only the ecs:cluster condition key)",
    ),
    (
        "application-autoscaling:DescribeScalableTargets",
        "no resource types",
    ),
    (
        "codepipeline:PutJobSuccessResult",
        "job results have no resource types",
    ),
    (
        "codepipeline:PutJobFailureResult",
        "job results have no resource types",
    ),
    ("cloudfront:ListDistributions", "no resource types"),
    ("tag:GetResources", "no resource types"),
    ("cloudwatch:GetMetricWidgetImage", "no resource types"),
    (
        "rds:DescribeEvents",
        "no resource types (aurora-autopause lists events by source type)",
    ),
];

/// STAR_OK entries for which cfn-lint's data lists an optional resource type that does
/// not cover what the code reads.
pub const STAR_OK_DESPITE_RESOURCE_TYPES: &[&str] = &["cloudwatch:GetMetricData"];
