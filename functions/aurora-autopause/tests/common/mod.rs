//! Helpers for the local-AWS tests and the benchmark: build a dev estate in moto with the
//! real SDK clients. Every test uses its own opt-in tag key and environment value, so tests
//! sharing one moto never see each other's resources.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use aurora_autopause::aws::Aws;
use aurora_autopause::config::{Config, TagRule};
use aurora_autopause::model::Target;
use aws_sdk_applicationautoscaling as aas;
use aws_sdk_cloudwatch as cw;
use aws_sdk_ecs as ecs;
use aws_sdk_rds as rds;

pub struct Estate {
    pub aws: Aws,
    pub config: Config,
    /// The opt-in tag key of this test.
    pub opt_in: String,
    /// The environment value of this test.
    pub env: String,
    /// The ECS cluster of this test.
    pub ecs_cluster: String,
    pub task_definition: String,
}

impl Estate {
    pub async fn new(sdk: &aws_config::SdkConfig, prefix: &str) -> Self {
        let mut aws = Aws::new(sdk, None);
        // moto lacks CloudWatch's rpc-v2-cbor protocol (the only one the Rust SDK speaks):
        // the stand-in translates it (scripts/cloudwatch_cbor.py).
        let cloudwatch = std::env::var("GROUNDCREW_LOCAL_CLOUDWATCH")
            .unwrap_or_else(|_| "http://127.0.0.1:4580".to_string());
        aws.cloudwatch = groundcrew::lazy_client::LazyClient::built(
            sdk,
            cw::Client::new,
            cw::Client::from_conf(
                cw::config::Builder::from(sdk)
                    .endpoint_url(cloudwatch)
                    .build(),
            ),
        );
        let opt_in = groundcrew::testing::unique_name(&format!("gc-{prefix}-optin"));
        let env = groundcrew::testing::unique_name(&format!("{prefix}-env"));
        let ecs_cluster = groundcrew::testing::unique_name(&format!("{prefix}-apps"));
        aws.ecs
            .create_cluster()
            .cluster_name(&ecs_cluster)
            .send()
            .await
            .expect("create ECS cluster");
        let container = ecs::types::ContainerDefinition::builder()
            .name("app")
            .image("nginx:stable")
            .memory(128)
            .build();
        let td = aws
            .ecs
            .register_task_definition()
            .family(&ecs_cluster)
            .container_definitions(container)
            .send()
            .await
            .expect("register task definition");
        let task_definition = td
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .unwrap_or_default()
            .to_string();
        let config = Config {
            opt_in: TagRule {
                key: opt_in.clone(),
                values: vec!["true".into()],
            },
            ecs_clusters: vec![ecs_cluster.clone()],
            ..Config::default()
        };
        Self {
            aws,
            config,
            opt_in,
            env,
            ecs_cluster,
            task_definition,
        }
    }

    /// Tags: opted in (unless `opted_in` is false), in this test's environment, plus `extra`.
    pub fn tags(&self, opted_in: bool, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut t = vec![("groundcrew:environment".to_string(), self.env.clone())];
        if opted_in {
            t.push((self.opt_in.clone(), "true".to_string()));
        }
        t.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        t
    }

    /// An Aurora cluster with one instance; `serverless` = Some((min, max)) for Serverless v2.
    pub async fn cluster(
        &self,
        name: &str,
        tags: &[(String, String)],
        serverless: Option<(f64, f64)>,
    ) -> String {
        let id = groundcrew::testing::unique_name(name).to_lowercase();
        let mut req = self
            .aws
            .rds
            .create_db_cluster()
            .db_cluster_identifier(&id)
            .engine("aurora-postgresql")
            .engine_version("16.4")
            .master_username("app")
            .master_user_password("not-a-secret-1");
        for (k, v) in tags {
            req = req.tags(rds::types::Tag::builder().key(k).value(v).build());
        }
        if let Some((min, max)) = serverless {
            req = req.serverless_v2_scaling_configuration(
                rds::types::ServerlessV2ScalingConfiguration::builder()
                    .min_capacity(min)
                    .max_capacity(max)
                    .build(),
            );
        }
        req.send().await.expect("create DB cluster");
        let class = if serverless.is_some() {
            "db.serverless"
        } else {
            "db.r6g.large"
        };
        self.aws
            .rds
            .create_db_instance()
            .db_instance_identifier(format!("{id}-1"))
            .db_cluster_identifier(&id)
            .engine("aurora-postgresql")
            .db_instance_class(class)
            .send()
            .await
            .expect("create DB instance");
        id
    }

    /// A plain RDS for PostgreSQL instance (no cluster) of `class`.
    pub async fn instance(
        &self,
        name: &str,
        tags: &[(String, String)],
        class: &str,
        multi_az: bool,
    ) -> String {
        let id = groundcrew::testing::unique_name(name).to_lowercase();
        let mut req = self
            .aws
            .rds
            .create_db_instance()
            .db_instance_identifier(&id)
            .engine("postgres")
            .engine_version("16.4")
            .db_instance_class(class)
            .multi_az(multi_az)
            .allocated_storage(20)
            .master_username("app")
            .master_user_password("not-a-secret-1");
        for (k, v) in tags {
            req = req.tags(rds::types::Tag::builder().key(k).value(v).build());
        }
        req.send().await.expect("create DB instance");
        id
    }

    pub async fn describe_instance(&self, id: &str) -> rds::types::DbInstance {
        let out = self
            .aws
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .expect("describe instance");
        out.db_instances()[0].clone()
    }

    pub async fn instance_status(&self, id: &str) -> String {
        self.describe_instance(id)
            .await
            .db_instance_status()
            .unwrap_or_default()
            .to_string()
    }

    /// DatabaseConnections datapoints of an instance, as [`Estate::connections`].
    pub async fn instance_connections(&self, id: &str, value: f64) {
        self.connections_of("DBInstanceIdentifier", id, value).await
    }

    /// DatabaseConnections datapoints, one a minute from 40 minutes before now to ten
    /// minutes past [`LATER`], all equal to `value` (the idle check wants every minute of
    /// its window to have data).
    pub async fn connections(&self, id: &str, value: f64) {
        self.connections_of("DBClusterIdentifier", id, value).await
    }

    async fn connections_of(&self, dimension: &str, id: &str, value: f64) {
        let from = SystemTime::now() - Duration::from_secs(40 * 60);
        let minutes: Vec<u64> = (0..(40 + LATER.as_secs() / 60 + 10)).collect();
        // Requests of at most 40 data points: the local CloudWatch translator
        // (scripts/cloudwatch_cbor.py, through botocore's CBOR parser) fails on longer ones.
        for chunk in minutes.chunks(40) {
            let mut req = self.aws.cloudwatch.put_metric_data().namespace("AWS/RDS");
            for &minute in chunk {
                req = req.metric_data(
                    cw::types::MetricDatum::builder()
                        .metric_name("DatabaseConnections")
                        .dimensions(
                            cw::types::Dimension::builder()
                                .name(dimension)
                                .value(id)
                                .build(),
                        )
                        .timestamp((from + Duration::from_secs(minute * 60)).into())
                        .value(value)
                        .unit(cw::types::StandardUnit::Count)
                        .build(),
                );
            }
            req.send().await.expect("put metric data");
        }
    }

    pub async fn describe(&self, id: &str) -> rds::types::DbCluster {
        let out = self
            .aws
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .send()
            .await
            .expect("describe cluster");
        out.db_clusters()[0].clone()
    }

    pub async fn status(&self, id: &str) -> String {
        self.describe(id)
            .await
            .status()
            .unwrap_or_default()
            .to_string()
    }

    /// An ECS service with `desired` tasks and, if given, a scaling target.
    pub async fn service(
        &self,
        name: &str,
        desired: i32,
        tags: &[(String, String)],
        target: Option<(i32, i32)>,
    ) -> String {
        let mut req = self
            .aws
            .ecs
            .create_service()
            .cluster(&self.ecs_cluster)
            .service_name(name)
            .task_definition(&self.task_definition)
            .desired_count(desired);
        for (k, v) in tags {
            req = req.tags(ecs::types::Tag::builder().key(k).value(v).build());
        }
        req.send().await.expect("create service");
        if let Some((min, max)) = target {
            self.aws
                .scaling
                .register_scalable_target()
                .service_namespace(aas::types::ServiceNamespace::Ecs)
                .scalable_dimension(aas::types::ScalableDimension::EcsServiceDesiredCount)
                .resource_id(format!("service/{}/{name}", self.ecs_cluster))
                .min_capacity(min)
                .max_capacity(max)
                .send()
                .await
                .expect("register scalable target");
        }
        name.to_string()
    }

    /// (desired count, scaling target, tag keys) of a service.
    pub async fn service_state(&self, name: &str) -> (i32, Option<Target>, Vec<String>) {
        let out = self
            .aws
            .ecs
            .describe_services()
            .cluster(&self.ecs_cluster)
            .services(name)
            .include(ecs::types::ServiceField::Tags)
            .send()
            .await
            .expect("describe service");
        let s = &out.services()[0];
        let tags = s
            .tags()
            .iter()
            .filter_map(|t| t.key().map(str::to_string))
            .collect();
        let rid = format!("service/{}/{name}", self.ecs_cluster);
        let targets =
            aurora_autopause::cloud::Scaling::targets(&self.aws, std::slice::from_ref(&rid))
                .await
                .expect("targets");
        (s.desired_count(), targets.get(&rid).copied(), tags)
    }

    /// Runs the function [`LATER`] than now: moto records each instance's creation
    /// ("DB instance created", RDS-EVENT-0005) when the estate is seeded, and a sweep at
    /// the moment of creation rightly finds every database started within its window.
    pub async fn invoke(
        &self,
        event: serde_json::Value,
    ) -> Result<aurora_autopause::Report, aurora_autopause::Error> {
        self.invoke_after(event, LATER).await
    }

    /// Runs the function `after` from now (its clock only; the deadline is real).
    pub async fn invoke_after(
        &self,
        event: serde_json::Value,
        after: Duration,
    ) -> Result<aurora_autopause::Report, aurora_autopause::Error> {
        self.invoke_within(event, after, Duration::from_secs(60))
            .await
    }

    /// Runs the function `after` from now with `budget` of real time (the benchmark's
    /// 150 resources need more than a test's minute).
    #[allow(dead_code)] // used by the benchmark, not by every test binary
    pub async fn invoke_within(
        &self,
        event: serde_json::Value,
        after: Duration,
        budget: Duration,
    ) -> Result<aurora_autopause::Report, aurora_autopause::Error> {
        let handler = aurora_autopause::Handler {
            cloud: self.aws.clone(),
            config: self.config.clone(),
        };
        let clock = std::sync::Arc::new(Ahead(after));
        let invocation =
            groundcrew::Invocation::new("test", groundcrew::Deadline::after(budget), clock);
        handler.handle(&event, &invocation).await
    }

    /// The function's clock in [`Estate::invoke`]: [`LATER`] than now.
    #[allow(dead_code)] // used by the benchmark, not by every test binary
    pub fn later() -> chrono::DateTime<chrono::Utc> {
        groundcrew::Clock::now(&Ahead(LATER))
    }
}

/// How much later than the estate's creation the tests run the function: longer than the
/// 30-minute idle window and the 3-minute lag.
pub const LATER: Duration = Duration::from_secs(45 * 60);

/// The system's clock, this far ahead.
struct Ahead(Duration);

impl groundcrew::Clock for Ahead {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::from_std(self.0).unwrap_or_default()
    }
}

pub fn item<'a>(
    report: &'a aurora_autopause::Report,
    id: &str,
) -> Option<&'a aurora_autopause::report::Item> {
    report
        .resources
        .iter()
        .find(|i| i.id == id || i.id.ends_with(&format!("/{id}")))
}

/// The reason given for resource `id` in `report` (a test fails when there is none).
pub fn reason<'a>(report: &'a aurora_autopause::Report, id: &str) -> &'a str {
    item(report, id)
        .and_then(|i| i.reason.as_deref())
        .unwrap_or_else(|| panic!("no reason for {id} in {report:?}"))
}

/// The keys of an RDS resource's tags.
pub fn tag_keys(tags: &[rds::types::Tag]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.key().map(str::to_string))
        .collect()
}
