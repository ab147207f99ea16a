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

use super::{s, Item, Store, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, PK, SK, TYPE};
use crate::domain::payment::{payment_id, Payment};
use crate::error::AppError;

fn key(reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("RES#{reservation_id}"))),
        (SK.into(), s(format!("PAY#{}", payment_id(reservation_id)))),
    ])
}

fn item(p: &Payment) -> Result<Item, AppError> {
    let mut item: Item = serde_dynamo::to_item(p).map_err(|e| AppError::Corrupt(e.to_string()))?;
    item.extend(key(&p.reservation_id));
    item.insert(TYPE.into(), s("Payment"));
    item.insert(GSI2PK.into(), s(format!("PAYSTATUS#{}", p.status.as_str())));
    item.insert(GSI2SK.into(), s(format!("{}#{}", p.updated_at, p.id)));
    let by_creation = format!("{}#{}", p.created_at, p.id);
    item.insert(GSI1PK.into(), s(format!("MEMBER#{}#PAY", p.member_id)));
    item.insert(GSI1SK.into(), s(by_creation.clone()));
    if !p.performance_id.is_empty() {
        item.insert(GSI3PK.into(), s(format!("PERF#{}#PAY", p.performance_id)));
        item.insert(GSI3SK.into(), s(by_creation));
    }
    Ok(item)
}

fn from_item(item: Item) -> Result<Payment, AppError> {
    Ok(serde_dynamo::from_item(item)?)
}

impl Store {
    /// PY2.
    pub async fn get_payment(&self, reservation_id: &str) -> Result<Option<Payment>, AppError> {
        self.get_consistent(key(reservation_id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// PY1: the reservation's payment, created WAITING as `p` unless one exists (then the stored one), in one
    /// transaction with a check that the reservation is still HELD at `reservation_version` (so a change of
    /// seats and the payment of the old price cannot both happen). A changed reservation is a
    /// [`AppError::Conflict`] (the saga step retries with the reservation read again).
    pub async fn start_payment(
        &self,
        p: &Payment,
        reservation_version: u64,
    ) -> Result<Payment, AppError> {
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
                        .set_key(Some(super::reservations::reservation_key(
                            &p.reservation_id,
                        )))
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
                .ok_or_else(|| AppError::Corrupt(format!("payment {} vanished", p.id))),
            Err(_) => Err(AppError::Conflict(format!(
                "reservation {} changed before its payment started",
                p.reservation_id
            ))),
        }
    }

    /// PY3: stores `p` if the stored version is still `previous_version`.
    pub async fn replace_payment(
        &self,
        p: &Payment,
        previous_version: u64,
    ) -> Result<(), AppError> {
        self.put_if_version(item(p)?, previous_version, "payment", &p.id)
            .await
    }
}

fn task_key(reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("RES#{reservation_id}"))),
        (SK.into(), s("TASK")),
    ])
}

impl Store {
    /// PY5: the task token of the saga's pay-later wait (kept a day at most).
    pub async fn put_payment_task(
        &self,
        reservation_id: &str,
        token: &str,
    ) -> Result<(), AppError> {
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
    pub async fn payment_task(&self, reservation_id: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .get_consistent(task_key(reservation_id))
            .await?
            .and_then(|item| item.get("taskToken").and_then(|v| v.as_s().ok()).cloned()))
    }
}
