//! DynamoDB's JSON protocol (`application/x-amz-json-1.0`, `X-Amz-Target:
//! DynamoDB_20120810.<Operation>`) over the model: what the SDK sends, decoded, applied,
//! and answered as the service answers, errors included (`__type` naming the exception).

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as Json};

use super::{DynamoError, DynamoModel, Item, Placeholders, TransactOp, Value};

fn bad(what: impl Into<String>) -> DynamoError {
    DynamoError::validation(what)
}

/// An attribute value from its wire form (`{"S": "x"}`, `{"N": "1"}`, ...).
pub fn value_from_json(j: &Json) -> Result<Value, DynamoError> {
    let o = j.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        bad("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
    })?;
    let (t, v) = o.iter().next().ok_or_else(|| bad("empty AttributeValue"))?;
    let strings = |v: &Json| -> Result<Vec<String>, DynamoError> {
        v.as_array()
            .ok_or_else(|| bad("a set must be an array"))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("a set holds strings"))
            })
            .collect()
    };
    let text = || {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{t} must be a string")))
    };
    Ok(match t.as_str() {
        "S" => Value::S(text()?),
        "N" => Value::N(text()?),
        "B" => Value::B(
            base64::engine::general_purpose::STANDARD
                .decode(text()?)
                .map_err(|e| bad(format!("B is not base64: {e}")))?,
        ),
        "BOOL" => Value::Bool(v.as_bool().ok_or_else(|| bad("BOOL must be a boolean"))?),
        "NULL" => Value::Null,
        "L" => Value::L(
            v.as_array()
                .ok_or_else(|| bad("L must be an array"))?
                .iter()
                .map(value_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => Value::M(item_from_json(v)?),
        "SS" => Value::Ss(strings(v)?.into_iter().collect()),
        "NS" => Value::Ns(strings(v)?.into_iter().collect()),
        other => return Err(bad(format!("AttributeValue type {other} is not modelled"))),
    })
}

pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::S(s) => json!({ "S": s }),
        Value::N(n) => json!({ "N": n }),
        Value::B(b) => json!({ "B": base64::engine::general_purpose::STANDARD.encode(b) }),
        Value::Bool(b) => json!({ "BOOL": b }),
        Value::Null => json!({ "NULL": true }),
        Value::L(l) => json!({ "L": l.iter().map(value_to_json).collect::<Vec<_>>() }),
        Value::M(m) => json!({ "M": item_to_json(m) }),
        Value::Ss(s) => json!({ "SS": s }),
        Value::Ns(s) => json!({ "NS": s }),
    }
}

pub fn item_from_json(j: &Json) -> Result<Item, DynamoError> {
    j.as_object()
        .ok_or_else(|| bad("an item must be a map"))?
        .iter()
        .map(|(k, v)| Ok((k.clone(), value_from_json(v)?)))
        .collect()
}

pub fn item_to_json(i: &Item) -> Json {
    Json::Object(
        i.iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect::<Map<_, _>>(),
    )
}

fn text<'a>(j: &'a Json, field: &str) -> Option<&'a str> {
    j.get(field).and_then(Json::as_str)
}

fn table(j: &Json) -> Result<String, DynamoError> {
    text(j, "TableName")
        .map(str::to_string)
        .ok_or_else(|| bad("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"))
}

fn placeholders(j: &Json) -> Result<Placeholders, DynamoError> {
    let mut ph = Placeholders::new();
    if let Some(names) = j.get("ExpressionAttributeNames").and_then(Json::as_object) {
        for (k, v) in names {
            ph = ph.name(k, v.as_str().unwrap_or_default());
        }
    }
    if let Some(values) = j.get("ExpressionAttributeValues").and_then(Json::as_object) {
        for (k, v) in values {
            ph = ph.value(k, value_from_json(v)?);
        }
    }
    Ok(ph)
}

fn key(j: &Json) -> Result<Item, DynamoError> {
    item_from_json(j.get("Key").ok_or_else(|| bad("Key is required"))?)
}

fn condition(j: &Json) -> Option<String> {
    text(j, "ConditionExpression").map(str::to_string)
}

fn consistent(j: &Json) -> bool {
    j.get("ConsistentRead")
        .and_then(Json::as_bool)
        .unwrap_or(false)
}

fn returned(j: &Json, wanted: &str, item: Option<&Item>) -> Json {
    match (text(j, "ReturnValues"), item) {
        (Some(r), Some(i)) if r == wanted => json!({ "Attributes": item_to_json(i) }),
        _ => json!({}),
    }
}

fn transact_op(j: &Json) -> Result<(String, TransactOp, Placeholders), DynamoError> {
    let (kind, body) = j
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(|| bad("a TransactItem names one action"))?;
    let op = match kind.as_str() {
        "Put" => TransactOp::Put {
            item: item_from_json(body.get("Item").ok_or_else(|| bad("Item is required"))?)?,
            condition: condition(body),
        },
        "Update" => TransactOp::Update {
            key: key(body)?,
            update: text(body, "UpdateExpression")
                .unwrap_or_default()
                .to_string(),
            condition: condition(body),
        },
        "Delete" => TransactOp::Delete {
            key: key(body)?,
            condition: condition(body),
        },
        "ConditionCheck" => TransactOp::ConditionCheck {
            key: key(body)?,
            condition: condition(body).unwrap_or_default(),
        },
        other => return Err(bad(format!("TransactItem action {other} is not modelled"))),
    };
    Ok((table(body)?, op, placeholders(body)?))
}

/// Applies one request (`operation` is the part of `X-Amz-Target` after the dot) and
/// returns the service's answer body.
pub fn dispatch(
    model: &mut DynamoModel,
    operation: &str,
    j: &Json,
    now: DateTime<Utc>,
) -> Result<Json, DynamoError> {
    match operation {
        "GetItem" => {
            let item = model.get_item(&table(j)?, &key(j)?, consistent(j), now)?;
            Ok(item.map_or_else(|| json!({}), |i| json!({ "Item": item_to_json(&i) })))
        }
        "PutItem" => {
            let item = item_from_json(j.get("Item").ok_or_else(|| bad("Item is required"))?)?;
            let old = model.put_item(
                &table(j)?,
                item,
                condition(j).as_deref(),
                &placeholders(j)?,
                now,
            )?;
            Ok(returned(j, "ALL_OLD", old.as_ref()))
        }
        "UpdateItem" => {
            let new = model.update_item(
                &table(j)?,
                &key(j)?,
                text(j, "UpdateExpression").unwrap_or_default(),
                condition(j).as_deref(),
                &placeholders(j)?,
                now,
            )?;
            Ok(returned(j, "ALL_NEW", Some(&new)))
        }
        "DeleteItem" => {
            let old = model.delete_item(
                &table(j)?,
                &key(j)?,
                condition(j).as_deref(),
                &placeholders(j)?,
                now,
            )?;
            Ok(returned(j, "ALL_OLD", old.as_ref()))
        }
        "Query" => {
            let items = model.query(
                &table(j)?,
                text(j, "KeyConditionExpression").unwrap_or_default(),
                &placeholders(j)?,
                consistent(j),
                now,
            )?;
            let n = items.len();
            Ok(
                json!({ "Items": items.iter().map(item_to_json).collect::<Vec<_>>(), "Count": n, "ScannedCount": n }),
            )
        }
        "TransactWriteItems" => {
            let ops = j
                .get("TransactItems")
                .and_then(Json::as_array)
                .ok_or_else(|| bad("TransactItems is required"))?
                .iter()
                .map(transact_op)
                .collect::<Result<Vec<_>, _>>()?;
            model.transact(ops, now)?;
            Ok(json!({}))
        }
        "BatchGetItem" => {
            let mut responses = BTreeMap::new();
            let requests = j
                .get("RequestItems")
                .and_then(Json::as_object)
                .ok_or_else(|| bad("RequestItems is required"))?;
            for (t, req) in requests {
                let mut found = Vec::new();
                for k in req
                    .get("Keys")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(i) = model.get_item(t, &item_from_json(k)?, consistent(req), now)? {
                        found.push(item_to_json(&i));
                    }
                }
                responses.insert(t.clone(), found);
            }
            Ok(json!({ "Responses": responses, "UnprocessedKeys": {} }))
        }
        other => Err(DynamoError {
            code: "UnknownOperationException",
            message: format!("{other} is not modelled"),
            reasons: Vec::new(),
        }),
    }
}

/// The error body the service sends with a 400.
pub fn error_json(e: &DynamoError) -> Json {
    let mut body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{}", e.code),
        "message": e.message,
    });
    if !e.reasons.is_empty() {
        body["CancellationReasons"] = Json::Array(
            e.reasons
                .iter()
                .map(|r| match *r {
                    "None" => json!({ "Code": "None" }),
                    code => json!({ "Code": code, "Message": "The conditional request failed" }),
                })
                .collect(),
        );
    }
    body
}
