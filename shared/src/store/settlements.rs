//! Settlement statements (docs/settlement.md): one per organizer, Korean day and currency.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | ST1 | a statement | `GetItem`, consistent | `STMT#<statementId>` / `META` |
//! | ST2 | open a statement (its first money) | `PutItem` `attribute_not_exists(PK)`, OPEN | same; GSI1 `ORG#<organizerId>#STMT` / `<day>#<currency>`, GSI2 `STMTSTATUS#OPEN` / `<day>#<organizerId>#<currency>`, GSI3 `STMTDAY#<day>` / `<organizerId>#<currency>` |
//! | ST3 | book one event's money | `TransactWriteItems` (3 items): ConditionCheck statement `#status = :open` + Put money `attribute_not_exists(PK)` + Put guard `attribute_not_exists(PK)` | statement; `STMT#<statementId>` / `MONEY#<eventId>`; `SETTLED#<eventId>` / `SETTLED` |
//! | ST4 | a statement's money, to close it | `Query` `PK = STMT#<id> AND begins_with(SK, MONEY#)`, consistent, paginated | the money items |
//! | ST5 | close | `UpdateItem` `#status = :open` → CLOSED (freezes it: ST3 fails from here on), then `UpdateItem` `#status = :closed` → lines, totals, rate | statement; GSI2 moves to `STMTSTATUS#CLOSED` |
//! | ST6 | record the payout | `UpdateItem` `#status = :closed` → PAID, reference, by, at | statement; GSI2 moves to `STMTSTATUS#PAID` |
//! | ST7 | an organizer's statements, days `from..=to` | `Query` GSI1 `GSI1PK = ORG#<id>#STMT AND GSI1SK BETWEEN :from AND :to~`, paginated | |
//! | ST8 | statements in a status, days `from..=to` (admins) | `Query` GSI2 `GSI2PK = STMTSTATUS#<S> AND GSI2SK BETWEEN ...`, paginated | |
//! | ST9 | a day's statements, to close them | `Query` GSI3 `GSI3PK = STMTDAY#<day>`, paginated | |
//! | ST10 | an organizer's commission rate (no item: the stack's default) | `GetItem`; `PutItem` to set it | `MEMBER#<organizerId>` / `COMMISSION` |
//!
//! The statement item is written when it opens, closes and is paid, never per sale: each event's money is an
//! item of its own (ST3), so a rush writes many small items, not one hot counter. The ConditionCheck makes
//! booking and closing exclusive: money is either in the statement before it closed, or its booking fails
//! and it goes to a later open statement as an adjustment. The guard, keyed by the event alone, keeps an
//! event's money in one statement however often and however late it is delivered.

use super::error::conditional;
use super::keys::{
    commission_key, organizer_statements_pk, settled_key, statement_index_keys, statement_key,
    statement_money_key, statement_partition, statements_by_status_pk, statements_of_day_pk,
    MONEY_PREFIX,
};
use super::{
    built, n, s, Item, Store, StoreError, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, PK, SK,
    TYPE,
};
use crate::domain::settlement::{Line, Money, SettlementStatus, Totals};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

/// A settlement statement: what the platform owes one organizer for one Korean day's money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// `<day>_<currency>_<organizerId>`.
    pub settlement_id: String,
    pub organizer_id: String,
    /// The Korean calendar day (UTC+9), `YYYY-MM-DD`.
    pub day: String,
    pub currency: String,
    pub status: SettlementStatus,
    pub opened_at: String,
    /// The commission rate, in basis points of net sales: fixed when the statement closes (on an open one, the
    /// rate it would close at now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_rate_bps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// The sums of the lines (an open statement's so far; absent in listings of open statements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    /// Per performance and showtime, then one per adjustment (money of an earlier, closed day). Absent in
    /// listings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
}

/// What booking an event's money did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booked {
    /// Booked in this statement.
    New,
    /// This event's money was booked before (in this statement or another): nothing again.
    Already,
    /// The statement is closed (or paid): book it in a later one.
    Closed,
}

fn statement_item(st: &Statement) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(st)?;
    item.extend(statement_key(&st.settlement_id));
    item.insert(TYPE.into(), s("SETTLEMENT"));
    for (name, value) in statement_index_keys(&st.organizer_id, &st.day, &st.currency, st.status) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

pub(crate) fn statement_of(mut item: Item) -> Result<Statement, StoreError> {
    for k in [PK, SK, TYPE, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK] {
        item.remove(k);
    }
    Ok(serde_dynamo::from_item(item)?)
}

/// Which statements a listing reads.
#[derive(Debug, Clone, Copy)]
pub enum StatementListing<'a> {
    /// ST7: one organizer's.
    Organizer(&'a str),
    /// ST8: those in a status.
    Status(SettlementStatus),
    /// ST9: one day's.
    Day(&'a str),
}

impl Store {
    /// ST1.
    pub async fn statement(&self, id: &str) -> Result<Option<Statement>, StoreError> {
        self.get_consistent(statement_key(id))
            .await?
            .map(statement_of)
            .transpose()
    }

    /// ST2: opens `st` unless it exists; the statement as stored either way.
    pub async fn open_statement(&self, st: &Statement) -> Result<Statement, StoreError> {
        if self.put_if_absent(statement_item(st)?).await? {
            return Ok(st.clone());
        }
        self.statement(&st.settlement_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("statement {} vanished", st.settlement_id)))
    }

    /// ST3: books `money` in statement `id` if it is open and the event's money is nowhere yet.
    pub async fn book_money(&self, id: &str, money: &Money) -> Result<Booked, StoreError> {
        let mut item: Item = serde_dynamo::to_item(money)?;
        item.extend(statement_money_key(id, &money.event_id));
        item.insert(TYPE.into(), s("SETTLEMENT_MONEY"));
        let mut guard = settled_key(&money.event_id);
        guard.insert(TYPE.into(), s("SETTLED"));
        guard.insert("settlementId".into(), s(id));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(statement_key(id)))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s(SettlementStatus::Open.as_str()))
            .build();
        let put = |item: Item| {
            built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(PK)")
                    .build(),
            )
        };
        let items = vec![
            TransactWriteItem::builder()
                .condition_check(built(check)?)
                .build(),
            TransactWriteItem::builder().put(put(item)?).build(),
            TransactWriteItem::builder().put(put(guard)?).build(),
        ];
        match self.transact(items, "a statement is being booked").await? {
            Ok(()) => Ok(Booked::New),
            // The guard (or this statement's money item) exists: booked before.
            Err(failed) if failed.get(1) == Some(&true) || failed.get(2) == Some(&true) => {
                Ok(Booked::Already)
            }
            Err(_) => Ok(Booked::Closed),
        }
    }

    /// ST4: every money item of statement `id`.
    pub async fn statement_money(&self, id: &str) -> Result<Vec<Money>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("PK = :pk AND begins_with(SK, :money)")
            .expression_attribute_values(":pk", s(statement_partition(id)))
            .expression_attribute_values(":money", s(MONEY_PREFIX));
        self.query_all(query, |mut item| {
            for k in [PK, SK, TYPE] {
                item.remove(k);
            }
            Ok(Some(serde_dynamo::from_item(item)?))
        })
        .await
    }

    /// ST5, first half: OPEN → CLOSED, with the commission rate it will be priced at (a re-run prices it
    /// the same). `false` when it was not open (closed already, or paid).
    pub async fn freeze_statement(
        &self,
        id: &str,
        now: &str,
        rate_bps: u32,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(statement_key(id)))
            .condition_expression("#status = :open")
            .update_expression(
                "SET #status = :closed, closedAt = :now, commissionRateBps = :rate, GSI2PK = :gsi2",
            )
            .expression_attribute_values(":rate", n(rate_bps))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s(SettlementStatus::Open.as_str()))
            .expression_attribute_values(":closed", s(SettlementStatus::Closed.as_str()))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(
                ":gsi2",
                s(statements_by_status_pk(SettlementStatus::Closed)),
            )
            .send()
            .await;
        Ok(conditional(update)?.is_some())
    }

    /// ST5, second half: the closed statement's lines and totals (the same each time they are computed: its
    /// money and rate no longer change). `false` when it is not CLOSED (paid meanwhile: its figures stand).
    pub async fn write_closed(
        &self,
        id: &str,
        lines: &[Line],
        totals: &Totals,
    ) -> Result<bool, StoreError> {
        let lines: AttributeValue = serde_dynamo::to_attribute_value(lines)?;
        let totals: AttributeValue = serde_dynamo::to_attribute_value(totals)?;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(statement_key(id)))
            .condition_expression("#status = :closed")
            .update_expression("SET #lines = :lines, totals = :totals")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lines", "lines")
            .expression_attribute_values(":closed", s(SettlementStatus::Closed.as_str()))
            .expression_attribute_values(":lines", lines)
            .expression_attribute_values(":totals", totals)
            .send()
            .await;
        Ok(conditional(update)?.is_some())
    }

    /// ST6: CLOSED (with its figures) → PAID. `None` when it is not closed: the caller reads why.
    pub async fn record_payout(
        &self,
        id: &str,
        reference: &str,
        (by, at): (&str, &str),
    ) -> Result<Option<Statement>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(statement_key(id)))
            .condition_expression("#status = :closed AND attribute_exists(totals)")
            .update_expression(
                "SET #status = :paid, payoutReference = :reference, paidBy = :by, paidAt = :at, GSI2PK = :gsi2",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":closed", s(SettlementStatus::Closed.as_str()))
            .expression_attribute_values(":paid", s(SettlementStatus::Paid.as_str()))
            .expression_attribute_values(":reference", s(reference))
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(
                ":gsi2",
                s(statements_by_status_pk(SettlementStatus::Paid)),
            )
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        conditional(update)?
            .and_then(|out| out.attributes)
            .map(statement_of)
            .transpose()
    }

    /// ST7–ST9: one page of statements, days `from..=to` (`YYYY-MM-DD`; ignored for ST9), in day order.
    pub async fn list_statements(
        &self,
        listing: StatementListing<'_>,
        (from, to): (&str, &str),
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<super::cursor::Page<Statement>, StoreError> {
        let (index, pk_name, sk_name, partition) = match listing {
            StatementListing::Organizer(o) => ("GSI1", GSI1PK, GSI1SK, organizer_statements_pk(o)),
            StatementListing::Status(st) => ("GSI2", GSI2PK, GSI2SK, statements_by_status_pk(st)),
            StatementListing::Day(d) => ("GSI3", GSI3PK, GSI3SK, statements_of_day_pk(d)),
        };
        let start_key = cursor
            .map(|raw| super::cursor::decode(raw, &[PK, SK, pk_name, sk_name], pk_name, &partition))
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(partition))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key);
        query = match listing {
            StatementListing::Day(_) => query.key_condition_expression("#pk = :pk"),
            _ => query
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":from", s(from))
                // Every sort key of day `to` starts with it and is below `to~`.
                .expression_attribute_values(":to", s(format!("{to}~"))),
        };
        let out = query.send().await?;
        let next_cursor = out
            .last_evaluated_key
            .as_ref()
            .and_then(super::cursor::encode);
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(statement_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(super::cursor::Page { items, next_cursor })
    }

    /// ST10: the organizer's own rate, if one was set.
    pub async fn commission_rate(&self, organizer_id: &str) -> Result<Option<u32>, StoreError> {
        Ok(self
            .get_consistent(commission_key(organizer_id))
            .await?
            .and_then(|item| item.get("rateBps").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|raw| raw.parse().ok()))
    }

    /// ST10: sets the organizer's own rate (statements closed from now on use it).
    pub async fn set_commission_rate(
        &self,
        organizer_id: &str,
        rate_bps: u32,
        (by, at): (&str, &str),
    ) -> Result<(), StoreError> {
        let mut item = commission_key(organizer_id);
        item.insert(TYPE.into(), s("COMMISSION"));
        item.insert("rateBps".into(), n(rate_bps));
        item.insert("setBy".into(), s(by));
        item.insert("setAt".into(), s(at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }
}
