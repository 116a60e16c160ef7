//! The object people write: a direct invoke, our deploy event's `detail` and a CodePipeline
//! action's `UserParameters` (or its manifest), checked and normalised into a [`Request`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{Overrides, Request};
use crate::config::Config;
use crate::error::Error;
use crate::paths::{cache_tag_item, index_directory, normalize, Encoding, NormPath};

/// The fields of a direct invoke, of our deploy event's `detail` and of a CodePipeline
/// action's `UserParameters`. Written by people, so an unknown field is refused.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Spec {
    pub distribution: String,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub wait: Option<bool>,
    #[serde(default)]
    pub site_paths: Option<Vec<String>>,
    #[serde(default)]
    pub eviction_weight: Option<f64>,
    #[serde(default)]
    pub max_share: Option<f64>,
}

/// Reads what people write as `T`, a type error naming the field at fault
/// (`paths[2]: invalid type: integer `3`, expected a string`), where serde alone names
/// only the type it expected.
pub(crate) fn read<'de, T: Deserialize<'de>, D: Deserializer<'de>>(input: D) -> Result<T, String> {
    serde_path_to_error::deserialize(input).map_err(|e| e.to_string())
}

/// A direct invoke's object (CodePipeline's `UserParameters`, a manifest) as a request.
pub(crate) fn request_from_value(
    value: Value,
    default_deployment: &str,
    config: &Config,
) -> Result<Request, Error> {
    let spec: Spec = read(value).map_err(Error::BadEvent)?;
    request_from(spec, default_deployment, config)
}

pub(crate) fn request_from(
    spec: Spec,
    default_deployment: &str,
    config: &Config,
) -> Result<Request, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let distribution = spec.distribution.trim().to_string();
    if distribution.is_empty() {
        return Err(bad("`distribution` is empty".into()));
    }
    if spec.paths.is_empty() && spec.tags.is_empty() {
        return Err(bad(
            "the event names no `paths` and no `tags` to invalidate".into(),
        ));
    }
    if let Some(w) = spec.eviction_weight {
        if !(w.is_finite() && w >= 0.0) {
            return Err(bad(
                "`eviction_weight` must be a number of dollars, 0 or more".into(),
            ));
        }
    }
    if let Some(m) = spec.max_share {
        if !(0.0..=1.0).contains(&m) {
            return Err(bad("`max_share` must be a fraction from 0 to 1".into()));
        }
    }
    let overrides = Overrides {
        eviction_weight: spec.eviction_weight,
        max_share: spec.max_share,
    };
    let deployment_id = match spec.deployment_id {
        Some(d) if d.trim().is_empty() => return Err(bad("`deployment_id` is empty".into())),
        Some(d) if d.len() > 256 => {
            return Err(bad("`deployment_id` is longer than 256 characters".into()))
        }
        Some(d) => d.trim().to_string(),
        None => default_deployment.to_string(),
    };
    let mut paths = Vec::with_capacity(spec.paths.len());
    for raw in &spec.paths {
        let p = normalize(raw, Encoding::Url).map_err(bad)?;
        push_with_index(&mut paths, p, config);
    }
    let tags = spec
        .tags
        .iter()
        .map(|t| cache_tag_item(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let site_paths = match spec.site_paths {
        None => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for raw in &list {
                let p =
                    normalize(raw, Encoding::Url).map_err(|e| bad(format!("site_paths: {e}")))?;
                if p.wildcard {
                    return Err(bad(
                        "site_paths lists files; it cannot hold wildcards".into()
                    ));
                }
                if let Some(dir) = index_directory(&p, &config.index_document) {
                    out.push(dir.text);
                }
                out.push(p.text);
            }
            Some(out)
        }
    };
    Ok(Request {
        distribution,
        paths,
        tags,
        deployment_id,
        wait: spec.wait.unwrap_or(config.wait_default),
        site_paths,
        caller_reference: None,
        overrides,
    })
}

/// A path, preceded by its directory when it is the directory's index document.
pub(crate) fn push_with_index(paths: &mut Vec<NormPath>, p: NormPath, config: &Config) {
    if let Some(dir) = index_directory(&p, &config.index_document) {
        paths.push(dir);
    }
    paths.push(p);
}
