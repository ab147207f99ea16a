//! The repairer's index: what may be left half-done, by when it should be over.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | RP1 | what is due for a look: holds past their expiry, cancellations and sweeps begun before a moment | `Query` GSI4 per shard (16), `GSI4SK < <before>` , KEYS_ONLY | `GSI4PK = REPAIR#<shard>`, `GSI4SK = <dueEpoch:010>#<id>` |
//!
//! The index is sparse: an item carries `GSI4PK`/`GSI4SK` only while something of it is under way, and the write
//! that finishes it removes them in the same write:
//!
//! | item | keys while | due (epoch seconds) | removed by |
//! |---|---|---|---|
//! | reservation `RES#<id>`/`META` | HELD | `holdExpiresAt` | the confirm (H2) and the release (H3) |
//! | reservation `RES#<id>`/`META` | CONFIRMED with a pending cancellation | the cancellation's `requestedAt` | the cancellation's finish or abandon (C2, C1) |
//! | sweep progress `SHOW#<id>`/`CANCELLATION` | RUNNING | `startedAt` | the sweep's finish (C3) |
//!
//! Nothing else is ever written to the index, so a healthy system keeps it as small as the sales in flight.
//! The shard is the last hex digit of the id (ids are UUIDs), so a rush of holds spreads over 16 partitions.
//! The reader asks for items due before `now - grace`: the grace (default 300 s, past the sagas' retry bound)
//! keeps it off what is still being worked on; it re-reads each item consistently before it acts.

use super::keys::{
    repair_shard_pk, reservation_of_partition, showtime_of_partition, META, PROGRESS_SK,
};
use super::StoreError;
use super::{s, Store, GSI4, GSI4PK, GSI4SK, PK, SK};
const SHARDS: u32 = 16;

/// The update-expression clause that takes an item out of the index.
pub(crate) const REMOVE_REPAIR_KEYS: &str = "GSI4PK, GSI4SK";

/// Something the index says may need a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueItem {
    /// A reservation: a hold, or a confirmed reservation with a pending cancellation.
    Reservation(String),
    /// A showtime whose organizer's sweep is RUNNING.
    Sweep(String),
}

impl Store {
    /// RP1: items due before `before` (epoch seconds), at most `per_shard` of each shard, earliest first.
    /// Eventually consistent (an index): the caller reads each item again before it acts.
    pub async fn due_repairs(
        &self,
        before: i64,
        per_shard: i32,
    ) -> Result<Vec<DueItem>, StoreError> {
        let mut tasks = tokio::task::JoinSet::new();
        for shard in 0..SHARDS {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI4)
                .key_condition_expression("#pk = :pk AND #sk < :before")
                .expression_attribute_names("#pk", GSI4PK)
                .expression_attribute_names("#sk", GSI4SK)
                .expression_attribute_values(":pk", s(repair_shard_pk(shard)))
                .expression_attribute_values(":before", s(format!("{:010}", before.max(0))))
                .limit(per_shard);
            tasks.spawn(async move { query.send().await });
        }
        let mut due = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let out =
                joined.map_err(|e| StoreError::Dependency(format!("repair query: {e}")))??;
            for item in out.items.unwrap_or_default() {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                match (text(PK), text(SK)) {
                    (Some(pk), Some(sk)) if sk == META => {
                        if let Some(id) = reservation_of_partition(&pk) {
                            due.push(DueItem::Reservation(id.to_string()));
                        }
                    }
                    (Some(pk), Some(sk)) if sk == PROGRESS_SK => {
                        if let Some(id) = showtime_of_partition(&pk) {
                            due.push(DueItem::Sweep(id.to_string()));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::repair_keys;

    #[test]
    fn keys_shard_by_the_last_hex_digit_and_sort_by_due() {
        let [(pk_name, pk), (sk_name, sk)] =
            repair_keys("6f1c0b36-3a59-4d5e-9a51-0c6e4b3f2a1e", 1_800_000_000);
        assert_eq!(pk_name, GSI4PK);
        assert_eq!(pk.as_s().unwrap(), "REPAIR#14");
        assert_eq!(sk_name, GSI4SK);
        assert_eq!(
            sk.as_s().unwrap(),
            "1800000000#6f1c0b36-3a59-4d5e-9a51-0c6e4b3f2a1e"
        );
        // Zero-padded: string order is time order.
        let [_, (_, early)] = repair_keys("a", 999);
        assert!(early.as_s().unwrap().as_str() < sk.as_s().unwrap().as_str());
        let [(_, odd), _] = repair_keys("not-hex-z", 5);
        assert_eq!(odd.as_s().unwrap(), "REPAIR#0");
    }
}
