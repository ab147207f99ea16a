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

pub mod breaker;
pub mod test_mode;

pub use ticketing_domain::provider::*;
