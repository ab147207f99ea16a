//! Performance items (access patterns 1–7 in the [module docs](super)).
//!
//! Index keys are derived from the performance in one place, [`index_keys`], so every write keeps the
//! catalog, the review queue and the organizer's list in step with the status.

use super::{
    s, Item, Store, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK, PK, SK, TYPE,
};
use crate::domain::performance::{Category, Performance, PerformanceStatus};
use crate::error::AppError;
use serde::Serialize;

const ENTITY: &str = "performance";
const CATALOG: &str = "CATALOG";

/// One page of a listing. `nextCursor` is absent on the last page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("PERF#{id}"))), (SK.into(), s("META"))])
}

/// The secondary-index keys of a performance:
/// * approved: the catalog (GSI1, by run start) and the category catalog (GSI2);
/// * pending or rejected: the admins' review queue for that status (GSI2, oldest first);
/// * always: the organizer's own list (GSI3, by creation).
fn index_keys(p: &Performance) -> Vec<(&'static str, String)> {
    let by_creation = format!("{}#{}", p.created_at, p.id);
    let mut keys = vec![
        (GSI3PK, format!("ORG#{}", p.organizer_id)),
        (GSI3SK, by_creation.clone()),
    ];
    match p.status {
        PerformanceStatus::Approved => {
            let by_run = format!("{}#{}", p.details.run_start_date, p.id);
            keys.push((GSI1PK, CATALOG.to_string()));
            keys.push((GSI1SK, by_run.clone()));
            keys.push((GSI2PK, format!("{CATALOG}#{}", p.details.category.as_str())));
            keys.push((GSI2SK, by_run));
        }
        PerformanceStatus::PendingApproval | PerformanceStatus::Rejected => {
            keys.push((GSI2PK, format!("PERFSTATUS#{}", p.status.as_str())));
            keys.push((GSI2SK, by_creation));
        }
    }
    keys
}

fn to_item(p: &Performance) -> Result<Item, AppError> {
    let mut item: Item = serde_dynamo::to_item(p).map_err(|e| AppError::Corrupt(e.to_string()))?;
    item.extend(key(&p.id));
    item.insert(TYPE.into(), s("Performance"));
    for (name, value) in index_keys(p) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

fn from_item(item: Item) -> Result<Performance, AppError> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Which index and partition a listing reads.
pub enum Listing<'a> {
    /// Public catalog, optionally one category (patterns 4, 5).
    Catalog(Option<Category>),
    /// Admins: every performance in one status (pattern 6).
    Status(PerformanceStatus),
    /// An organizer's own performances, any status (pattern 7).
    Organizer(&'a str),
}

impl Listing<'_> {
    fn index(&self) -> (&'static str, &'static str, &'static str, String) {
        match self {
            Listing::Catalog(None) | Listing::Status(PerformanceStatus::Approved) => {
                (GSI1, GSI1PK, GSI1SK, CATALOG.to_string())
            }
            Listing::Catalog(Some(c)) => {
                (GSI2, GSI2PK, GSI2SK, format!("{CATALOG}#{}", c.as_str()))
            }
            Listing::Status(status) => (
                GSI2,
                GSI2PK,
                GSI2SK,
                format!("PERFSTATUS#{}", status.as_str()),
            ),
            Listing::Organizer(id) => (GSI3, GSI3PK, GSI3SK, format!("ORG#{id}")),
        }
    }
}

impl Store {
    /// Pattern 2: stores a new performance; the id must be new.
    pub async fn create_performance(&self, p: &Performance) -> Result<(), AppError> {
        self.put_new(to_item(p)?, format!("performance {}", p.id))
            .await
    }

    /// Pattern 1.
    pub async fn get_performance(&self, id: &str) -> Result<Option<Performance>, AppError> {
        self.get_consistent(key(id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Pattern 3: writes a changed performance only if it is still at `previous_version` (optimistic
    /// concurrency); otherwise [`AppError::PreconditionFailed`] and nothing is written.
    pub async fn replace_performance(
        &self,
        p: &Performance,
        previous_version: u64,
    ) -> Result<(), AppError> {
        self.put_if_version(to_item(p)?, previous_version, (ENTITY, &p.id), &[])
            .await
    }

    /// Patterns 4–7: one page of a listing, in index order.
    pub async fn list_performances(
        &self,
        listing: Listing<'_>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Performance>, AppError> {
        let (index, pk_name, sk_name, partition) = listing.index();
        let (items, next_cursor) = self
            .index_page((index, pk_name, sk_name), partition, limit, cursor)
            .await?;
        let items = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }
}
