use super::*;
use crate::event::Event;
use serde_json::json;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";

/// A request as the handler reads it: the event's shape, then the checks.
fn parse(v: Value) -> Result<TuneRequest, String> {
    match Event::parse(&v).map_err(|e| e.to_string())? {
        Event::Tune(input) => TuneRequest::from_input(&input).map_err(|e| e.to_string()),
        Event::Action(a) => Err(format!("not a tuning request: {a:?}")),
    }
}

#[test]
fn power_tuning_defaults() {
    let r = parse(json!({"lambdaARN": ARN, "num": 10})).unwrap();
    assert_eq!(r.power_values, DEFAULT_POWER_VALUES.to_vec());
    assert_eq!(r.strategy, Strategy::Cost);
    assert_eq!(r.balanced_weight, 0.5);
    assert_eq!(r.discard_top_bottom, 0.2);
    assert!(!r.parallel_invocation && !r.auto_optimize && !r.dry_run && !r.only_cold_starts);
    assert_eq!(r.function_name(), "my-fn");
    assert!(r.architectures.is_empty());
    let cold = parse(json!({"lambdaARN": ARN, "num": "10", "onlyColdStarts": true})).unwrap();
    assert_eq!(cold.discard_top_bottom, 0.0);
    assert_eq!(cold.num, 10);
}

#[test]
fn all_power_values() {
    let r = parse(json!({"lambdaARN": ARN, "num": 5, "powerValues": "ALL"})).unwrap();
    assert_eq!(r.power_values.first(), Some(&128));
    assert_eq!(r.power_values.last(), Some(&3008));
    assert_eq!(r.power_values.len(), 46);
}

#[test]
fn bad_fields_are_named() {
    let cases = [
        (json!({"num": 10}), "lambdaARN"),
        (json!({"lambdaARN": "my-fn", "num": 10}), "lambdaARN"),
        (
            json!({"lambdaARN": format!("{ARN}:prod:x"), "num": 10}),
            "lambdaARN",
        ),
        (
            json!({"lambdaARN": format!("{ARN}:pr/od"), "num": 10}),
            "lambdaARN",
        ),
        (json!({"lambdaARN": ARN}), "num"),
        (json!({"lambdaARN": ARN, "num": 4}), "num"),
        (
            json!({"lambdaARN": ARN, "num": 10, "powerValues": [128, 64]}),
            "powerValues",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "powerValues": []}),
            "powerValues",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "strategy": "cheap"}),
            "strategy",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "balancedWeight": "x"}),
            "balancedWeight",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "codeLocations": {"x86_64": "nope"}}),
            "codeLocations",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "codeLocations": {"sparc": "s3://b/k"}}),
            "codeLocations",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "disablePayloadLogs": "yes"}),
            "disablePayloadLogs",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "architectures": ["sparc"]}),
            "architectures",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "concurrency": 0}),
            "concurrency",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "reportS3": "s3://A"}),
            "reportS3",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "payloadS3": "s3://bucket"}),
            "payloadS3",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "pricing": {"arm64PerGbSecond": -1}}),
            "pricing",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "autoOptimize": "yes"}),
            "autoOptimize",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "payload": [{"payload": {}, "weight": 0}]}),
            "payload",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "payload": [{"payload": 1, "weight": 1}, {"a": 2}]}),
            "payload",
        ),
        (json!({"lambdaARN": ARN, "num": 10, "numm": 3}), "numm"),
        (json!({"lambdaARN": 5, "num": 10}), "lambdaARN"),
        (json!({"lambdaARN": ARN, "num": "five"}), "num"),
        (json!({"lambdaARN": ARN, "num": 1001}), "num"),
        (
            json!({"lambdaARN": ARN, "num": 10, "powerValues": "SOME"}),
            "powerValues",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "powerValues": [128, 20480]}),
            "powerValues",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "allowedExceptions": [1]}),
            "allowedExceptions",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "sleepBetweenRunsMs": 70000}),
            "sleepBetweenRunsMs",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "architectures": []}),
            "architectures",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "autoOptimizeAlias": "123"}),
            "autoOptimizeAlias",
        ),
        (
            json!({"lambdaARN": ARN, "num": 10, "preProcessorARN": "x"}),
            "preProcessorARN",
        ),
    ];
    for (input, field) in cases {
        let err = parse(input.clone()).expect_err(&input.to_string());
        assert!(
            err.starts_with(&format!("invalid input: {field}")),
            "{input}: {err}"
        );
    }
    assert!(parse(json!([1])).is_err());
}

#[test]
fn power_tuning_clamps_are_applied_with_warnings() {
    let r =
        parse(json!({"lambdaARN": ARN, "num": 10, "balancedWeight": 2, "discardTopBottom": 0.5}))
            .unwrap();
    assert_eq!(r.balanced_weight, 1.0);
    assert_eq!(r.discard_top_bottom, 0.4);
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(r.warnings[0].starts_with("balancedWeight: 2 is outside 0..1"));
    assert!(r.warnings[1].starts_with("discardTopBottom: 0.5 is outside 0..0.4"));
    let r = parse(json!({"lambdaARN": ARN, "num": 10, "discardTopBottom": -1})).unwrap();
    assert_eq!(r.discard_top_bottom, 0.0);
    // onlyColdStarts counts every sample, whatever was asked
    let r = parse(
        json!({"lambdaARN": ARN, "num": 10, "onlyColdStarts": true, "discardTopBottom": 0.3}),
    )
    .unwrap();
    assert_eq!(r.discard_top_bottom, 0.0);
    assert!(parse(json!({"lambdaARN": ARN, "num": 10}))
        .unwrap()
        .warnings
        .is_empty());
}

#[test]
fn plain_arrays_are_one_payload_and_weighted_ones_a_mix() {
    let r = parse(json!({"lambdaARN": ARN, "num": 5, "payload": [1, {"a": 2}]})).unwrap();
    assert_eq!(r.payload, PayloadSpec::Single(Some(json!([1, {"a": 2}]))));
    let r = parse(json!({"lambdaARN": ARN, "num": 5, "payload": [{"payload": "x", "weight": 1}]}))
        .unwrap();
    assert_eq!(r.payload, PayloadSpec::Weighted(vec![(json!("x"), 1.0)]));
    let r = parse(json!({"lambdaARN": ARN, "num": 5, "payload": []})).unwrap();
    assert_eq!(r.payload, PayloadSpec::Single(Some(json!([]))));
}

#[test]
fn qualified_arns_and_code_locations() {
    let r = parse(json!({"lambdaARN": format!("{ARN}:live"), "num": 5, "disablePayloadLogs": true,
        "codeLocations": {"x86_64": "s3://builds/app-x86.zip", "arm64": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:arm64"}}))
    .unwrap();
    assert_eq!(r.lambda_arn, ARN);
    assert_eq!(r.qualifier.as_deref(), Some("live"));
    assert!(r.disable_payload_logs);
    assert_eq!(
        r.code_locations[&Architecture::X86_64],
        CodeSource::S3 {
            bucket: "builds".into(),
            key: "app-x86.zip".into(),
            object_version: None
        }
    );
    assert!(matches!(
        r.code_locations[&Architecture::Arm64],
        CodeSource::Image(_)
    ));
    let r = parse(json!({"lambdaARN": format!("{ARN}:$LATEST"), "num": 5})).unwrap();
    assert_eq!(r.qualifier, None);
}

#[test]
fn dry_run_needs_no_num() {
    let r = parse(json!({"lambdaARN": ARN, "dryRun": true})).unwrap();
    assert_eq!(r.invocations(), 1);
}

#[test]
fn eventbridge_detail_is_the_input() {
    let r = parse(json!({"detail-type": "power-tuner run", "source": "x", "detail": {"lambdaARN": ARN, "num": 5}})).unwrap();
    assert_eq!(r.num, 5);
    assert!(parse(json!({"detail-type": "x", "detail": "no"}))
        .unwrap_err()
        .contains("detail"));
}

#[test]
fn our_additions() {
    let r = parse(json!({"lambdaARN": ARN, "num": 5, "architectures": ["arm64", "x86_64", "arm64"],
        "concurrency": 20, "pricing": {"perMillionRequests": 0.25}, "reportS3": "s3://reports/tuning/"}))
    .unwrap();
    assert_eq!(
        r.architectures,
        vec![Architecture::Arm64, Architecture::X86_64]
    );
    assert_eq!(r.concurrency, Some(20));
    assert_eq!(r.pricing.per_million_requests, 0.25);
    assert_eq!(
        r.report_s3,
        Some(S3Location {
            bucket: "reports".into(),
            key: "tuning".into()
        })
    );
}

#[test]
fn payloads_as_power_tuning_generates_them() {
    // convertPayload: a plain string is JSON-encoded, a string holding JSON is not
    assert_eq!(
        generate_payloads(2, &PayloadSpec::Single(Some(json!("raw")))).unwrap(),
        vec![br#""raw""#.to_vec(); 2]
    );
    assert_eq!(
        generate_payloads(1, &PayloadSpec::Single(Some(json!("{\"a\": 1}")))).unwrap(),
        vec![br#"{"a": 1}"#.to_vec()]
    );
    assert_eq!(
        generate_payloads(1, &PayloadSpec::Single(Some(json!("\"quoted\"")))).unwrap(),
        vec![br#""quoted""#.to_vec()]
    );
    assert_eq!(
        generate_payloads(1, &PayloadSpec::Single(Some(json!({"a": 1})))).unwrap(),
        vec![br#"{"a":1}"#.to_vec()]
    );
    assert_eq!(
        generate_payloads(1, &PayloadSpec::Single(None)).unwrap(),
        vec![Vec::<u8>::new()]
    );
    // weights 1 and 3 over num 10: floor(2.5) = 2 of A, the remaining 8 of B
    let spec = PayloadSpec::Weighted(vec![(json!("A"), 1.0), (json!("B"), 3.0)]);
    let out = generate_payloads(10, &spec).unwrap();
    assert_eq!(out.iter().filter(|p| p.as_slice() == br#""A""#).count(), 2);
    assert_eq!(out.iter().filter(|p| p.as_slice() == br#""B""#).count(), 8);
    assert!(generate_payloads(1, &spec).is_err());
    let tiny = PayloadSpec::Weighted(vec![(json!("A"), 1.0), (json!("B"), 100.0)]);
    assert!(generate_payloads(10, &tiny).is_err());
}
