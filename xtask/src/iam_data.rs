//! cfn-lint's IAM data (`cfnlint/data/AdditionalSpecs/Policies.json`, installed in the
//! project's venv by `scripts/setup.sh`): which actions exist and which of them support
//! resource-level permissions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::CheckError;

#[derive(Debug, Default, Deserialize)]
pub struct IamData(HashMap<String, Service>);

#[derive(Debug, Default, Deserialize)]
struct Service {
    #[serde(rename = "Actions", default)]
    actions: HashMap<String, Action>,
}

/// One action's entry: its resource types (empty: no resource-level permissions).
#[derive(Debug, Default, Deserialize)]
pub struct Action {
    #[serde(rename = "Resources", default)]
    pub resources: Vec<String>,
}

impl IamData {
    pub fn parse(text: &str) -> Result<Self, CheckError> {
        serde_json::from_str(text)
            .map_err(|e| CheckError::new(format!("cfn-lint's IAM data does not parse: {e}")))
    }

    /// Reads the data from the cfn-lint installed in `venv`.
    pub fn from_venv(venv: &Path) -> Result<Self, CheckError> {
        let path = find_in_venv(venv)?;
        Self::parse(&std::fs::read_to_string(&path)?)
    }

    /// The entry of an action (IAM names are case-insensitive), `None` when unknown.
    pub fn action(&self, action: &str) -> Option<&Action> {
        let (prefix, name) = action.split_once(':')?;
        self.0
            .get(prefix)?
            .actions
            .get(name.to_ascii_lowercase().as_str())
    }
}

fn find_in_venv(venv: &Path) -> Result<PathBuf, CheckError> {
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).map_err(|e| {
        CheckError::new(format!(
            "cannot read {} ({e}): run scripts/setup.sh for the venv with cfn-lint",
            lib.display()
        ))
    })?;
    for entry in entries.flatten() {
        let path = entry
            .path()
            .join("site-packages/cfnlint/data/AdditionalSpecs/Policies.json");
        if path.is_file() {
            return Ok(path);
        }
    }
    Err(CheckError::new(format!(
        "cfn-lint's IAM data is not in {} (run scripts/setup.sh)",
        venv.display()
    )))
}
