//! The response body, cut to CloudFormation's 4,096-byte limit on character boundaries,
//! and its PUT to the pre-signed `ResponseURL`.

use std::collections::{BTreeMap, HashMap};

use reqwest::header::CONTENT_TYPE;

use super::event::Response;
use super::outcome::ResponderSettings;
use crate::http::{excerpt, HttpError};
use crate::retry::retry;
use crate::Deadline;

/// CloudFormation rejects a response body larger than this.
pub const MAX_BODY_BYTES: usize = 4096;

fn body_len(response: &Response) -> usize {
    serde_json::to_vec(response)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

/// The longest prefix (in characters) of `text` that keeps the body within the limit when
/// set through `set`; cut text ends in "…".
fn fit_text(response: &mut Response, text: &str, set: impl Fn(&mut Response, String)) -> bool {
    set(response, text.to_string());
    if body_len(response) <= MAX_BODY_BYTES {
        return false;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let (mut lo, mut hi) = (0usize, chars.len());
    // Invariant: a prefix of `lo` characters fits (0 fits when the rest does).
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let cut = chars.get(mid).map_or(text.len(), |(i, _)| *i);
        set(response, format!("{}…", &text[..cut]));
        if body_len(response) <= MAX_BODY_BYTES {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let cut = chars.get(lo).map_or(text.len(), |(i, _)| *i);
    set(
        response,
        if lo == 0 {
            String::new()
        } else {
            format!("{}…", &text[..cut])
        },
    );
    true
}

/// Serialises `response` within [`MAX_BODY_BYTES`]: `Reason` is cut first, then the
/// longest `Data` values, then `Data` keys (last first). Returns the body and whether
/// anything was cut.
pub fn fit_body(response: &mut Response) -> (String, bool) {
    let mut truncated = false;
    if body_len(response) > MAX_BODY_BYTES {
        truncated = true;
        let reason = response.reason.clone().unwrap_or_default();
        // Keep room for a short reason while the data is cut.
        let data_first = {
            let mut probe = response.clone();
            probe.reason = Some(String::new());
            body_len(&probe) > MAX_BODY_BYTES
        };
        if data_first {
            let note = "(Data was cut to fit CloudFormation's 4,096-byte limit) ";
            response.reason = Some(excerpt(&format!("{note}{reason}"), 200));
            let mut data: BTreeMap<String, String> = response.data.drain().collect();
            // Cut the longest values, one at a time, to fit.
            loop {
                response.data = data.clone().into_iter().collect();
                if body_len(response) <= MAX_BODY_BYTES {
                    break;
                }
                let longest = data
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .max_by_key(|(_, v)| v.len())
                    .map(|(k, _)| k.clone());
                match longest {
                    Some(key) => {
                        let value = data.get(&key).cloned().unwrap_or_default();
                        let others: HashMap<String, String> = data
                            .iter()
                            .filter(|(k, _)| **k != key)
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        response.data = others;
                        let key2 = key.clone();
                        fit_text(response, &value, move |r, v| {
                            r.data.insert(key2.clone(), v);
                        });
                        let fitted = response.data.get(&key).cloned().unwrap_or_default();
                        data.insert(key, fitted);
                        if body_len(response) <= MAX_BODY_BYTES {
                            break;
                        }
                    }
                    None => {
                        // Every value is empty and still too big: drop keys, last first.
                        if data.pop_last().is_none() {
                            break;
                        }
                    }
                }
            }
        }
        let reason = response.reason.clone().unwrap_or_default();
        fit_text(response, &reason, |r, v| r.reason = Some(v));
    }
    let body = serde_json::to_string(response).unwrap_or_default();
    (body, truncated)
}

/// PUTs `body` with an empty content type, retrying transient failures within `deadline`.
pub(super) async fn put_response(
    http: &reqwest::Client,
    url: &str,
    body: String,
    deadline: Deadline,
    settings: &ResponderSettings,
) -> Result<(), String> {
    let attempt = || {
        let body = body.clone();
        async move {
            let send = http.put(url).header(CONTENT_TYPE, "").body(body).send();
            let resp = match deadline.run(send).await {
                Ok(Ok(resp)) => resp,
                Ok(Err(e)) => return Err(HttpError::transport("CloudFormation ResponseURL", e)),
                Err(_) => {
                    return Err(HttpError::Transport {
                        target: "CloudFormation ResponseURL".to_string(),
                        reason: "the invocation deadline passed".to_string(),
                        timed_out: true,
                    })
                }
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                return Ok(());
            }
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            Err(HttpError::status(
                "CloudFormation ResponseURL",
                status,
                &headers,
                &text,
                &[],
            ))
        }
    };
    retry(
        &settings.put_retry,
        deadline,
        "put custom-resource response",
        attempt,
    )
    .await
    .map_err(|e| e.to_string())
}
