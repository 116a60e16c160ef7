//! Hourly prices (USD, us-east-1, on demand) of what groundcrew pauses, and the
//! `PRICES` setting that overrides them. The sources and the date of each default are in
//! `docs/reference.md` ("aurora-autopause prices") and the function's README.

use std::collections::{BTreeMap, BTreeSet};

/// Hourly prices by what is paused.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// Aurora DB instance classes (Aurora Standard, PostgreSQL-compatible).
    pub classes: BTreeMap<String, f64>,
    /// One Aurora Serverless v2 ACU-hour.
    pub acu_hour: f64,
    /// RDS DB instance classes, Single-AZ (RDS for PostgreSQL; a Multi-AZ instance counts
    /// twice: its standby is billed like the primary).
    pub instances: BTreeMap<String, f64>,
    /// Fargate (Linux/x86): per vCPU-hour and per GB-hour of a task. 0.04048 and 0.004445
    /// in us-east-1, as https://www.vantage.sh/blog/fargate-pricing and
    /// https://www.wring.co/blog/aws-fargate-pricing-guide (March 2026) quote
    /// aws.amazon.com/fargate/pricing (searched 3 December 2026).
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
    /// Fargate Spot: the same two. AWS moves the Spot price with capacity; the default
    /// is the on-demand price less AWS's "up to 70%" discount, an estimate to override
    /// (unconfirmed: a Spot service's saving carries the price note).
    pub fargate_spot_vcpu_hour: f64,
    pub fargate_spot_gb_hour: f64,
    /// The `PRICES` keys (`db.r6g.large`, `rds:db.t3.small`) whose default was not
    /// confirmed against AWS's pricing page; a `PRICES` entry confirms its key. A saving
    /// computed from one says so in the report.
    pub unconfirmed: BTreeSet<String>,
}

/// Aurora Standard, PostgreSQL-compatible, us-east-1 (approximate list prices; none
/// confirmed: the stored copy of aws.amazon.com/rds/aurora/pricing draws its tables by
/// script, and no other page found on 3 December 2026 lists these classes).
const AURORA: [(&str, f64); 11] = [
    ("db.t3.medium", 0.082),
    ("db.t3.large", 0.164),
    ("db.t4g.medium", 0.073),
    ("db.t4g.large", 0.146),
    ("db.r5.large", 0.29),
    ("db.r5.xlarge", 0.58),
    ("db.r6g.large", 0.26),
    ("db.r6g.xlarge", 0.519),
    ("db.r6i.large", 0.29),
    ("db.r7g.large", 0.276),
    ("db.r7g.xlarge", 0.553),
];

/// RDS for PostgreSQL, Single-AZ, us-east-1, on demand (list prices, December 2026). Only
/// [`CONFIRMED_RDS`] were found quoted; the rest carry the price note.
// db.m6g.xlarge's 0.318 is a price, not an approximation of 1/pi.
#[allow(clippy::approx_constant)]
const RDS_INSTANCES: [(&str, f64); 22] = [
    ("db.t3.micro", 0.018),
    ("db.t3.small", 0.036),
    ("db.t3.medium", 0.072),
    ("db.t3.large", 0.145),
    ("db.t3.xlarge", 0.29),
    ("db.t4g.micro", 0.016),
    ("db.t4g.small", 0.032),
    ("db.t4g.medium", 0.065),
    ("db.t4g.large", 0.129),
    ("db.t4g.xlarge", 0.258),
    ("db.m6g.large", 0.159),
    ("db.m6g.xlarge", 0.318),
    ("db.m6g.2xlarge", 0.636),
    ("db.m7g.large", 0.168),
    ("db.m7g.xlarge", 0.337),
    ("db.m7g.2xlarge", 0.673),
    ("db.r6g.large", 0.225),
    ("db.r6g.xlarge", 0.45),
    ("db.r6g.2xlarge", 0.899),
    ("db.r7g.large", 0.239),
    ("db.r7g.xlarge", 0.478),
    ("db.r7g.2xlarge", 0.956),
];

/// The RDS classes whose built-in prices were found quoted for us-east-1: db.t4g.micro
/// 0.016, small 0.032, medium 0.065 (Single-AZ; Multi-AZ exactly twice), in
/// https://infratally.com/articles/aws-rds-pricing-explained-2026.html (searched 2 and 3
/// December 2026; docs/reference.md says what else was searched). db.t4g.large and
/// xlarge are not in that table and stay unconfirmed, as every db.t3, m6g, m7g, r6g and
/// r7g class and every Aurora class do: no stored page lists them.
const CONFIRMED_RDS: [&str; 3] = ["db.t4g.micro", "db.t4g.small", "db.t4g.medium"];

/// Fargate Spot has no list price to confirm (see [`Prices::fargate_spot_vcpu_hour`]).
pub const SPOT_KEYS: [&str; 2] = ["fargate-spot-vcpu", "fargate-spot-gb"];

fn unconfirmed_defaults() -> BTreeSet<String> {
    let aurora = AURORA.iter().map(|(class, _)| class.to_string());
    let rds = RDS_INSTANCES
        .iter()
        .filter(|(class, _)| !CONFIRMED_RDS.contains(class))
        .map(|(class, _)| format!("rds:{class}"));
    let spot = SPOT_KEYS.iter().map(|k| k.to_string());
    aurora.chain(rds).chain(spot).collect()
}

fn table(rows: &[(&str, f64)]) -> BTreeMap<String, f64> {
    rows.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            classes: table(&AURORA),
            // Aurora Serverless v2, Aurora Standard, us-east-1: about 0.12 per ACU-hour in
            // https://c3x.dev/blog/aws-aurora-serverless-v2-cost/ and
            // https://awsnegotiations.com/aurora-serverless-v2-pricing.html (May 2026),
            // third-party guides; AWS's own page has no stored copy with the figure.
            acu_hour: 0.12,
            instances: table(&RDS_INSTANCES),
            fargate_vcpu_hour: 0.04048,
            fargate_gb_hour: 0.004445,
            fargate_spot_vcpu_hour: 0.012144,
            fargate_spot_gb_hour: 0.0013335,
            unconfirmed: unconfirmed_defaults(),
        }
    }
}

impl Prices {
    /// `PRICES` entries override or extend the defaults: `db.r6g.large=0.26` (an Aurora
    /// class), `acu=0.12`, `rds:db.t3.small=0.036` (an RDS instance class, Single-AZ),
    /// `fargate-vcpu=`, `fargate-gb=`, `fargate-spot-vcpu=`, `fargate-spot-gb=`.
    pub fn with_overrides(mut self, entries: &[String]) -> Result<Self, String> {
        for entry in entries {
            let (k, v) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not class=price"))?;
            let key = k.trim();
            let price: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("price of `{key}` is not a number"))?;
            if !(price.is_finite() && price >= 0.0) {
                return Err(format!("price of `{key}` must be a non-negative number"));
            }
            match key.to_ascii_lowercase().as_str() {
                "acu" => self.acu_hour = price,
                "fargate-vcpu" => self.fargate_vcpu_hour = price,
                "fargate-gb" => self.fargate_gb_hour = price,
                "fargate-spot-vcpu" => {
                    self.unconfirmed.remove("fargate-spot-vcpu");
                    self.fargate_spot_vcpu_hour = price
                }
                "fargate-spot-gb" => {
                    self.unconfirmed.remove("fargate-spot-gb");
                    self.fargate_spot_gb_hour = price
                }
                _ => match key.strip_prefix("rds:") {
                    Some(class) => {
                        self.unconfirmed.remove(&format!("rds:{}", class.trim()));
                        self.instances.insert(class.trim().to_string(), price);
                    }
                    None => {
                        self.unconfirmed.remove(key);
                        self.classes.insert(key.to_string(), price);
                    }
                },
            }
        }
        Ok(self)
    }

    /// An Aurora instance class.
    pub fn class(&self, class: &str) -> Option<f64> {
        self.classes.get(class).copied()
    }

    /// An RDS instance class, Single-AZ.
    pub fn instance_class(&self, class: &str) -> Option<f64> {
        self.instances.get(class).copied()
    }

    /// The note a report carries when a saving was computed from unconfirmed defaults
    /// (`keys` as [`Prices::unconfirmed`] names them); `None` when every one is confirmed.
    pub fn unconfirmed_note<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
        let mut found: Vec<&str> = keys
            .into_iter()
            .filter(|k| self.unconfirmed.contains(*k))
            .collect();
        found.sort_unstable();
        found.dedup();
        (!found.is_empty()).then(|| {
            format!(
                "saving estimated from built-in list prices not confirmed against AWS's pricing page ({}); set PRICES to your price",
                found.join(", ")
            )
        })
    }

    /// One Fargate task of `cpu_units` (1,024 = 1 vCPU) and `memory_mib`, per hour.
    pub fn fargate_task(&self, cpu_units: u32, memory_mib: u32, spot: bool) -> f64 {
        let (vcpu, gb) = if spot {
            (self.fargate_spot_vcpu_hour, self.fargate_spot_gb_hour)
        } else {
            (self.fargate_vcpu_hour, self.fargate_gb_hour)
        };
        f64::from(cpu_units) / 1024.0 * vcpu + f64::from(memory_mib) / 1024.0 * gb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_reach_each_table() {
        let p = Prices::default()
            .with_overrides(&[
                "db.x.large=1.5".into(),
                "acu=0.2".into(),
                "rds:db.t3.small=0.04".into(),
                "fargate-spot-vcpu=0.01".into(),
            ])
            .unwrap();
        assert_eq!(p.class("db.x.large"), Some(1.5));
        assert_eq!(p.acu_hour, 0.2);
        assert_eq!(p.instance_class("db.t3.small"), Some(0.04));
        assert_eq!(p.instance_class("db.x.large"), None);
        assert_eq!(p.fargate_spot_vcpu_hour, 0.01);
        assert!(Prices::default()
            .with_overrides(&["rds:db.t3.small=-1".into()])
            .unwrap_err()
            .contains("rds:db.t3.small"));
    }

    #[test]
    fn unconfirmed_defaults_are_named_until_overridden() {
        let p = Prices::default();
        let note = p
            .unconfirmed_note(["rds:db.r6g.large", "rds:db.t4g.small", "db.r6g.large"])
            .unwrap();
        assert!(note.contains("db.r6g.large, rds:db.r6g.large"), "{note}");
        assert!(!note.contains("t4g"), "{note}");
        assert_eq!(p.unconfirmed_note(["rds:db.t4g.small"]), None);
        // Not in the table found: still unconfirmed.
        assert!(p.unconfirmed_note(["rds:db.t4g.large"]).is_some());
        // Fargate Spot until both of its prices are set.
        assert!(p.unconfirmed_note(SPOT_KEYS).is_some());
        let set = p
            .clone()
            .with_overrides(&["fargate-spot-vcpu=0.015".into()])
            .unwrap();
        assert_eq!(set.unconfirmed_note(["fargate-spot-vcpu"]), None);
        assert!(set.unconfirmed_note(SPOT_KEYS).is_some());
        let p = p
            .with_overrides(&["rds:db.r6g.large=0.2".into(), "db.r6g.large=0.3".into()])
            .unwrap();
        assert_eq!(
            p.unconfirmed_note(["rds:db.r6g.large", "db.r6g.large"]),
            None
        );
    }

    #[test]
    fn a_fargate_task_is_priced_by_its_size() {
        let p = Prices::default();
        // 0.5 vCPU and 1 GB: half a vCPU-hour and one GB-hour.
        let hour = p.fargate_task(512, 1024, false);
        assert!((hour - (0.02024 + 0.004445)).abs() < 1e-9, "{hour}");
        assert!(p.fargate_task(512, 1024, true) < hour);
    }

    #[test]
    fn every_class_users_run_has_a_price() {
        let p = Prices::default();
        for family in ["t3", "t4g"] {
            for size in ["micro", "small", "medium", "large", "xlarge"] {
                assert!(p.instance_class(&format!("db.{family}.{size}")).is_some());
            }
        }
        for family in ["m6g", "m7g", "r6g", "r7g"] {
            for size in ["large", "xlarge", "2xlarge"] {
                assert!(p.instance_class(&format!("db.{family}.{size}")).is_some());
            }
        }
    }
}
