//! The records of the test-mode payment provider (`payments::test_mode`): what a real provider keeps
//! on its side, kept here in our table so the local provider behaves the same across processes and retries.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | P1 | count an attempt of a charge (and read its outcome if it has one) | `UpdateItem` `ADD attempts :one`, `ALL_NEW` | `PSP#<chargeReference>` / `CHARGE` |
//! | P2 | record a charge's outcome once | `UpdateItem` `attribute_not_exists(outcome)`; on failure read it back (P1's key, consistent `GetItem`) | same |
//! | P3 | refund part of a charge once per refund key | `TransactWriteItems`: Update charge `refunded = :seen` → `refunded + :amount` (≤ amount, checked on the read) + Put `PSP#REFUND#<key>` / `REFUND` `attribute_not_exists(PK)` | both |
//! | P4 | look a charge up by its idempotency key (what became of a charge whose caller died) | `GetItem`, consistent | P1's key |
//! | P5 | was a refund made under this key | `GetItem`, consistent | `PSP#REFUND#<key>` / `REFUND` |

use super::error::conditional;
use super::keys::{charge_key, refund_key};
use super::StoreError;
use super::{n, s, Item, Store, TYPE};
use crate::domain::payment::CardSummary;
use crate::domain::provider::{ChargeOutcome, ProviderError, Refunded};
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};

/// A charge's reference: derived from its idempotency key, as a provider's id is fixed by its first call.
pub fn charge_reference(idempotency_key: &str) -> String {
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, idempotency_key.as_bytes());
    format!("ch_test_{}", id.simple())
}

/// The attempt just counted, and the outcome (with its amount) an earlier attempt recorded.
pub struct Attempt {
    pub number: u32,
    pub recorded: Option<(ChargeOutcome, u64)>,
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn outcome_of(item: &Item) -> Option<ChargeOutcome> {
    match text(item, "outcome")?.as_str() {
        "APPROVED" => Some(ChargeOutcome::Approved {
            reference: text(item, "reference")?,
            card: CardSummary {
                brand: text(item, "brand")?,
                last4: text(item, "last4")?,
            },
        }),
        "DECLINED" => Some(ChargeOutcome::Declined {
            code: text(item, "code")?,
        }),
        _ => None,
    }
}

impl Store {
    /// P1.
    pub async fn psp_charge_attempt(&self, idempotency_key: &str) -> Result<Attempt, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(charge_key(&charge_reference(idempotency_key))))
            .update_expression("ADD attempts :one SET #type = :type")
            .expression_attribute_names("#type", TYPE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":type", s("PSP_CHARGE"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        let item = out.attributes.unwrap_or_default();
        Ok(Attempt {
            number: u32::try_from(number(&item, "attempts")).unwrap_or(u32::MAX),
            recorded: outcome_of(&item).map(|o| (o, number(&item, "amount"))),
        })
    }

    /// P2: records `outcome` unless an earlier attempt recorded one; returns the one that stands.
    pub async fn psp_record_charge(
        &self,
        idempotency_key: &str,
        amount: u64,
        outcome: &ChargeOutcome,
    ) -> Result<ChargeOutcome, StoreError> {
        let key = charge_key(&charge_reference(idempotency_key));
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .condition_expression("attribute_not_exists(outcome)")
            .expression_attribute_values(":amount", n(amount))
            .expression_attribute_values(":zero", n(0));
        update = match outcome {
            ChargeOutcome::Approved { reference, card } => update
                // `reference` is a DynamoDB reserved word.
                .update_expression(
                    "SET outcome = :o, #ref = :r, brand = :b, last4 = :l, amount = :amount, refunded = :zero",
                )
                .expression_attribute_names("#ref", "reference")
                .expression_attribute_values(":o", s("APPROVED"))
                .expression_attribute_values(":r", s(reference))
                .expression_attribute_values(":b", s(&card.brand))
                .expression_attribute_values(":l", s(&card.last4)),
            ChargeOutcome::Declined { code } => update
                .update_expression("SET outcome = :o, code = :c, amount = :amount, refunded = :zero")
                .expression_attribute_values(":o", s("DECLINED"))
                .expression_attribute_values(":c", s(code)),
        };
        match conditional(update.send().await)? {
            Some(_) => Ok(outcome.clone()),
            None => self
                .get_consistent(key)
                .await?
                .as_ref()
                .and_then(outcome_of)
                .ok_or_else(|| {
                    StoreError::Corrupt("a test-mode charge without its outcome".into())
                }),
        }
    }

    /// P4: the outcome recorded for the charge made with `idempotency_key`; `None` when none was made.
    pub async fn psp_find_charge(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<ChargeOutcome>, StoreError> {
        Ok(self
            .get_consistent(charge_key(&charge_reference(idempotency_key)))
            .await?
            .as_ref()
            .and_then(outcome_of))
    }

    /// P5: whether a refund was made under `idempotency_key`.
    pub async fn psp_refund_made(&self, idempotency_key: &str) -> Result<bool, StoreError> {
        Ok(self
            .get_consistent(refund_key(idempotency_key))
            .await?
            .is_some())
    }

    /// P3: refunds `amount` of the charge `reference` once per `idempotency_key`.
    pub async fn psp_refund(
        &self,
        reference: &str,
        amount: u64,
        idempotency_key: &str,
    ) -> Result<Refunded, ProviderError> {
        let transient = |e: StoreError| ProviderError::Transient(e.to_string());
        let refund_key = refund_key(idempotency_key);
        let refunded = Refunded {
            reference: format!(
                "re_test_{}",
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, idempotency_key.as_bytes()).simple()
            ),
        };
        if self
            .get_consistent(refund_key.clone())
            .await
            .map_err(transient)?
            .is_some()
        {
            return Ok(refunded);
        }
        let charge = self
            .get_consistent(charge_key(reference))
            .await
            .map_err(transient)?
            .filter(|item| text(item, "outcome").as_deref() == Some("APPROVED"))
            .ok_or_else(|| ProviderError::Invalid(format!("no approved charge {reference}")))?;
        let (total, seen) = (number(&charge, "amount"), number(&charge, "refunded"));
        if amount == 0 || seen + amount > total {
            return Err(ProviderError::Invalid(format!(
                "a refund of {amount} exceeds the {} left of {reference}",
                total.saturating_sub(seen)
            )));
        }
        let update = crate::store::built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(charge_key(reference)))
                .update_expression("SET refunded = :new")
                .condition_expression("refunded = :seen")
                .expression_attribute_values(":new", n(seen + amount))
                .expression_attribute_values(":seen", n(seen))
                .build(),
        )
        .map_err(transient)?;
        let mut item = refund_key;
        item.insert(TYPE.to_string(), s("PSP_REFUND"));
        item.insert("charge".to_string(), s(reference));
        item.insert("amount".to_string(), n(amount));
        let put = crate::store::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build(),
        )
        .map_err(transient)?;
        match self
            .transact(
                vec![
                    TransactWriteItem::builder().update(update).build(),
                    TransactWriteItem::builder().put(put).build(),
                ],
                "the test-mode refund is busy",
            )
            .await
            .map_err(transient)?
        {
            Ok(()) => Ok(refunded),
            // The same key refunded meanwhile (then this is its replay), or another refund moved the total:
            // the caller retries with the same key and gets the right answer.
            Err(_) => Err(ProviderError::Transient(
                "test-mode refund raced; retry".into(),
            )),
        }
    }
}
