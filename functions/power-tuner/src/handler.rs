//! The handler: input -> measurement -> analysis -> report -> autoOptimize.

use serde_json::{json, Value};

use groundcrew::Deadline;

use crate::analysis::analyse;
use crate::input::{generate_payloads, PayloadSpec, S3Location, TuneRequest};
use crate::lambda::LambdaApi;
use crate::output;
use crate::run::{self, Target};
use crate::store::ObjectStore;
use crate::{Settings, TunerError};

pub struct Tuner<L, S> {
    pub lambda: L,
    pub store: S,
    pub settings: Settings,
}

/// A payload read from S3: JSON when it parses (a weighted list included), else raw text.
fn payload_from_s3(bytes: &[u8]) -> PayloadSpec {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(items))
            if !items.is_empty()
                && items.iter().all(|i| {
                    i.get("payload").is_some() && i.get("weight").and_then(Value::as_f64).is_some()
                }) =>
        {
            PayloadSpec::Weighted(
                items
                    .iter()
                    .map(|i| (i["payload"].clone(), i["weight"].as_f64().unwrap_or(1.0)))
                    .collect(),
            )
        }
        Ok(v) => PayloadSpec::Single(Some(v)),
        Err(_) => PayloadSpec::Single(Some(Value::String(
            String::from_utf8_lossy(bytes).into_owned(),
        ))),
    }
}

impl<L: LambdaApi, S: ObjectStore> Tuner<L, S> {
    pub async fn handle(
        &self,
        event: &Value,
        deadline: Deadline,
        run_id: &str,
    ) -> Result<Value, TunerError> {
        let req = TuneRequest::from_event(event)?;
        run::check_allowed(&req, &self.settings)?;
        let report_s3 = match (&req.report_s3, &self.settings.default_report_s3) {
            (Some(l), _) => Some(l.clone()),
            (None, Some(raw)) => S3Location::parse(raw),
            (None, None) => None,
        };
        let spec = match &req.payload_s3 {
            Some(loc) => payload_from_s3(&self.store.get(loc).await.map_err(TunerError::Payload)?),
            None => req.payload.clone(),
        };
        let payloads = generate_payloads(req.invocations(), &spec)?;
        tracing::info!(function = %req.lambda_arn, values = req.power_values.len(), num = req.invocations(), "tuning");

        let outcome = run::measure(&self.lambda, &req, &payloads, deadline, &self.settings).await?;
        let mut analysis = analyse(
            &outcome.order,
            &outcome.values,
            req.strategy,
            req.balanced_weight,
            req.discard_top_bottom,
            &req.pricing,
        );
        if analysis.values.is_empty() {
            let reasons: Vec<String> = analysis
                .failed
                .iter()
                .map(|f| format!("{} MB {}: {}", f.value, f.architecture.as_str(), f.reason))
                .collect();
            let mut why = reasons.join("; ");
            if !outcome.cleanup.complete {
                why.push_str(&format!(
                    "; cleanup incomplete: {}",
                    outcome.cleanup.problems.join("; ")
                ));
            }
            return Err(TunerError::AllFailed(why));
        }
        if req.dry_run {
            analysis.recommendation = None;
        }
        let mut report = output::report(&req, &outcome, &analysis);

        // autoOptimize, after cleanup.
        if req.auto_optimize && !req.dry_run {
            if let Some(r) = &analysis.recommendation {
                let target = Target {
                    architecture: r.architecture,
                    memory_mb: r.power,
                };
                report["autoOptimize"] = match run::apply(
                    &self.lambda,
                    &req.lambda_arn,
                    target,
                    req.auto_optimize_alias.as_deref(),
                    deadline,
                )
                .await
                {
                    Ok(version) => {
                        json!({"applied": true, "power": r.power, "architecture": r.architecture,
                        "alias": req.auto_optimize_alias, "version": version})
                    }
                    Err(e) => json!({"applied": false, "error": e.to_string()}),
                };
            }
        }

        let keys = match &report_s3 {
            None => None,
            Some(base) => Some(
                self.write_report(base, &req, &analysis, &report, run_id)
                    .await,
            ),
        };
        Ok(output::response(&req, &outcome, &analysis, report, keys))
    }

    async fn write_report(
        &self,
        base: &S3Location,
        req: &TuneRequest,
        analysis: &crate::analysis::Analysis,
        report: &Value,
        run_id: &str,
    ) -> Value {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let id: String = run_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(36)
            .collect();
        let stem = format!("{}/{stamp}-{id}", req.function_name());
        let key = |ext: &str| {
            if base.key.is_empty() {
                format!("{stem}.{ext}")
            } else {
                format!("{}/{stem}.{ext}", base.key)
            }
        };
        let json_loc = S3Location {
            bucket: base.bucket.clone(),
            key: key("json"),
        };
        let svg_loc = S3Location {
            bucket: base.bucket.clone(),
            key: key("svg"),
        };
        let body = serde_json::to_vec_pretty(report).unwrap_or_default();
        let svg = output::svg_chart(&req.lambda_arn, analysis);
        let (a, b) = futures::join!(
            self.store.put(&json_loc, body, "application/json"),
            self.store.put(&svg_loc, svg.into_bytes(), "image/svg+xml")
        );
        let mut out = json!({"bucket": base.bucket, "json": json_loc.key, "svg": svg_loc.key});
        let errors: Vec<String> = [a.err(), b.err()].into_iter().flatten().collect();
        if !errors.is_empty() {
            tracing::error!(errors = ?errors, "writing the report failed");
            out["error"] = json!(errors.join("; "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn s3_payloads() {
        assert_eq!(
            payload_from_s3(br#"{"a":1}"#),
            PayloadSpec::Single(Some(json!({"a": 1})))
        );
        assert_eq!(
            payload_from_s3(b"plain text"),
            PayloadSpec::Single(Some(json!("plain text")))
        );
        assert_eq!(
            payload_from_s3(br#"[{"payload":"x","weight":2}]"#),
            PayloadSpec::Weighted(vec![(json!("x"), 2.0)])
        );
    }
}
