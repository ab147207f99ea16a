//! Performance items (access patterns 1–7 in the [module docs](super)).
//!
//! Index keys are derived from the performance in one place, [`performance_index_keys`], so every write keeps the
//! catalog, the review queue and the organizer's list in step with the status.

use super::cursor::Page;
use super::keys::{
    category_catalog_pk, organizer_performances_pk, performance_index_keys, performance_key,
    performances_by_status_pk, CATALOG,
};
use super::StoreError;
use super::{
    s, Item, Store, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK, TYPE,
};
use crate::domain::performance::{Category, Performance, PerformanceStatus};

const ENTITY: &str = "performance";

fn to_item(p: &Performance) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend(performance_key(&p.id));
    item.insert(TYPE.into(), s("Performance"));
    for (name, value) in performance_index_keys(p) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

fn from_item(item: Item) -> Result<Performance, StoreError> {
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
            Listing::Catalog(Some(c)) => (GSI2, GSI2PK, GSI2SK, category_catalog_pk(c.as_str())),
            Listing::Status(status) => (GSI2, GSI2PK, GSI2SK, performances_by_status_pk(*status)),
            Listing::Organizer(id) => (GSI3, GSI3PK, GSI3SK, organizer_performances_pk(id)),
        }
    }
}

impl Store {
    /// Pattern 2: stores a new performance; the id must be new.
    pub async fn create_performance(&self, p: &Performance) -> Result<(), StoreError> {
        self.put_new(to_item(p)?, format!("performance {}", p.id))
            .await
    }

    /// Pattern 1.
    pub async fn get_performance(&self, id: &str) -> Result<Option<Performance>, StoreError> {
        self.get_consistent(performance_key(id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Pattern 3: writes a changed performance only if it is still at `previous_version` (optimistic
    /// concurrency); otherwise [`StoreError::Stale`] and nothing is written.
    pub async fn replace_performance(
        &self,
        p: &Performance,
        previous_version: u64,
    ) -> Result<(), StoreError> {
        self.put_if_version(to_item(p)?, previous_version, (ENTITY, &p.id), &[])
            .await
    }

    /// Patterns 4–7: one page of a listing, in index order.
    pub async fn list_performances(
        &self,
        listing: Listing<'_>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Performance>, StoreError> {
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
