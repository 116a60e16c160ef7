//! What pausing a database saves an hour, at the configured prices, and which prices that
//! figure rests on (so that a report can say when they are unconfirmed defaults).

use crate::config::Config;
use crate::model::{Cluster, DbKind};
use crate::plan::ClusterPlan;

/// Estimated USD per hour saved by pausing a cluster this way.
pub fn hourly_saving(c: &Cluster, plan: &ClusterPlan, config: &Config) -> Option<f64> {
    let prices = &config.prices;
    match plan {
        ClusterPlan::Stop { .. } if c.kind == DbKind::Instance => {
            let class = c.instance_classes.first()?;
            // Multi-AZ: the standby is billed like the primary ("billed per DB
            // instance-hour for both the primary and standby instances":
            // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html).
            let copies = if c.multi_az { 2.0 } else { 1.0 };
            Some(prices.instance_class(class)? * copies)
        }
        ClusterPlan::Stop { .. } => {
            let mut total = 0.0;
            for class in &c.instance_classes {
                if class == "db.serverless" {
                    total += c.serverless_v2.map_or(0.5, |s| s.min.max(0.5)) * prices.acu_hour;
                } else {
                    total += prices.class(class)?;
                }
            }
            Some(total)
        }
        ClusterPlan::AutoPause { previous, .. } => {
            let n = c.instance_classes.len().max(1) as f64;
            Some(previous.min * prices.acu_hour * n)
        }
        _ => None,
    }
}

/// The `PRICES` keys the saving of `plan` rests on (`rds:<class>` for an instance, the
/// class for an Aurora member), as [`crate::price::Prices::unconfirmed`] names them.
pub fn price_keys(c: &Cluster, plan: &ClusterPlan) -> Vec<String> {
    match plan {
        ClusterPlan::Stop { .. } if c.kind == DbKind::Instance => c
            .instance_classes
            .first()
            .map(|class| format!("rds:{class}"))
            .into_iter()
            .collect(),
        ClusterPlan::Stop { .. } => c
            .instance_classes
            .iter()
            .filter(|class| *class != "db.serverless")
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// The report's note when the saving of `plan` rests on an unconfirmed built-in price.
pub fn price_note(c: &Cluster, plan: &ClusterPlan, config: &Config) -> Option<String> {
    let keys = price_keys(c, plan);
    config
        .prices
        .unconfirmed_note(keys.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(classes: &[&str]) -> Cluster {
        Cluster {
            id: "dev-1".into(),
            engine: "aurora-postgresql".into(),
            instance_classes: classes.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn provisioned_saving_needs_known_prices() {
        let c = Config::default();
        let mut x = cluster(&["db.r6g.large", "db.r6g.large"]);
        assert_eq!(
            hourly_saving(&x, &ClusterPlan::Stop { record: true }, &c),
            Some(0.52)
        );
        x.instance_classes.push("db.x99.huge".into());
        assert_eq!(
            hourly_saving(&x, &ClusterPlan::Stop { record: true }, &c),
            None
        );
    }

    #[test]
    fn a_saving_from_an_unconfirmed_price_says_so() {
        let c = Config::default();
        let stop = ClusterPlan::Stop { record: true };
        let aurora = cluster(&["db.r6g.large", "db.serverless"]);
        assert_eq!(price_keys(&aurora, &stop), vec!["db.r6g.large".to_string()]);
        assert!(price_note(&aurora, &stop, &c)
            .unwrap()
            .contains("db.r6g.large"));
        let t4g = Cluster {
            kind: DbKind::Instance,
            instance_classes: vec!["db.t4g.small".into()],
            ..Default::default()
        };
        assert_eq!(price_note(&t4g, &stop, &c), None);
        let r6g = Cluster {
            instance_classes: vec!["db.r6g.large".into()],
            ..t4g
        };
        assert!(price_note(&r6g, &stop, &c)
            .unwrap()
            .contains("rds:db.r6g.large"));
    }
}
