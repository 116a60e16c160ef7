//! Where the function keeps its delivery records in a run: alarm-fanout's in-memory store,
//! or its real DynamoDB adapter (`alarm_fanout::aws::DynamoStore`) over the DynamoDB model's
//! SDK seam, so that its conditional writes (leases, fenced records, the paced receivers'
//! versioned budgets and digests) meet DynamoDB's semantics under concurrency, the SDK's
//! retries and the table's faults.
//!
//! The table as template.yaml declares it (`AlarmFanoutTable`): partition key `pk`, TTL
//! attribute `expires_at`. Every read the adapter makes is strongly consistent
//! (`ConsistentRead`), so the model's eventually consistent answers never come into play.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use alarm_fanout::aws::DynamoStore;

use crate::kernel::{lock, FaultRates, Sim};
use crate::models::dynamodb::{sdk, DynamoModel, TableSpec, Value};

/// template.yaml's `TableName: !Sub ${Name}-alarm-fanout`, for a stack named `groundcrew`.
pub const TABLE: &str = "groundcrew-alarm-fanout";

/// Where a run keeps its records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Records {
    /// `alarm_fanout::store::MemoryStore`: the same decisions, no adapter, no faults.
    Memory,
    /// `DynamoStore` over the DynamoDB model, the table failing at these rates per attempt
    /// (throttles, 500s, timeouts before and after the write), each retried by the SDK.
    Dynamo(FaultRates),
}

/// One run's delivery table.
#[derive(Clone)]
pub struct DeliveryTable {
    model: Arc<Mutex<DynamoModel>>,
    sim: Arc<Sim>,
}

impl DeliveryTable {
    pub fn new(sim: &Arc<Sim>, rates: FaultRates) -> Self {
        let mut model = DynamoModel::new(sim.seed);
        model.create_table(TableSpec::new(TABLE, "pk").ttl("expires_at"));
        sim.faults().set_rates_for(TABLE, rates);
        Self {
            model: Arc::new(Mutex::new(model)),
            sim: Arc::clone(sim),
        }
    }

    /// The function's own adapter over a client the model answers.
    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(
            sdk::client(Arc::clone(&self.model), Arc::clone(&self.sim)),
            TABLE,
        )
    }

    /// Whether a paced receiver's digest still waits (`pace#<chat>` items' `pending` and
    /// `extra`, as the adapter writes them).
    pub fn digests_pending(&self) -> bool {
        let now = self.sim.now();
        lock(&self.model).items(TABLE, now).iter().any(|item| {
            let pace = matches!(item.get("pk"), Some(Value::S(k)) if k.starts_with("pace#"));
            let lines = matches!(item.get("pending"), Some(Value::M(m)) if !m.is_empty());
            let extra = item.get("extra").and_then(Value::as_i64).unwrap_or(0) > 0;
            pace && (lines || extra)
        })
    }

    /// How many answers the table gave with this error code (through the SDK seam).
    pub fn answered(&self, code: &str) -> u64 {
        lock(&self.model).errors.get(code).copied().unwrap_or(0)
    }

    /// Per alarm subject (`alarm#...`): the newest change the table records, as
    /// (state, epoch ms), and per receiver the change recorded as delivered.
    pub fn subjects(&self) -> BTreeMap<String, Recorded> {
        let now = self.sim.now();
        let mut out = BTreeMap::new();
        for item in lock(&self.model).items(TABLE, now) {
            let Some(Value::S(pk)) = item.get("pk") else {
                continue;
            };
            if !pk.starts_with("alarm#") {
                continue;
            }
            let newest = match item.get("newest") {
                Some(Value::M(m)) => change(m),
                _ => None,
            };
            let delivered = match item.get("rx") {
                Some(Value::M(rx)) => rx
                    .iter()
                    .filter_map(|(r, v)| match v {
                        Value::M(m) => change(m).map(|c| (r.clone(), c)),
                        _ => None,
                    })
                    .collect(),
                _ => BTreeMap::new(),
            };
            out.insert(pk.clone(), Recorded { newest, delivered });
        }
        out
    }
}

fn change(m: &BTreeMap<String, Value>) -> Option<(String, i64)> {
    match (m.get("s"), m.get("at").and_then(Value::as_i64)) {
        (Some(Value::S(s)), Some(at)) => Some((s.clone(), at)),
        _ => None,
    }
}

/// One subject's records.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub newest: Option<(String, i64)>,
    pub delivered: BTreeMap<String, (String, i64)>,
}
