//! Payment records: one per reservation, beside it in the reservation's partition.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | PY1 | start a payment (WAITING), once per reservation | `PutItem` `attribute_not_exists(PK)`; when it exists, the stored one is used | `RES#<reservationId>` / `PAY#<paymentId>` |
//! | PY2 | a reservation's payment | `GetItem`, consistent | same |
//! | PY3 | record the outcome (COMPLETED, FAILED) or a refund | `PutItem` `version = :seen` (optimistic) | same |
//! | PY4 | payments by status and time (admins; the reconciliation check) | `Query` GSI2 | `GSI2PK = PAYSTATUS#<STATUS>`, `GSI2SK = <updatedAt>#<id>` |
//! | PY5 | keep / read the task token of a pay-later wait | `PutItem` / `GetItem` consistent, TTL `expiresAt` | `RES#<reservationId>` / `TASK` |

use super::{s, Item, Store, GSI2PK, GSI2SK, PK, SK, TYPE};
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

    /// PY1: the reservation's payment, created WAITING as `p` unless one exists (then the stored one).
    pub async fn start_payment(&self, p: &Payment) -> Result<Payment, AppError> {
        match self.put_new(item(p)?, format!("payment {}", p.id)).await {
            Ok(()) => Ok(p.clone()),
            Err(AppError::Conflict(_)) => self
                .get_payment(&p.reservation_id)
                .await?
                .ok_or_else(|| AppError::Corrupt(format!("payment {} vanished", p.id))),
            Err(e) => Err(e),
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
