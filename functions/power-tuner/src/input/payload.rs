//! Payloads as Power Tuning makes them: one payload or a weighted list, encoded as its
//! `convertPayload` encodes them and spread over the invocations as its
//! `generatePayloads` does.

use serde_json::Value;

use super::fields::bad;
use crate::Error;

/// The payload input before any S3 fetch: one payload, or a weighted list.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadSpec {
    /// Sent as Power Tuning's `convertPayload` sends it: a string holding JSON as is,
    /// anything else (a plain string included) JSON-encoded.
    Single(Option<Value>),
    Weighted(Vec<(Value, f64)>),
}

/// A payload array: weighted when every item has a payload and a weight (Power Tuning's
/// `isWeightedPayload`); one payload, the array itself, when no item has a weight (as
/// Power Tuning treats a plain array); refused when only some items are weighted, which is
/// a mistake rather than a payload.
pub(super) fn array_payload(items: &[Value]) -> Result<PayloadSpec, Error> {
    let weighted = |i: &Value| i.get("weight").is_some();
    if items.is_empty() || !items.iter().any(weighted) {
        return Ok(PayloadSpec::Single(Some(Value::Array(items.to_vec()))));
    }
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let weight = item
            .get("weight")
            .and_then(Value::as_f64)
            .filter(|w| *w > 0.0);
        match (item.get("payload").filter(|p| !p.is_null()), weight) {
            (Some(p), Some(w)) => list.push((p.clone(), w)),
            _ => {
                return Err(bad(
                    "payload",
                    format!("item {i} needs a payload and a positive weight"),
                ))
            }
        }
    }
    Ok(PayloadSpec::Weighted(list))
}

/// A payload as bytes, as Power Tuning's `convertPayload` makes them: a string that holds
/// JSON is sent as is; any other value, a plain string included, is JSON-encoded
/// (`just a string` becomes `"just a string"`).
pub fn payload_bytes(value: &Option<Value>) -> Vec<u8> {
    match value {
        None => Vec::new(),
        Some(Value::String(s)) if serde_json::from_str::<Value>(s).is_ok() => {
            s.clone().into_bytes()
        }
        Some(v) => v.to_string().into_bytes(),
    }
}

/// Power Tuning's `generatePayloads`: `num` payloads, a weighted list filled in order by
/// `floor(weight * num / total)`, the last item taking the remainder.
pub fn generate_payloads(num: u32, spec: &PayloadSpec) -> Result<Vec<Vec<u8>>, Error> {
    let n = num as usize;
    match spec {
        PayloadSpec::Single(p) => Ok(vec![payload_bytes(p); n]),
        PayloadSpec::Weighted(list) => {
            if n < list.len() {
                return Err(bad(
                    "payload",
                    format!(
                        "{} weighted payloads need num of at least {}",
                        list.len(),
                        list.len()
                    ),
                ));
            }
            let total: f64 = list.iter().map(|(_, w)| w).sum();
            let mut out = Vec::with_capacity(n);
            for (i, (p, w)) in list.iter().enumerate() {
                let mut how_many = (w * num as f64 / total).floor() as usize;
                if how_many < 1 {
                    return Err(bad(
                        "payload",
                        format!("weight of item {i} is too small for num {num}"),
                    ));
                }
                if i == list.len() - 1 {
                    how_many = n - out.len();
                }
                let bytes = payload_bytes(&Some(p.clone()));
                out.extend(std::iter::repeat_n(bytes, how_many));
            }
            Ok(out)
        }
    }
}
