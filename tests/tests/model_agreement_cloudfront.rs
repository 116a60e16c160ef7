//! The CloudFront model against the local AWS (moto): one sequence of CreateInvalidation
//! and GetInvalidation through the function's own `CloudFront` trait (the SDK adapter on
//! moto, `CloudFrontModel` on the virtual clock), then ListInvalidations, comparing which
//! calls succeed, the error codes of those refused, and how many invalidations exist.
//!
//! Not compared, because moto differs from CloudFront's documentation (the model follows
//! the documentation): a new invalidation's status (CloudFront answers `InProgress` and
//! completes it minutes later, API Reference "CreateInvalidation"; moto answers
//! `COMPLETED` at once); a repeated `CallerReference` (CloudFront returns the existing
//! invalidation, or `InvalidationBatchAlreadyExists` with other paths; moto creates
//! another); and the in-progress limits (3,000 files, 15 wildcards: moto has none). The
//! model's own tests check those three.

use std::sync::Arc;

use aws_sdk_cloudfront::types::{
    DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
};
use chrono::{DateTime, Utc};
use cloudfront_invalidate::aws::{CloudFront, SdkCloudFront};
use sim::kernel::{FaultRates, Sim};
use sim::models::cloudfront::CloudFrontModel;

const UNKNOWN_DISTRIBUTION: &str = "ENOSUCHDIST000";

/// The sequence: "created"/"found" or the refusal's error code, per step.
async fn sequence<C: CloudFront>(cf: &C, dist: &str) -> Vec<String> {
    let mut out = Vec::new();
    let paths = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = cf
        .create_invalidation(dist, &paths(&["/a.html", "/blog/*"]), "agree-1")
        .await;
    out.push(first.as_ref().map_or_else(code, |_| "created".into()));
    let id = first.map(|i| i.id).unwrap_or_default();
    out.push(
        cf.get_invalidation(dist, &id)
            .await
            .map_or_else(|e| code(&e), |i| format!("found {}", i.id == id)),
    );
    out.push(
        cf.create_invalidation(dist, &paths(&["/c.html"]), "agree-2")
            .await
            .map_or_else(|e| code(&e), |_| "created".into()),
    );
    out.push(
        cf.create_invalidation(UNKNOWN_DISTRIBUTION, &paths(&["/a.html"]), "agree-3")
            .await
            .map_or_else(|e| code(&e), |_| "created".into()),
    );
    out.push(
        cf.get_invalidation(dist, "INOSUCHINVALIDATION")
            .await
            .map_or_else(|e| code(&e), |_| "found".into()),
    );
    out
}

fn code(e: &cloudfront_invalidate::error::AwsError) -> String {
    e.code.clone().unwrap_or_else(|| "no code".into())
}

async fn moto_distribution(cf: &aws_sdk_cloudfront::Client) -> String {
    let origin = Origin::builder()
        .id("site")
        .domain_name("site.s3.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .expect("an origin");
    let config = DistributionConfig::builder()
        .caller_reference(groundcrew::testing::unique_name("agree"))
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("site")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
                .build()
                .expect("a cache behaviour"),
        )
        .comment("model agreement")
        .enabled(true)
        .build()
        .expect("a distribution config");
    let out = cf
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .expect("moto creates the distribution");
    out.distribution().expect("a distribution").id().to_string()
}

#[tokio::test]
async fn cloudfront_invalidations_agree_with_moto() {
    let Some(sdk) = groundcrew::testing::local_aws().await else {
        return;
    };
    let client = aws_sdk_cloudfront::Client::new(&sdk);
    let dist = moto_distribution(&client).await;
    let on_moto = sequence(&SdkCloudFront::new(&sdk), &dist).await;
    let listed = client
        .list_invalidations()
        .distribution_id(&dist)
        .send()
        .await
        .expect("ListInvalidations");
    let moto_count = listed.invalidation_list().map_or(0, |l| l.items().len());

    let start: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().expect("a time");
    let sim = Arc::new(Sim::new("cf-agree", 1, start, FaultRates::NONE));
    let model = CloudFrontModel::new(sim, &dist, "agree.example.com");
    let in_model = sequence(&model, &dist).await;
    let model_count = model
        .created()
        .iter()
        .filter(|c| c.distribution == dist)
        .count();

    assert_eq!(on_moto, in_model);
    assert_eq!(
        on_moto,
        [
            "created",
            "found true",
            "created",
            "NoSuchDistribution",
            "NoSuchInvalidation"
        ]
    );
    assert_eq!((moto_count, model_count), (2, 2));
}
