//! `status`: every opted-in resource, when groundcrew paused it, and the month's saving.

use crate::cloud::Cloud;
use crate::model::{Scope, Suspended};
use crate::report::Item;
use crate::savings;
use crate::Error;

use super::{nothing_done, Ops};

impl<C: Cloud> Ops<'_, C> {
    /// The status report's projection: the month's saving if it goes on as so far.
    pub(super) fn projected(&self, mut item: Item) -> Item {
        item.projected_month_saving_usd = item
            .saving_this_month_usd
            .map(|so_far| savings::month_projection(so_far, self.now));
        item
    }

    pub async fn status(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        items.extend(clusters.into_iter().map(|(c, scope)| {
            let item = self.projected(self.cluster_item(&c));
            match scope {
                Scope::Protected(r) => item.skipped(r),
                _ if item.paused_at.is_some() => item.skipped("paused by groundcrew"),
                _ => item.skipped("not paused by groundcrew"),
            }
        }));
        let services = self.services(env, &mut items).await;
        let ids: Vec<String> = services.iter().map(|(s, _)| s.resource_id()).collect();
        let targets = if ids.is_empty() {
            Default::default()
        } else {
            self.cloud.targets(&ids).await.unwrap_or_default()
        };
        for (s, scope) in services {
            let mut item = self.projected(self.service_item(&s));
            if let Some(t) = targets.get(&s.resource_id()) {
                item.state = format!(
                    "{} scaling min={} max={}{}",
                    item.state,
                    t.min,
                    t.max,
                    if t.suspended == Suspended::default() {
                        ""
                    } else {
                        " suspended"
                    }
                );
            }
            items.push(match scope {
                Scope::Protected(r) => item.skipped(r),
                _ if item.paused_at.is_some() => item.skipped("paused by groundcrew"),
                _ => item.skipped("not paused by groundcrew"),
            });
        }
        nothing_done(items)
    }
}
