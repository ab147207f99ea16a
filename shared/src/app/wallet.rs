//! Wallets: buying points with a card. The provider is charged once under a key derived from the request's
//! `Idempotency-Key` (a retry, transient failures included, charges once), then the points are one ledger line
//! keyed by the charge (a repeat finds it).

use crate::domain::wallet::LedgerKind;
use crate::error::AppError;
use crate::payments::breaker::{CircuitBreaker, Permit};
use crate::payments::test_mode::{TestModeProvider, KEY_REUSED};
use crate::payments::{ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError};
use crate::runtime::AppState;
use crate::store::wallets::Applied;
use std::time::Duration;

/// Wallets hold points one for one with the currency of the platform.
pub const WALLET_CURRENCY: &str = "KRW";
/// Attempts of a charge that fails transiently (the provider's idempotency key is the same on each).
const CHARGE_ATTEMPTS: u32 = 3;

/// Tops up `member_id`'s wallet with `amount` points charged to the card `token`, once per `key`: the ledger
/// line, new or the one an earlier request with the same key made.
pub async fn top_up(
    state: &AppState,
    member_id: &str,
    key: &str,
    token: &str,
    amount: u64,
) -> Result<Applied, AppError> {
    let provider = TestModeProvider::new(state.store.clone());
    let request = ChargeRequest {
        token: token.to_string(),
        amount,
        currency: WALLET_CURRENCY.to_string(),
        idempotency_key: format!("topup-{key}"),
    };
    // While the provider's breaker is open nothing is charged: 503 with when to try again.
    let permit = state
        .breaker
        .admit()
        .await?
        .map_err(|refused| AppError::ProviderPaused {
            retry_after: refused.retry_after,
        })?;
    let reference = match charge_with_retries(&state.breaker, permit, &provider, &request).await? {
        ChargeOutcome::Approved { reference, .. } => reference,
        ChargeOutcome::Declined { code } => return Err(AppError::PaymentDeclined { code }),
    };
    let now = crate::domain::performance::format_instant(time::OffsetDateTime::now_utc());
    let points = i64::try_from(amount).map_err(|_| AppError::invalid("amount", "is too large"))?;
    state
        .store
        .apply_ledger_line(
            member_id,
            &format!("topup-{reference}"),
            LedgerKind::Topup,
            points,
            &reference,
            &now,
        )
        .await?
        .map_err(|e| AppError::unprocessable("amount", e.to_string()))
}

/// Charges a card through the breaker (each call timed out and counted), retrying transient failures with
/// the same idempotency key; a probe of a recovering provider is one call.
pub async fn charge_with_retries<P: PaymentProvider>(
    breaker: &CircuitBreaker,
    permit: Permit,
    provider: &P,
    request: &ChargeRequest,
) -> Result<ChargeOutcome, AppError> {
    let attempts = match permit {
        Permit::Call => CHARGE_ATTEMPTS,
        Permit::Probe { .. } => 1,
    };
    let mut last = String::new();
    for attempt in 0..attempts {
        match breaker.call(permit, provider.charge(request)).await {
            Ok(outcome) => return Ok(outcome),
            Err(ProviderError::Invalid(code)) if code == KEY_REUSED => {
                return Err(AppError::Conflict(
                    "Idempotency-Key was already used for a different request".into(),
                ));
            }
            Err(ProviderError::Invalid(code)) => {
                return Err(AppError::PaymentDeclined { code });
            }
            Err(ProviderError::Transient(why)) => {
                tracing::warn!(attempt, error = %why, "charge failed transiently");
                last = why;
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt + 1))).await;
            }
        }
    }
    Err(AppError::ProviderUnavailable(last))
}
