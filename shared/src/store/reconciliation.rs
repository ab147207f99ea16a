//! What the reconciliation reads and writes (docs/reconciliation.md): the whole table a segment and a page at
//! a time, the lookups each item's check needs (batched, strongly consistent), and the run's records.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | RC1 | one page of one segment of the table | `Scan` `Segment`/`TotalSegments`, `Limit`, from the page before's last key | every item |
//! | RC2 | the payments, holders' reservations, seats, settlement guards and money a page's checks need | `BatchGetItem`, consistent, 100 keys a call | `RES#<id>`/`PAY#pay-<id>`, `RES#<id>`/`META`, seat keys, `SETTLED#<eventId>`/`SETTLED`, `STMT#<id>`/`MONEY#<eventId>` |
//! | RC3 | a wallet's ledger | `Query` `PK = MEMBER#<id> AND begins_with(SK, LEDGER#)`, consistent | the lines |
//! | RC4 | a closed statement's money | ST4 ([`super::settlements`]) | |
//! | RC5 | a page's result (counts and breaks), once per page (a page run again writes the same item) | `PutItem`, TTL 90 days | `RECON#<runId>` / `SEG#<segment:03>#<page:06>` |
//! | RC6 | a run's results, to add them up | `Query` `PK = RECON#<runId> AND begins_with(SK, SEG#)` | |
//! | RC7 | the report: the run's, and the latest | `PutItem` ×2 | `RECON#<runId>` / `REPORT`, `RECON#LATEST` / `REPORT` |

use super::keys::{
    event_of_settled_partition, member_of_partition, member_partition, payment_key,
    reconciliation_partition, reconciliation_report_key, reservation_key, seat_key,
    segment_page_sk, settled_key, showtime_of_seat_partition, statement_money_key, LATEST_RUN,
    LEDGER_PREFIX, SEGMENT_PREFIX,
};
use super::settlements::Statement;
use super::{n, s, Item, Store, StoreError, PK, SK, TYPE};
use crate::domain::payment::Payment;
use crate::domain::reconciliation::{Break, Counts};
use crate::domain::reservation::Reservation;
use crate::domain::seat::SeatId;
use crate::domain::seat::SeatState;
use crate::domain::settlement::Money;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An item of the table as the reconciliation sees it.
#[derive(Debug, Clone)]
pub enum Scanned {
    Reservation(Box<Reservation>),
    Seat {
        showtime_id: String,
        seat: SeatId,
        state: SeatState,
    },
    Wallet {
        member_id: String,
        balance: i64,
    },
    Statement(Box<Statement>),
    /// Anything the checks do not start from (its payments, ledger lines, events, ... are looked up).
    Other,
}

/// What one page of one segment found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageResult {
    pub counts: Counts,
    pub breaks: Vec<Break>,
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn scanned(item: Item) -> Result<Scanned, StoreError> {
    let pk = text(&item, PK).unwrap_or_default().to_string();
    Ok(match text(&item, TYPE) {
        Some("Reservation") => {
            Scanned::Reservation(Box::new(super::reservations::from_item(item)?))
        }
        Some("Seat") => {
            let showtime_id = showtime_of_seat_partition(&pk)
                .map(str::to_string)
                .ok_or_else(|| StoreError::Corrupt(format!("seat item in partition {pk}")))?;
            let (seat, state) = super::seats::seat_from_item(item)?;
            Scanned::Seat {
                showtime_id,
                seat,
                state,
            }
        }
        Some("WALLET") => Scanned::Wallet {
            member_id: member_of_partition(&pk).unwrap_or(&pk).to_string(),
            balance: item
                .get("balance")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        },
        Some("SETTLEMENT") => {
            let mut item = item;
            for k in [
                PK, SK, TYPE, "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK",
            ] {
                item.remove(k);
            }
            Scanned::Statement(Box::new(serde_dynamo::from_item(item)?))
        }
        _ => Scanned::Other,
    })
}

impl Store {
    /// RC1: one page of `segment` of `total`, from `start` (the last key of the page before, as
    /// [`super::cursor::encode`] wrote it); the items, how many there were, and where the next page starts.
    pub async fn reconcile_page(
        &self,
        (segment, total): (u32, u32),
        start: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<Scanned>, u64, Option<String>), StoreError> {
        let start_key = start.map(decode_key).transpose()?;
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .segment(i32::try_from(segment).unwrap_or(0))
            .total_segments(i32::try_from(total).unwrap_or(1))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        let next = out
            .last_evaluated_key
            .as_ref()
            .filter(|k| !k.is_empty())
            .and_then(super::cursor::encode);
        let items = out.items.unwrap_or_default();
        let count = items.len() as u64;
        let scanned = items
            .into_iter()
            .map(scanned)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((scanned, count, next))
    }

    /// RC2: the payments of these reservations (absent: none), and how many calls it took.
    pub async fn payments_by_reservation(
        &self,
        ids: &[String],
    ) -> Result<(HashMap<String, Payment>, u64), StoreError> {
        let (items, calls) = self
            .batch_get_all(ids.iter().map(|id| payment_key(id)).collect())
            .await?;
        let mut found = HashMap::new();
        for item in items {
            let p = super::payments::from_item(item)?;
            found.insert(p.reservation_id.clone(), p);
        }
        Ok((found, calls))
    }

    /// RC2: these reservations (absent: none).
    pub async fn reservations_by_id(
        &self,
        ids: &[String],
    ) -> Result<(HashMap<String, Reservation>, u64), StoreError> {
        let (items, calls) = self
            .batch_get_all(ids.iter().map(|id| reservation_key(id)).collect())
            .await?;
        let mut found = HashMap::new();
        for item in items {
            let r = super::reservations::from_item(item)?;
            found.insert(r.id.clone(), r);
        }
        Ok((found, calls))
    }

    /// RC2: these seats' states (absent: no item, AVAILABLE).
    pub async fn seat_states(
        &self,
        seats: &[(String, SeatId)],
    ) -> Result<(HashMap<(String, SeatId), SeatState>, u64), StoreError> {
        let (items, calls) = self
            .batch_get_all(
                seats
                    .iter()
                    .map(|(show, seat)| seat_key(show, *seat))
                    .collect(),
            )
            .await?;
        let mut found = HashMap::new();
        for item in items {
            let pk = text(&item, PK).unwrap_or_default().to_string();
            let Some(show) = showtime_of_seat_partition(&pk).map(str::to_string) else {
                continue;
            };
            let (seat, state) = super::seats::seat_from_item(item)?;
            found.insert((show, seat), state);
        }
        Ok((found, calls))
    }

    /// RC2: the money booked for these events (absent: booked nowhere), through their guards.
    pub async fn booked_money(
        &self,
        event_ids: &[String],
    ) -> Result<(HashMap<String, Money>, u64), StoreError> {
        let (guards, mut calls) = self
            .batch_get_all(event_ids.iter().map(|e| settled_key(e)).collect())
            .await?;
        let keys: Vec<Item> = guards
            .iter()
            .filter_map(|g| {
                let event = event_of_settled_partition(text(g, PK)?)?;
                let statement = text(g, "settlementId")?;
                Some(statement_money_key(statement, event))
            })
            .collect();
        let (items, more) = self.batch_get_all(keys).await?;
        calls += more;
        let mut found = HashMap::new();
        for mut item in items {
            for k in [PK, SK, TYPE] {
                item.remove(k);
            }
            let m: Money = serde_dynamo::from_item(item)?;
            found.insert(m.event_id.clone(), m);
        }
        Ok((found, calls))
    }

    /// RC3: the sum of a wallet's ledger and how many lines it has.
    pub async fn ledger_sum(&self, member_id: &str) -> Result<(i64, u64), StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("PK = :pk AND begins_with(SK, :ledger)")
            .expression_attribute_values(":pk", s(member_partition(member_id)))
            .expression_attribute_values(":ledger", s(LEDGER_PREFIX))
            .projection_expression("amount");
        let amounts = self
            .query_all(query, |item| {
                Ok(Some(
                    item.get("amount")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0),
                ))
            })
            .await?;
        Ok((amounts.iter().sum(), amounts.len() as u64))
    }

    /// RC5.
    pub async fn record_reconcile_page(
        &self,
        run_id: &str,
        (segment, page): (u32, u32),
        result: &PageResult,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut item: Item = serde_dynamo::to_item(result)?;
        item.insert(PK.into(), s(reconciliation_partition(run_id)));
        item.insert(SK.into(), s(segment_page_sk(segment, page)));
        item.insert(TYPE.into(), s("RECONCILE_PAGE"));
        item.insert("expiresAt".into(), n(expires_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// RC6.
    pub async fn reconcile_pages(&self, run_id: &str) -> Result<Vec<PageResult>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("PK = :pk AND begins_with(SK, :seg)")
            .expression_attribute_values(":pk", s(reconciliation_partition(run_id)))
            .expression_attribute_values(":seg", s(SEGMENT_PREFIX));
        self.query_all(query, |mut item| {
            for k in [PK, SK, TYPE, "expiresAt"] {
                item.remove(k);
            }
            Ok(Some(serde_dynamo::from_item(item)?))
        })
        .await
    }

    /// RC7: the run's report, and the same as the latest.
    pub async fn put_reconcile_report<T: Serialize>(
        &self,
        run_id: &str,
        report: &T,
    ) -> Result<(), StoreError> {
        for run in [run_id, LATEST_RUN] {
            let mut item: Item = serde_dynamo::to_item(report)?;
            item.extend(reconciliation_report_key(run));
            item.insert(TYPE.into(), s("RECONCILE_REPORT"));
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await?;
        }
        Ok(())
    }

    /// RC7: a run's report (`LATEST`: the last one).
    pub async fn reconcile_report<T: for<'de> Deserialize<'de>>(
        &self,
        run_id: &str,
    ) -> Result<Option<T>, StoreError> {
        let key = reconciliation_report_key(run_id);
        match self.get_consistent(key).await? {
            Some(mut item) => {
                for k in [PK, SK, TYPE] {
                    item.remove(k);
                }
                Ok(Some(serde_dynamo::from_item(item)?))
            }
            None => Ok(None),
        }
    }

    /// [`Store::batch_get_consistent`] over any number of keys, 100 at a time; the items and the calls made.
    async fn batch_get_all(&self, keys: Vec<Item>) -> Result<(Vec<Item>, u64), StoreError> {
        let keys = unique_keys(keys);
        let mut found = Vec::with_capacity(keys.len());
        let mut calls = 0;
        for chunk in keys.chunks(100) {
            found.extend(self.batch_get_consistent(chunk.to_vec()).await?);
            calls += 1;
        }
        Ok((found, calls))
    }
}

/// Each key once, in their first order: BatchGetItem refuses a key twice (two seats of one holder, say).
fn unique_keys(keys: Vec<Item>) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter()
        .filter(|k| {
            seen.insert((
                text(k, PK).map(str::to_owned),
                text(k, SK).map(str::to_owned),
            ))
        })
        .collect()
}

/// A scan cursor back to a key (every key attribute of the table's items is a string).
fn decode_key(raw: &str) -> Result<Item, StoreError> {
    use base64::Engine;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| StoreError::BadCursor)?;
    let plain: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&json).map_err(|_| StoreError::BadCursor)?;
    if !plain.contains_key(PK) || !plain.contains_key(SK) || plain.len() != 2 {
        return Err(StoreError::BadCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_batch_asks_for_each_key_once() {
        // Equal keys built apart (their maps iterate in different orders) are still one key.
        let key = |pk: &str| {
            let mut k = super::Item::new();
            k.insert(super::PK.to_string(), super::s(pk));
            k.insert(super::SK.to_string(), super::s("META"));
            k
        };
        let unique =
            super::unique_keys(vec![key("RES#1"), key("RES#2"), key("RES#1"), key("RES#1")]);
        assert_eq!(unique, vec![key("RES#1"), key("RES#2")]);
    }

    #[test]
    fn a_scan_cursor_round_trips() {
        let key = super::Item::from([
            (super::PK.to_string(), super::s("RES#1")),
            (super::SK.to_string(), super::s("META")),
        ]);
        let raw = super::super::cursor::encode(&key).expect("encoded");
        assert_eq!(super::decode_key(&raw).expect("decoded"), key);
        assert!(super::decode_key("not a cursor").is_err());
    }
}
