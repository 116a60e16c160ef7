//! `DescribeEvents`: what RDS recorded of one database, or of every database of a kind
//! (RDS keeps 14 days).

use std::time::SystemTime;

use aws_sdk_rds as rds;
use chrono::{DateTime, Utc};

use crate::cloud;
use crate::model::DbKind;
use crate::Error;

use crate::aws::{err, Aws};

fn source_type(kind: DbKind) -> rds::types::SourceType {
    match kind {
        DbKind::Cluster => rds::types::SourceType::DbCluster,
        DbKind::Instance => rds::types::SourceType::DbInstance,
    }
}

impl Aws {
    /// Every event of one kind of database since `since` (of one database when `id` is
    /// given), all pages, oldest first. Events without a date, source or message are
    /// skipped: there is nothing to match them on.
    pub(super) async fn describe_events(
        &self,
        kind: DbKind,
        id: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<cloud::DbEvent>, Error> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count("DescribeEvents");
            let page = self
                .rds
                .describe_events()
                .source_type(source_type(kind))
                .set_source_identifier(id.map(str::to_string))
                .start_time(SystemTime::from(since).into())
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| err("DescribeEvents", e))?;
            for e in page.events() {
                let at = e
                    .date()
                    .and_then(|d| SystemTime::try_from(*d).ok())
                    .map(DateTime::<Utc>::from);
                if let (Some(at), Some(source), Some(message)) =
                    (at, e.source_identifier(), e.message())
                {
                    out.push(cloud::DbEvent {
                        at,
                        kind,
                        source: source.to_string(),
                        message: message.to_string(),
                    });
                }
            }
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => {
                    out.sort();
                    return Ok(out);
                }
            }
        }
    }
}
