//! Payment records: one per reservation, beside it in the reservation's partition.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | PY1 | start a payment (WAITING), once per reservation, on the hold's version | `TransactWriteItems`: Put `attribute_not_exists(PK)` + ConditionCheck reservation `#status = :held AND version = :seen`; when it exists, the stored one is used | `RES#<reservationId>` / `PAY#<paymentId>` |
//! | PY2 | a reservation's payment | `GetItem`, consistent | same |
//! | PY3 | record the outcome (COMPLETED, FAILED) or a refund | `PutItem` `version = :seen` (optimistic) | same |
//! | PY4 | payments by status and time (admins; the reconciliation check) | `Query` GSI2 | `GSI2PK = PAYSTATUS#<STATUS>`, `GSI2SK = <updatedAt>#<id>` |
//! | PY6 | a member's payments, newest first (admins) | `Query` GSI1, descending; period = `GSI1SK BETWEEN` | `GSI1PK = MEMBER#<memberId>#PAY`, `GSI1SK = <createdAt>#<id>` |
//! | PY7 | a performance's payments, newest first (admins) | `Query` GSI3, descending; period = `GSI3SK BETWEEN` | `GSI3PK = PERF#<performanceId>#PAY`, `GSI3SK = <createdAt>#<id>` |
//! | PY5 | keep / read the task token of a pay-later wait | `PutItem` / `GetItem` consistent, TTL `expiresAt` | `RES#<reservationId>` / `TASK` |

use super::keys::{
    member_payments_pk, payment_index_keys, payment_key, payments_by_status_pk,
    performance_payments_pk, task_key,
};
use super::StoreError;
use super::{s, Item, Store, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, PK, SK, TYPE};
use crate::domain::payment::Payment;

fn item(p: &Payment) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend(payment_key(&p.reservation_id));
    item.insert(TYPE.into(), s("Payment"));
    for (name, value) in payment_index_keys(p) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

pub(crate) fn from_item(item: Item) -> Result<Payment, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

impl Store {
    /// PY2.
    pub async fn get_payment(&self, reservation_id: &str) -> Result<Option<Payment>, StoreError> {
        self.get_consistent(payment_key(reservation_id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// PY1: the reservation's payment, created WAITING as `p` unless one exists (then the stored one), in one
    /// transaction with a check that the reservation is still HELD at `reservation_version` (so a change of
    /// seats and the payment of the old price cannot both happen). A changed reservation is a
    /// [`StoreError::Conflict`] (the saga step retries with the reservation read again).
    pub async fn start_payment(
        &self,
        p: &Payment,
        reservation_version: u64,
    ) -> Result<Payment, StoreError> {
        use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
        let items = vec![
            TransactWriteItem::builder()
                .put(super::built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item(p)?))
                        .condition_expression("attribute_not_exists(PK)")
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .condition_check(super::built(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(super::keys::reservation_key(&p.reservation_id)))
                        .condition_expression("#status = :held AND version = :seen")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":held", s("HELD"))
                        .expression_attribute_values(":seen", super::n(reservation_version))
                        .build(),
                )?)
                .build(),
        ];
        match self
            .transact(items, "the reservation is being changed; try again")
            .await?
        {
            Ok(()) => Ok(p.clone()),
            Err(failed) if failed.first().copied().unwrap_or(false) => self
                .get_payment(&p.reservation_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("payment {} vanished", p.id))),
            Err(_) => Err(StoreError::Conflict(format!(
                "reservation {} changed before its payment started",
                p.reservation_id
            ))),
        }
    }

    /// PY3: stores `p` if the stored version is still `previous_version`, with the events that report the
    /// change (E1, one transaction; a plain conditional put when there are none).
    pub async fn replace_payment(
        &self,
        p: &Payment,
        previous_version: u64,
        events: &[crate::events::Event],
    ) -> Result<(), StoreError> {
        self.put_if_version(item(p)?, previous_version, ("payment", &p.id), events)
            .await
    }
}

impl Store {
    /// PY5: the task token of the saga's pay-later wait (kept a day at most).
    pub async fn put_payment_task(
        &self,
        reservation_id: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        let mut item = task_key(reservation_id);
        item.insert(TYPE.into(), s("PaymentTask"));
        item.insert("taskToken".into(), s(token));
        let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 86_400;
        item.insert("expiresAt".into(), super::n(expires));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// PY5.
    pub async fn payment_task(&self, reservation_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_consistent(task_key(reservation_id))
            .await?
            .and_then(|item| item.get("taskToken").and_then(|v| v.as_s().ok()).cloned()))
    }
}

/// Which payments an admin lists, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentListing<'a> {
    /// PY6.
    Member(&'a str),
    /// PY7.
    Performance(&'a str),
    /// PY4 (sorted by their last change).
    Status(crate::domain::payment::PaymentStatus),
}

impl Store {
    /// PY4, PY6, PY7: one page of payments, newest first, within `[from, to]` (RFC 3339 instants compared as
    /// text, which their fixed UTC format allows) on the index's sort key, optionally only those in `status`
    /// (a `FilterExpression` when the index is not the status one).
    pub async fn list_payments(
        &self,
        listing: PaymentListing<'_>,
        status: Option<crate::domain::payment::PaymentStatus>,
        (from, to): (&str, &str),
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<super::cursor::Page<Payment>, StoreError> {
        use super::{cursor as cursors, GSI1, GSI2, GSI3};
        let (index, pk_name, sk_name, partition) = match listing {
            PaymentListing::Member(m) => (GSI1, GSI1PK, GSI1SK, member_payments_pk(m)),
            PaymentListing::Performance(p) => (GSI3, GSI3PK, GSI3SK, performance_payments_pk(p)),
            PaymentListing::Status(st) => (GSI2, GSI2PK, GSI2SK, payments_by_status_pk(st)),
        };
        let start_key = cursor
            .map(|raw| cursors::decode(raw, &[PK, SK, pk_name, sk_name], pk_name, &partition))
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":from", s(from))
            // `~` sorts after every character of an id: the whole last instant is in.
            .expression_attribute_values(":to", s(format!("{to}~")))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key);
        if let (Some(st), false) = (status, matches!(listing, PaymentListing::Status(_))) {
            query = query
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(st.as_str()));
        }
        let out = query.send().await?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(super::cursor::Page {
            items,
            next_cursor: out.last_evaluated_key.as_ref().and_then(cursors::encode),
        })
    }
}
