//! The CloudWatch model against the local AWS (moto, through the CBOR stand-in the Rust
//! SDK needs): the same `DatabaseConnections` datapoints put into both, then one
//! `GetMetricData` request through aurora-autopause's own adapter and through
//! `CloudWatchModel`. Compared: one `Maximum` per one-minute period, periods without data
//! absent (the idle check counts them as busy), and each query's series kept apart. The
//! model's publication lag is not compared (moto shows a datapoint at once): the model
//! is read far enough after the minutes for every datapoint to be published.

use std::collections::BTreeMap;

use aurora_autopause::aws::Aws;
use aurora_autopause::cloud::{MetricQuery, MetricRequest, Metrics, Series};
use aws_sdk_cloudwatch as cw;
use chrono::{DateTime, DurationRound, Utc};
use sim::models::cloudwatch::CloudWatchModel;

/// (minute offset from the start, values put in that minute) per database; minute 2 of the
/// first has no data, minute 1 has two values (the period's Maximum is 4).
const DATA: [&[(i64, &[f64])]; 2] = [
    &[(0, &[0.0]), (1, &[1.0, 4.0]), (3, &[0.0])],
    &[(0, &[2.0]), (1, &[0.0]), (2, &[0.0]), (3, &[7.0])],
];

fn minute(start: DateTime<Utc>, m: i64) -> DateTime<Utc> {
    start + chrono::Duration::minutes(m)
}

fn shown(found: &BTreeMap<String, Series>) -> Vec<String> {
    found
        .iter()
        .map(|(q, s)| {
            let points: Vec<String> = s
                .iter()
                .map(|(t, v)| format!("{}={v}", t.format("%H:%M")))
                .collect();
            format!("{q}: {}", points.join(" "))
        })
        .collect()
}

#[tokio::test]
async fn get_metric_data_agrees_with_moto() {
    let sdk = groundcrew::require_local_aws!();
    let mut aws = Aws::new(&sdk, None);
    let endpoint = std::env::var("GROUNDCREW_LOCAL_CLOUDWATCH")
        .unwrap_or_else(|_| "http://127.0.0.1:4580".to_string());
    let client = cw::Client::from_conf(
        cw::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    );
    aws.cloudwatch =
        groundcrew::lazy_client::LazyClient::built(&sdk, cw::Client::new, client.clone());

    // Whole minutes a little in the past (CloudWatch keeps one-minute data for 15 days).
    let start = (Utc::now() - chrono::Duration::minutes(30))
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap_or_default();
    let ids: Vec<String> = (0..DATA.len())
        .map(|i| groundcrew::testing::unique_name(&format!("agree-cw-{i}")))
        .collect();
    let mut model = CloudWatchModel::default();
    for (id, points) in ids.iter().zip(DATA) {
        let mut put = client.put_metric_data().namespace("AWS/RDS");
        for (m, values) in points {
            for (k, v) in values.iter().enumerate() {
                // Values within the minute, a few seconds apart.
                let at = minute(start, *m) + chrono::Duration::seconds(5 + 10 * k as i64);
                put = put.metric_data(
                    cw::types::MetricDatum::builder()
                        .metric_name("DatabaseConnections")
                        .dimensions(
                            cw::types::Dimension::builder()
                                .name("DBClusterIdentifier")
                                .value(id)
                                .build(),
                        )
                        .timestamp(std::time::SystemTime::from(at).into())
                        .value(*v)
                        .unit(cw::types::StandardUnit::Count)
                        .build(),
                );
            }
            let max = values.iter().copied().fold(f64::MIN, f64::max);
            model.record(id, minute(start, *m), max, 0);
        }
        put.send().await.expect("put metric data");
    }

    let request = MetricRequest {
        queries: ids
            .iter()
            .enumerate()
            .map(|(i, id)| MetricQuery {
                id: format!("q{i}"),
                dimension: "DBClusterIdentifier",
                value: id.clone(),
            })
            .collect(),
        start,
        end: minute(start, 5),
        period_secs: 60,
    };
    let moto = aws.get_metric_data(&request).await.expect("GetMetricData");
    let modelled = model
        .get_metric_data(&request, minute(start, 60))
        .expect("the model's GetMetricData");
    // moto keys a period by its start, as CloudWatch does; the idle check also reads any
    // timestamp inside a minute as that minute, so compare by minute.
    let by_minute = |found: BTreeMap<String, Series>| -> BTreeMap<String, Series> {
        found
            .into_iter()
            .map(|(q, s)| {
                let s = s
                    .into_iter()
                    .map(|(t, v)| {
                        (
                            t.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(t),
                            v,
                        )
                    })
                    .collect();
                (q, s)
            })
            .collect()
    };
    let (moto, modelled) = (shown(&by_minute(moto)), shown(&by_minute(modelled)));
    println!("moto:  {moto:?}\nmodel: {modelled:?}");
    // The sequence shows something: the gap and the period's Maximum.
    assert_eq!(modelled.len(), 2);
    assert_eq!(modelled[0].matches('=').count(), 3, "{modelled:?}");
    assert!(modelled[0].contains("=4"), "{modelled:?}");
    assert_eq!(moto, modelled, "the CloudWatch model and moto disagree");
}
