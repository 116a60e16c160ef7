//! The DynamoDB model against the local AWS (moto): the conditional writes the functions
//! make (alarm-fanout's lease and pace counter, cloudfront-invalidate's create-if-absent
//! transaction and flush conditions), and the requests AWS refuses, sent through the SDK
//! and through `DynamoModel`, comparing each step's outcome ("ok" or the error code, with
//! a transaction's cancellation reasons) and the tables' end state. moto deletes no
//! expired item and has no replication lag, so TTL and eventual reads are not compared
//! here (the model's own tests cover them, from DynamoDB's documentation).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb as ddb;
use chrono::{DateTime, Utc};
use ddb::error::ProvideErrorMetadata;
use ddb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TransactWriteItem,
};
use sim::models::dynamodb::{
    DynamoError, DynamoModel, Item, Placeholders, TableSpec, TransactOp, Value,
};

/// One request of the sequence.
#[derive(Debug, Clone)]
enum Step {
    Put {
        item: Item,
        condition: Option<&'static str>,
        ph: Placeholders,
    },
    Update {
        key: Item,
        update: &'static str,
        condition: Option<&'static str>,
        ph: Placeholders,
    },
    Delete {
        key: Item,
        condition: Option<&'static str>,
        ph: Placeholders,
    },
    /// A transaction of create-if-absent puts on the sorted table.
    CreateAll(Vec<Item>),
    /// The sort keys a Query of the sorted table returns for a partition and prefix.
    Query(&'static str, &'static str),
}

const T: &str = "leases";
const S: &str = "pending";

fn s(v: &str) -> Value {
    Value::s(v)
}

fn item(pairs: &[(&str, Value)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn lease_claim(me: &str, now: i64) -> Step {
    Step::Update {
        key: key("subject"),
        update: "SET lease_holder = :me, lease_until = :until, rx = if_not_exists(rx, :empty)",
        condition: Some(
            "attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :me",
        ),
        ph: Placeholders::new()
            .value(":me", s(me))
            .value(":now", Value::n(now))
            .value(":until", Value::n(now + 30))
            .value(":empty", Value::M(BTreeMap::new())),
    }
}

fn pace(expected: Option<i64>, next: i64) -> Step {
    let ph = Placeholders::new().value(":next", Value::n(next));
    match expected {
        Some(v) => Step::Update {
            key: key("pace#telegram"),
            update: "SET v = :next",
            condition: Some("v = :v"),
            ph: ph.value(":v", Value::n(v)),
        },
        None => Step::Update {
            key: key("pace#telegram"),
            update: "SET v = :next",
            condition: Some("attribute_not_exists(v)"),
            ph,
        },
    }
}

fn one(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", s(sk))])
}

fn sequence() -> Vec<Step> {
    let v1 = || Placeholders::new().value(":v", Value::n(1));
    let flush = |f: &str| Placeholders::new().value(":f", s(f));
    vec![
        // 0-1 create-if-absent
        Step::Put {
            item: key("once"),
            condition: Some("attribute_not_exists(pk)"),
            ph: Placeholders::new(),
        },
        Step::Put {
            item: key("once"),
            condition: Some("attribute_not_exists(pk)"),
            ph: Placeholders::new(),
        },
        // 2-5 the lease: free, held by another, ours again, expired
        lease_claim("a", 1_000),
        lease_claim("b", 1_001),
        lease_claim("a", 1_002),
        lease_claim("b", 1_100),
        // 6-9 the pace counter: optimistic writes on a version number
        pace(Some(0), 1),
        pace(None, 1),
        pace(None, 2),
        pace(Some(1), 2),
        // 10-13 comparisons with a missing attribute or another type
        Step::Put {
            item: key("once"),
            condition: Some("x <> :v"),
            ph: v1(),
        },
        Step::Put {
            item: key("once"),
            condition: Some("x < :v"),
            ph: v1(),
        },
        Step::Update {
            key: key("typed"),
            update: "SET n = :s",
            condition: None,
            ph: Placeholders::new().value(":s", s("1")),
        },
        Step::Update {
            key: key("typed"),
            update: "SET n = :v",
            condition: Some("n = :v"),
            ph: v1(),
        },
        // 14-20 refused: a key attribute, an unused value, an undefined name, a reserved
        // word, a missing operand, ADD of a string, two clauses of one kind
        Step::Update {
            key: key("typed"),
            update: "SET pk = :v",
            condition: None,
            ph: v1(),
        },
        Step::Update {
            key: key("typed"),
            update: "SET n = :v",
            condition: None,
            ph: v1().value(":unused", Value::n(2)),
        },
        Step::Update {
            key: key("typed"),
            update: "SET #state = :v",
            condition: None,
            ph: v1(),
        },
        Step::Update {
            key: key("typed"),
            update: "SET status = :v",
            condition: None,
            ph: v1(),
        },
        Step::Update {
            key: key("typed"),
            update: "SET m = nothing_here + :v",
            condition: None,
            ph: v1(),
        },
        Step::Update {
            key: key("typed"),
            update: "ADD n :v",
            condition: None,
            ph: Placeholders::new().value(":v", s("x")),
        },
        Step::Update {
            key: key("typed"),
            update: "SET a = :v SET b = :v",
            condition: None,
            ph: v1(),
        },
        // 21-22 counters: if_not_exists and ADD
        Step::Update {
            key: key("count"),
            update: "SET n = if_not_exists(n, :zero) + :v ADD hits :v",
            condition: None,
            ph: v1().value(":zero", Value::n(0)),
        },
        Step::Update {
            key: key("count"),
            update: "SET n = if_not_exists(n, :zero) + :v ADD hits :v",
            condition: None,
            ph: v1().value(":zero", Value::n(0)),
        },
        // 23-25 cloudfront-invalidate's flush: conditional on the flush id, then removed
        Step::Update {
            key: key("flush"),
            update: "SET flush_id = :f, armed = :t",
            condition: None,
            ph: flush("f1").value(":t", Value::Bool(true)),
        },
        Step::Delete {
            key: key("flush"),
            condition: Some("flush_id = :f"),
            ph: flush("f2"),
        },
        Step::Delete {
            key: key("flush"),
            condition: Some("flush_id = :f"),
            ph: flush("f1"),
        },
        // 26-30 transactions of create-if-absent puts (one cancelled, one refused for naming
        // an item twice), and a query in sort-key order
        Step::CreateAll(vec![one("p", "msg#1")]),
        Step::CreateAll(vec![one("p", "msg#2"), one("p", "msg#1")]),
        Step::CreateAll(vec![one("p", "msg#3"), one("p", "msg#3")]),
        Step::CreateAll(vec![one("p", "msg#3"), one("p", "head")]),
        Step::Query("p", "msg#"),
    ]
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn model_code(e: DynamoError) -> String {
    if e.reasons.is_empty() {
        e.code.to_string()
    } else {
        format!("{} {:?}", e.code, e.reasons)
    }
}

fn model_sequence() -> (Vec<String>, Vec<String>) {
    let mut m = DynamoModel::new(1);
    m.create_table(TableSpec::new(T, "pk"));
    m.create_table(TableSpec::new(S, "pk").sort_key("sk"));
    let now = start();
    let create = |i: &Item| TransactOp::Put {
        item: i.clone(),
        condition: Some("attribute_not_exists(pk)".into()),
    };
    let outcomes = sequence()
        .into_iter()
        .map(|step| {
            let r = match step {
                Step::Put {
                    item,
                    condition,
                    ph,
                } => m
                    .put_item(T, item, condition, &ph, now)
                    .map(|_| "ok".to_string()),
                Step::Update {
                    key,
                    update,
                    condition,
                    ph,
                } => m
                    .update_item(T, &key, update, condition, &ph, now)
                    .map(|_| "ok".to_string()),
                Step::Delete { key, condition, ph } => m
                    .delete_item(T, &key, condition, &ph, now)
                    .map(|_| "ok".to_string()),
                Step::CreateAll(items) => m
                    .transact_write(
                        S,
                        items.iter().map(&create).collect(),
                        &Placeholders::new(),
                        now,
                    )
                    .map(|()| "ok".to_string()),
                Step::Query(pk, prefix) => m
                    .query(
                        S,
                        "pk = :pk AND begins_with(sk, :prefix)",
                        &Placeholders::new()
                            .value(":pk", s(pk))
                            .value(":prefix", s(prefix)),
                        true,
                        now,
                    )
                    .map(|items| sort_keys(&items)),
            };
            r.unwrap_or_else(model_code)
        })
        .collect();
    let mut end: Vec<String> = m
        .items(T, now)
        .iter()
        .chain(&m.items(S, now))
        .map(show)
        .collect();
    end.sort();
    (outcomes, end)
}

fn sort_keys(items: &[Item]) -> String {
    items
        .iter()
        .filter_map(|i| match i.get("sk") {
            Some(Value::S(s)) => Some(s.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn show(i: &Item) -> String {
    format!("{i:?}")
}

fn to_sdk(v: &Value) -> AttributeValue {
    match v {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.clone()),
        Value::B(b) => AttributeValue::B(b.clone().into()),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Null => AttributeValue::Null(true),
        Value::L(l) => AttributeValue::L(l.iter().map(to_sdk).collect()),
        Value::M(m) => AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_sdk(v))).collect()),
        Value::Ss(s) => AttributeValue::Ss(s.iter().cloned().collect()),
        Value::Ns(s) => AttributeValue::Ns(s.iter().cloned().collect()),
    }
}

fn from_sdk(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => Value::S(s.clone()),
        AttributeValue::N(n) => Value::N(n.clone()),
        AttributeValue::B(b) => Value::B(b.as_ref().to_vec()),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::L(l.iter().map(from_sdk).collect()),
        AttributeValue::M(m) => Value::M(m.iter().map(|(k, v)| (k.clone(), from_sdk(v))).collect()),
        AttributeValue::Ss(s) => Value::Ss(s.iter().cloned().collect()),
        AttributeValue::Ns(s) => Value::Ns(s.iter().cloned().collect()),
        _ => Value::Null,
    }
}

fn sdk_item(i: &Item) -> HashMap<String, AttributeValue> {
    i.iter().map(|(k, v)| (k.clone(), to_sdk(v))).collect()
}

fn model_item(i: &HashMap<String, AttributeValue>) -> Item {
    i.iter().map(|(k, v)| (k.clone(), from_sdk(v))).collect()
}

fn names(ph: &Placeholders) -> Option<HashMap<String, String>> {
    (!ph.names.is_empty()).then(|| ph.names.clone().into_iter().collect())
}

fn values(ph: &Placeholders) -> Option<HashMap<String, AttributeValue>> {
    (!ph.values.is_empty()).then(|| {
        ph.values
            .iter()
            .map(|(k, v)| (k.clone(), to_sdk(v)))
            .collect()
    })
}

fn sdk_code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("no code").to_string()
}

async fn moto_sequence(client: &ddb::Client, t: &str, st: &str) -> (Vec<String>, Vec<String>) {
    let mut outcomes = Vec::new();
    for step in sequence() {
        let outcome = match step {
            Step::Put {
                item,
                condition,
                ph,
            } => client
                .put_item()
                .table_name(t)
                .set_item(Some(sdk_item(&item)))
                .set_condition_expression(condition.map(str::to_string))
                .set_expression_attribute_names(names(&ph))
                .set_expression_attribute_values(values(&ph))
                .send()
                .await
                .map_or_else(|e| sdk_code(&e), |_| "ok".into()),
            Step::Update {
                key,
                update,
                condition,
                ph,
            } => client
                .update_item()
                .table_name(t)
                .set_key(Some(sdk_item(&key)))
                .update_expression(update)
                .set_condition_expression(condition.map(str::to_string))
                .set_expression_attribute_names(names(&ph))
                .set_expression_attribute_values(values(&ph))
                .send()
                .await
                .map_or_else(|e| sdk_code(&e), |_| "ok".into()),
            Step::Delete { key, condition, ph } => client
                .delete_item()
                .table_name(t)
                .set_key(Some(sdk_item(&key)))
                .set_condition_expression(condition.map(str::to_string))
                .set_expression_attribute_names(names(&ph))
                .set_expression_attribute_values(values(&ph))
                .send()
                .await
                .map_or_else(|e| sdk_code(&e), |_| "ok".into()),
            Step::CreateAll(items) => {
                let writes: Vec<TransactWriteItem> = items
                    .iter()
                    .map(|i| {
                        let put = Put::builder()
                            .table_name(st)
                            .set_item(Some(sdk_item(i)))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .expect("a put");
                        TransactWriteItem::builder().put(put).build()
                    })
                    .collect();
                match client.transact_write_items().set_transact_items(Some(writes)).send().await {
                    Ok(_) => "ok".into(),
                    Err(e) => match e.as_service_error() {
                        Some(ddb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                            let reasons: Vec<String> = c
                                .cancellation_reasons()
                                .iter()
                                .map(|r| r.code().unwrap_or("None").to_string())
                                .collect();
                            format!("TransactionCanceledException {reasons:?}")
                        }
                        _ => sdk_code(&e),
                    },
                }
            }
            Step::Query(pk, prefix) => {
                let out = client
                    .query()
                    .table_name(st)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
                    .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
                    .consistent_read(true)
                    .send()
                    .await;
                match out {
                    Ok(o) => sort_keys(&o.items().iter().map(model_item).collect::<Vec<_>>()),
                    Err(e) => sdk_code(&e),
                }
            }
        };
        outcomes.push(outcome);
    }
    let mut end = Vec::new();
    for table in [t, st] {
        let out = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        end.extend(out.items().iter().map(|i| show(&model_item(i))));
    }
    end.sort();
    (outcomes, end)
}

async fn create_table(client: &ddb::Client, name: &str, sort: bool) {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("pk"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("pk"),
        );
    if sort {
        req = req
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("sk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("sk"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("sk")
                    .key_type(KeyType::Range)
                    .build()
                    .expect("sk"),
            );
    }
    req.send().await.expect("create table");
}

#[tokio::test]
async fn dynamodb_conditional_writes_agree_with_moto() {
    let sdk = groundcrew::require_local_aws!();
    let client = ddb::Client::new(&sdk);
    let t = groundcrew::testing::unique_name("agree-ddb");
    let st = groundcrew::testing::unique_name("agree-ddb-sorted");
    create_table(&client, &t, false).await;
    create_table(&client, &st, true).await;

    let (moto, moto_end) = moto_sequence(&client, &t, &st).await;
    let (model, model_end) = model_sequence();
    for (i, (a, b)) in moto.iter().zip(&model).enumerate() {
        println!("{i:2} moto {a:<60} model {b}");
    }
    // The sequence shows something: a create-if-absent refused, a lease held, a
    // transaction cancelled for its second item, the query in sort-key order.
    assert_eq!(model[1], "ConditionalCheckFailedException");
    assert_eq!(model[3], "ConditionalCheckFailedException");
    assert_eq!(
        model[27],
        r#"TransactionCanceledException ["None", "ConditionalCheckFailed"]"#
    );
    assert_eq!(model[30], "msg#1,msg#3");
    // Step 16, `#state` with no ExpressionAttributeNames: AWS refuses it with a
    // ValidationException ("An expression attribute name used in the document path is not
    // defined"), as the model does; moto fails the request without an error code.
    const UNDEFINED_NAME: usize = 16;
    assert_eq!(model[UNDEFINED_NAME], "ValidationException");
    assert_ne!(
        moto[UNDEFINED_NAME], "ok",
        "moto accepted an undefined #name"
    );
    let without = |v: &[String]| {
        v.iter()
            .enumerate()
            .filter(|(i, _)| *i != UNDEFINED_NAME)
            .map(|(_, o)| o.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without(&moto),
        without(&model),
        "the DynamoDB model and moto disagree on an outcome"
    );
    assert_eq!(
        moto_end, model_end,
        "the DynamoDB model and moto disagree on the end state"
    );
}
