//! Payments: how a reservation is paid, and the record of it.
//!
//! A reservation has at most one [`Payment`] (`RES#<id>` / `PAY#<id>`). It is WAITING while the saga charges,
//! COMPLETED once the money moved, FAILED when it did not, and CANCELED / PART_CANCELED as refunds take some
//! or all of it back. The rules here mirror the store's conditional writes one for one.

use crate::rules::Pattern;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A card token from the provider's client-side SDK (`tok_...`); never a card number.
pub static CARD_TOKEN: Pattern = Pattern::new(
    r"^tok_[A-Za-z0-9_]{1,64}$",
    68,
    "must be a card token (tok_...) from the payment provider, never a card number",
);

/// How a buyer pays: wallet points, or a card through the payment provider (a token, never a card number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    Wallet,
    Card,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Wallet => "WALLET",
            PaymentMethod::Card => "CARD",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Waiting,
    Completed,
    Failed,
    Canceled,
    PartCanceled,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 5] = [
        PaymentStatus::Waiting,
        PaymentStatus::Completed,
        PaymentStatus::Failed,
        PaymentStatus::Canceled,
        PaymentStatus::PartCanceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Waiting => "WAITING",
            PaymentStatus::Completed => "COMPLETED",
            PaymentStatus::Failed => "FAILED",
            PaymentStatus::Canceled => "CANCELED",
            PaymentStatus::PartCanceled => "PART_CANCELED",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// What we keep of a card: its brand and last four digits, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
}

/// The payment of one reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    pub reservation_id: String,
    pub member_id: String,
    pub method: PaymentMethod,
    pub status: PaymentStatus,
    /// What was charged, in minor units of `currency`.
    pub amount: u64,
    /// What has been given back so far (never more than `amount`).
    pub refunded_amount: u64,
    /// The refunds applied, by id (`refund-<cancellationId>`, `refund-<reservationId>-full`): a refund
    /// applied twice is applied once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refund_ids: Vec<String>,
    /// What was bought, for the admins' listings.
    #[serde(default)]
    pub performance_id: String,
    #[serde(default)]
    pub showtime_id: String,
    pub currency: String,
    /// The provider's reference of the charge (cards), or the wallet ledger line (points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardSummary>,
    /// Why a FAILED payment failed (`card_declined`, `insufficient_funds`, `insufficient_points`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// A change the payment's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentRuleError {
    #[error("a {} payment cannot be {action}", .from.as_str())]
    Transition {
        from: PaymentStatus,
        action: &'static str,
    },
    #[error("a refund of {asked} exceeds the {left} still refundable")]
    RefundTooLarge { asked: u64, left: u64 },
    #[error("a refund must be more than 0")]
    EmptyRefund,
}

impl Payment {
    /// A payment about to be charged.
    pub fn waiting(
        reservation_id: &str,
        member_id: &str,
        method: PaymentMethod,
        amount: u64,
        currency: &str,
        now: &str,
    ) -> Payment {
        Payment {
            id: payment_id(reservation_id),
            reservation_id: reservation_id.to_string(),
            member_id: member_id.to_string(),
            method,
            status: PaymentStatus::Waiting,
            amount,
            refunded_amount: 0,
            refund_ids: Vec::new(),
            performance_id: String::new(),
            showtime_id: String::new(),
            currency: currency.to_string(),
            provider_reference: None,
            card: None,
            failure_reason: None,
            version: 1,
            created_at: now.to_string(),
            updated_at: now.to_string(),
        }
    }

    /// WAITING → COMPLETED. Completing a completed payment with the same reference is a no-op (retries).
    pub fn complete(
        &mut self,
        reference: String,
        card: Option<CardSummary>,
        now: &str,
    ) -> Result<bool, PaymentRuleError> {
        match self.status {
            PaymentStatus::Waiting => {
                self.status = PaymentStatus::Completed;
                self.provider_reference = Some(reference);
                self.card = card;
                self.touch(now);
                Ok(true)
            }
            PaymentStatus::Completed if self.provider_reference.as_deref() == Some(&reference) => {
                Ok(false)
            }
            from => Err(PaymentRuleError::Transition {
                from,
                action: "completed",
            }),
        }
    }

    /// WAITING → FAILED with a reason. Failing a failed payment is a no-op.
    pub fn fail(&mut self, reason: &str, now: &str) -> Result<bool, PaymentRuleError> {
        match self.status {
            PaymentStatus::Waiting => {
                self.status = PaymentStatus::Failed;
                self.failure_reason = Some(reason.to_string());
                self.touch(now);
                Ok(true)
            }
            PaymentStatus::Failed => Ok(false),
            from => Err(PaymentRuleError::Transition {
                from,
                action: "failed",
            }),
        }
    }

    /// Gives `amount` back as refund `refund_id`: PART_CANCELED while something is left, CANCELED once all of it
    /// is refunded. `Ok(false)` when that refund was applied already (a retry).
    pub fn refund(
        &mut self,
        refund_id: &str,
        amount: u64,
        now: &str,
    ) -> Result<bool, PaymentRuleError> {
        if self.refund_ids.iter().any(|id| id == refund_id) {
            return Ok(false);
        }
        if !matches!(
            self.status,
            PaymentStatus::Completed | PaymentStatus::PartCanceled
        ) {
            return Err(PaymentRuleError::Transition {
                from: self.status,
                action: "refunded",
            });
        }
        if amount == 0 {
            return Err(PaymentRuleError::EmptyRefund);
        }
        let left = self.refundable();
        if amount > left {
            return Err(PaymentRuleError::RefundTooLarge {
                asked: amount,
                left,
            });
        }
        self.refunded_amount += amount;
        self.refund_ids.push(refund_id.to_string());
        self.status = if self.refunded_amount == self.amount {
            PaymentStatus::Canceled
        } else {
            PaymentStatus::PartCanceled
        };
        self.touch(now);
        Ok(true)
    }

    /// What may still be refunded.
    pub fn refundable(&self) -> u64 {
        self.amount.saturating_sub(self.refunded_amount)
    }

    /// Money this payment moved and kept: the charge less its refunds (0 unless it completed).
    pub fn kept(&self) -> u64 {
        match self.status {
            PaymentStatus::Completed | PaymentStatus::PartCanceled | PaymentStatus::Canceled => {
                self.refundable()
            }
            PaymentStatus::Waiting | PaymentStatus::Failed => 0,
        }
    }

    fn touch(&mut self, now: &str) {
        self.version += 1;
        self.updated_at = now.to_string();
    }
}

/// A reservation has one payment; its id is derived, so every retry of the saga finds the same record.
pub fn payment_id(reservation_id: &str) -> String {
    format!("pay-{reservation_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting() -> Payment {
        Payment::waiting("r1", "m1", PaymentMethod::Card, 30_000, "KRW", "t0")
    }

    #[test]
    fn a_payment_completes_once_and_retries_are_no_ops() {
        let mut p = waiting();
        assert_eq!(p.kept(), 0);
        let card = CardSummary {
            brand: "visa".into(),
            last4: "4242".into(),
        };
        assert_eq!(
            p.complete("ch_1".into(), Some(card.clone()), "t1"),
            Ok(true)
        );
        assert_eq!(p.status, PaymentStatus::Completed);
        assert_eq!(p.complete("ch_1".into(), Some(card), "t2"), Ok(false));
        assert!(p.complete("ch_2".into(), None, "t2").is_err());
        assert!(p.fail("card_declined", "t2").is_err());
        assert_eq!(p.kept(), 30_000);
        assert_eq!(p.version, 2);
    }

    #[test]
    fn a_failed_payment_keeps_nothing_and_cannot_be_refunded() {
        let mut p = waiting();
        assert_eq!(p.fail("card_declined", "t1"), Ok(true));
        assert_eq!(p.fail("card_declined", "t2"), Ok(false));
        assert_eq!(p.failure_reason.as_deref(), Some("card_declined"));
        assert_eq!(p.kept(), 0);
        assert!(matches!(
            p.refund("r", 1, "t3"),
            Err(PaymentRuleError::Transition { .. })
        ));
    }

    #[test]
    fn refunds_never_exceed_the_charge() {
        let mut p = waiting();
        p.complete("ch_1".into(), None, "t1").unwrap();
        assert_eq!(p.refund("a", 0, "t2"), Err(PaymentRuleError::EmptyRefund));
        assert_eq!(p.refund("a", 10_000, "t2"), Ok(true));
        assert_eq!(p.refund("a", 10_000, "t2"), Ok(false), "a retried refund");
        assert_eq!(p.status, PaymentStatus::PartCanceled);
        assert_eq!((p.refunded_amount, p.kept()), (10_000, 20_000));
        assert_eq!(
            p.refund("b", 20_001, "t3"),
            Err(PaymentRuleError::RefundTooLarge {
                asked: 20_001,
                left: 20_000
            })
        );
        p.refund("b", 20_000, "t3").unwrap();
        assert_eq!(p.status, PaymentStatus::Canceled);
        assert_eq!(p.kept(), 0);
        assert!(p.refund("c", 1, "t4").is_err());
        assert_eq!(p.refund_ids, ["a", "b"]);
    }

    #[test]
    fn statuses_have_their_documented_names() {
        for s in PaymentStatus::ALL {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::json!(s.as_str()))
            );
        }
        assert_eq!(payment_id("abc"), "pay-abc");
    }
}

/// How a buyer pays, as `POST /reservations` and `POST /reservations/{id}/payment` take it:
/// `{"method": "WALLET"}` or `{"method": "CARD", "token": "tok_..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "method",
    rename_all = "SCREAMING_SNAKE_CASE",
    deny_unknown_fields
)]
pub enum PaymentInput {
    /// Wallet points, one per won.
    Wallet {},
    /// A card, by the token the provider's SDK made of it.
    Card { token: String },
}

// Written out: utoipa's derive for an internally tagged enum does not state that the variants refuse unknown
// fields, which serde does here.
impl utoipa::PartialSchema for PaymentInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let token =
            serde_json::to_value(CARD_TOKEN.schema()).unwrap_or_else(|_| json!({"type": "string"}));
        let schema = json!({
            "description": "How a buyer pays: wallet points, or a card by its provider token (never a card number).",
            "oneOf": [
                {
                    "type": "object",
                    "description": "Wallet points, one per won.",
                    "required": ["method"],
                    "properties": {"method": {"type": "string", "enum": ["WALLET"]}},
                    "additionalProperties": false,
                },
                {
                    "type": "object",
                    "description": "A card, by the token the provider's SDK made of it.",
                    "required": ["method", "token"],
                    "properties": {"method": {"type": "string", "enum": ["CARD"]}, "token": token},
                    "additionalProperties": false,
                },
            ],
        });
        serde_json::from_value(schema).unwrap_or_default()
    }
}

impl utoipa::ToSchema for PaymentInput {}

impl PaymentInput {
    pub fn method(&self) -> PaymentMethod {
        match self {
            PaymentInput::Wallet {} => PaymentMethod::Wallet,
            PaymentInput::Card { .. } => PaymentMethod::Card,
        }
    }
}
