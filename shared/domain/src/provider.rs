//! The payment provider's port: what the saga asks of a card provider and what it answers, as plain types
//! and a trait. The implementations (the local test mode; a production provider) live in
//! `ticketing::payments`, whose module documentation maps each call to Stripe's and Toss Payments' APIs.

use crate::payment::CardSummary;

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
