//! Wallets and their ledgers.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | W1 | a member's wallet (no item = an empty wallet) | `GetItem`, consistent | `MEMBER#<id>` / `WALLET` |
//! | W2 | apply one ledger line (debit or credit) | `TransactWriteItems` (3 items): Put or Update wallet `attribute_not_exists(PK)` / `version = :seen AND balance = :seen` → new balance, version + 1; Put line `attribute_not_exists(PK)`; Put guard `attribute_not_exists(PK)` | wallet; `MEMBER#<id>` / `LEDGER#<seq:012>`; `MEMBER#<id>` / `LINE#<lineId>` |
//! | W3 | the ledger, newest first | `Query` `PK = MEMBER#<id> AND begins_with(SK, LEDGER#)`, descending | the lines |
//! | W4 | a line by its id (a retried change finds what it did) | `GetItem`, consistent, on the guard (it holds the line's sequence) | `MEMBER#<id>` / `LINE#<lineId>` |
//!
//! The balance and the line change together, under the wallet's version, so the balance is always the sum of
//! the ledger and never negative, and two payments that read the same balance cannot both spend it: the
//! second finds the version moved and reads again. The guard makes a line's id unique, so a retried change
//! (a saga step, a top-up replayed with its idempotency key) applies once. A line's place in the ledger is the
//! wallet's version after it (`LEDGER#<seq>`), so the ledger sorts in the order the balance moved.

use super::keys::{guard_key, ledger_line_key, member_partition, wallet_key, LEDGER_PREFIX};
use super::StoreError;
use super::{built, cursor, n, s, Item, Store, PK, SK, TYPE};
use crate::domain::wallet::{LedgerKind, LedgerLine, WalletError};
use crate::store::cursor::Page;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

/// A member's wallet as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalletState {
    pub balance: u64,
    /// 0 for a wallet that has no item yet.
    pub version: u64,
}

/// What applying a line did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The line is new and the balance moved.
    New(LedgerLine),
    /// A line with this id was applied before (a retry): nothing moved again.
    Already(LedgerLine),
}

impl Applied {
    pub fn line(&self) -> &LedgerLine {
        match self {
            Applied::New(l) | Applied::Already(l) => l,
        }
    }
}

/// Attempts of W2 when another change moved the wallet between its read and its write.
const APPLY_ATTEMPTS: u32 = 8;

fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn line_item(line: &LedgerLine, seq: u64) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(line).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend(ledger_line_key(&line.member_id, seq));
    item.insert(TYPE.to_string(), s("LEDGER_LINE"));
    Ok(item)
}

fn line_of(mut item: Item) -> Result<LedgerLine, StoreError> {
    for k in [PK, SK, TYPE] {
        item.remove(k);
    }
    Ok(serde_dynamo::from_item(item)?)
}

impl Store {
    /// W1.
    pub async fn wallet(&self, member_id: &str) -> Result<WalletState, StoreError> {
        Ok(self
            .get_consistent(wallet_key(member_id))
            .await?
            .map(|item| WalletState {
                balance: number(&item, "balance"),
                version: number(&item, "version"),
            })
            .unwrap_or_default())
    }

    /// W4.
    pub async fn ledger_line(
        &self,
        member_id: &str,
        line_id: &str,
    ) -> Result<Option<LedgerLine>, StoreError> {
        let Some(guard) = self.get_consistent(guard_key(member_id, line_id)).await? else {
            return Ok(None);
        };
        let key = ledger_line_key(member_id, number(&guard, "seq"));
        self.get_consistent(key).await?.map(line_of).transpose()
    }

    /// W2: adds `amount` (signed) to the member's balance with the ledger line `line_id`, once. A debit the
    /// balance cannot cover is `Err(Ok(WalletError::InsufficientPoints))`, and nothing is written.
    pub async fn apply_ledger_line(
        &self,
        member_id: &str,
        line_id: &str,
        kind: LedgerKind,
        amount: i64,
        reference: &str,
        at: &str,
    ) -> Result<Result<Applied, WalletError>, StoreError> {
        for _ in 0..APPLY_ATTEMPTS {
            if let Some(done) = self.ledger_line(member_id, line_id).await? {
                return Ok(Ok(Applied::Already(done)));
            }
            let wallet = self.wallet(member_id).await?;
            let new_balance = if amount < 0 {
                crate::domain::wallet::debit(wallet.balance, amount.unsigned_abs())
            } else {
                crate::domain::wallet::credit(wallet.balance, amount.unsigned_abs())
            };
            let new_balance = match new_balance {
                Ok(b) => b,
                Err(e) => return Ok(Err(e)),
            };
            let seq = wallet.version + 1;
            let line = LedgerLine {
                id: line_id.to_string(),
                member_id: member_id.to_string(),
                kind,
                amount,
                balance_after: new_balance,
                reference: reference.to_string(),
                at: at.to_string(),
            };
            let wallet_write = if wallet.version == 0 {
                let mut item = wallet_key(member_id);
                item.insert(TYPE.to_string(), s("WALLET"));
                item.insert("memberId".to_string(), s(member_id));
                item.insert("balance".to_string(), n(new_balance));
                item.insert("version".to_string(), n(seq));
                TransactWriteItem::builder()
                    .put(built(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .condition_expression("attribute_not_exists(PK)")
                            .build(),
                    )?)
                    .build()
            } else {
                TransactWriteItem::builder()
                    .update(built(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(wallet_key(member_id)))
                            .update_expression("SET balance = :new, version = :next")
                            .condition_expression("version = :seen AND balance = :balance")
                            .expression_attribute_values(":new", n(new_balance))
                            .expression_attribute_values(":next", n(seq))
                            .expression_attribute_values(":seen", n(wallet.version))
                            .expression_attribute_values(":balance", n(wallet.balance))
                            .build(),
                    )?)
                    .build()
            };
            let mut guard = guard_key(member_id, line_id);
            guard.insert(TYPE.to_string(), s("LEDGER_GUARD"));
            guard.insert("seq".to_string(), n(seq));
            let items = vec![
                wallet_write,
                TransactWriteItem::builder()
                    .put(built(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(line_item(&line, seq)?))
                            .condition_expression("attribute_not_exists(PK)")
                            .build(),
                    )?)
                    .build(),
                TransactWriteItem::builder()
                    .put(built(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(guard))
                            .condition_expression("attribute_not_exists(PK)")
                            .build(),
                    )?)
                    .build(),
            ];
            match self.transact(items, "the wallet is busy; retry").await? {
                Ok(()) => return Ok(Ok(Applied::New(line))),
                // The wallet moved since the read, or the same line was applied meanwhile: read again.
                Err(_) => super::backoff(0).await,
            }
        }
        Err(StoreError::Conflict(
            "the wallet changed on every attempt; retry".into(),
        ))
    }

    /// W3: one page of the ledger, newest first.
    pub async fn ledger_page(
        &self,
        member_id: &str,
        limit: u32,
        cursor_raw: Option<&str>,
    ) -> Result<Page<LedgerLine>, StoreError> {
        let partition = member_partition(member_id);
        let start_key = cursor_raw
            .map(|raw| cursor::decode(raw, &[PK, SK], PK, &partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":prefix", s(LEDGER_PREFIX))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .consistent_read(true)
            .send()
            .await?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(cursor::encode);
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(line_of)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_sort_in_the_order_the_balance_moved_and_round_trip() {
        use crate::store::keys::ledger_sort_key;
        assert!(ledger_sort_key(9) < ledger_sort_key(10));
        assert!(ledger_sort_key(999_999) < ledger_sort_key(1_000_000));
        let line = LedgerLine {
            id: "topup-1".into(),
            member_id: "m1".into(),
            kind: LedgerKind::Topup,
            amount: 5_000,
            balance_after: 5_000,
            reference: "ch_1".into(),
            at: "2026-12-01T00:00:00Z".into(),
        };
        let item = line_item(&line, 1).expect("item");
        assert_eq!(item[SK], s("LEDGER#000000000001"));
        assert_eq!(line_of(item).expect("line"), line);
    }
}
