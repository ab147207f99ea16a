//! Card payments through a provider, behind [`PaymentProvider`]: the saga charges and refunds through this
//! trait and never sees a card number, only the token a provider's client-side SDK made.
//!
//! Two implementations are real: [`test_mode`], the local provider (documented test tokens in the manner of
//! the big PSPs' test modes, its records in our table), and a production provider, which maps as follows
//! (not built here):
//!
//! | trait | Stripe | Toss Payments |
//! |---|---|---|
//! | `charge(token, amount, key)` | `POST /v1/payment_intents` with `confirm=true`, `payment_method=<token>`, header `Idempotency-Key: <key>` | `POST /v1/payments/confirm` with `paymentKey=<token>`, `orderId=<key>`, `amount`; header `Idempotency-Key` |
//! | `ChargeOutcome::Approved.reference` | the PaymentIntent id `pi_...` | `paymentKey` |
//! | `card` brand / last4 | `payment_method.card.brand` / `.last4` | `card.issuerCode` / last 4 of `card.number` (masked) |
//! | `Declined { code }` | `402` with `decline_code` (`card_declined`, `insufficient_funds`, ...) | `4xx` with `code` (`REJECT_CARD_PAYMENT`, `NOT_ENOUGH_BALANCE`, ...) |
//! | `ProviderError::Transient` | `429`, `5xx`, network errors: retry with the same key | `5xx`, `FAILED_INTERNAL_SYSTEM_PROCESSING`: retry with the same key |
//! | `find_charge(key)` | `GET /v1/payment_intents/search` on `metadata['key']` (set on the charge) | `GET /v1/payments/orders/{orderId}` |
//! | `refund_made(key)` | `GET /v1/refunds?payment_intent=` and the refund's `metadata['key']` | the payment's `cancels[]`, by `transactionKey` |
//! | `refund(reference, amount, key)` | `POST /v1/refunds` with `payment_intent`, `amount`, `Idempotency-Key` | `POST /v1/payments/{paymentKey}/cancel` with `cancelAmount`, `Idempotency-Key` |
//!
//! Every call carries the provider's own idempotency key, derived from the reservation (`charge-<id>`,
//! `refund-<refundId>`), so a saga step retried after a timeout charges or refunds once.

pub mod test_mode;

use crate::domain::payment::CardSummary;

/// A charge to make: `amount` minor units of `currency` on the card behind `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    pub token: String,
    pub amount: u64,
    pub currency: String,
    /// The provider's idempotency key: the same key always means the same charge.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved {
        reference: String,
        card: CardSummary,
    },
    /// The card was refused; final (retrying gives the same answer).
    Declined { code: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The charge's reference.
    pub reference: String,
    pub amount: u64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refunded {
    pub reference: String,
}

/// A call that did not complete: worth retrying with the same idempotency key, or not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// A timeout, a 5xx, a throttle: the same call may succeed later.
    #[error("the payment provider failed transiently: {0}")]
    Transient(String),
    /// The request itself is wrong (an unknown token, a refund larger than what is left).
    #[error("the payment provider refused the request: {0}")]
    Invalid(String),
}

/// A card payment provider.
pub trait PaymentProvider {
    fn charge(
        &self,
        request: &ChargeRequest,
    ) -> impl std::future::Future<Output = Result<ChargeOutcome, ProviderError>> + Send;

    fn refund(
        &self,
        request: &RefundRequest,
    ) -> impl std::future::Future<Output = Result<Refunded, ProviderError>> + Send;

    /// What became of the charge made with `idempotency_key`; `None` when no charge was made. How a saga
    /// settles a payment whose step died between the charge and its record.
    fn find_charge(
        &self,
        idempotency_key: &str,
    ) -> impl std::future::Future<Output = Result<Option<ChargeOutcome>, ProviderError>> + Send;

    /// Whether a refund was made under `idempotency_key` (a refund whose record was lost with its step).
    fn refund_made(
        &self,
        idempotency_key: &str,
    ) -> impl std::future::Future<Output = Result<bool, ProviderError>> + Send;
}
