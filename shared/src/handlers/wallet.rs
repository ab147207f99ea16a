//! Wallets: a member's points.
//!
//! | route | who |
//! |---|---|
//! | `GET /wallet?limit=&cursor=` | any member: their balance and ledger, newest line first |
//! | `POST /wallet/charge` | any member: buy points with a card (`Idempotency-Key` makes a retry charge once) |

use crate::auth::caller;
use crate::domain::wallet::{LedgerKind, LedgerLine, TOPUP};
use crate::error::AppError;
use crate::http::{cursor_param, into_response, json_response, limit_param, parse_json};
use crate::payments::test_mode::{TestModeProvider, KEY_REUSED};
use crate::payments::{ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError};
use crate::runtime::AppState;
use crate::store::cursor::Page;
use crate::store::wallets::Applied;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::openapi::schema::Object;

pub use crate::domain::payment::CARD_TOKEN;
/// Wallets hold points one for one with the currency of the platform.
pub const WALLET_CURRENCY: &str = "KRW";
/// Attempts of a charge that fails transiently (the provider's idempotency key is the same on each).
const CHARGE_ATTEMPTS: u32 = 3;

fn card_token_schema() -> Object {
    CARD_TOKEN.schema()
}
fn topup_schema() -> Object {
    TOPUP.schema()
}

/// A card, by the token the provider's SDK made of it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardToken {
    #[schema(schema_with = card_token_schema)]
    pub token: String,
}

/// `POST /wallet/charge` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpRequest {
    /// Points to buy, 1 to 10,000,000 (one point per won); the balance may not pass 100,000,000 (422).
    #[schema(schema_with = topup_schema)]
    #[serde(deserialize_with = "crate::domain::rules::whole")]
    pub amount: u64,
    pub payment: CardToken,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletView {
    pub member_id: String,
    pub balance: u64,
    pub currency: &'static str,
    /// Newest line first.
    pub ledger: Page<LedgerLine>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopUpResult {
    pub balance: u64,
    pub line: LedgerLine,
}

/// `GET /wallet`
pub async fn get(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let limit = limit_param(&req, 20)?;
            let cursor = cursor_param(&req)?;
            let wallet = state.store.wallet(&caller.member_id).await?;
            let ledger = state
                .store
                .ledger_page(&caller.member_id, limit, cursor.as_deref())
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &WalletView {
                    member_id: caller.member_id,
                    balance: wallet.balance,
                    currency: WALLET_CURRENCY,
                    ledger,
                },
            ))
        }
        .await,
    )
}

/// Charges a card, retrying transient failures with the same idempotency key.
pub async fn charge_with_retries<P: PaymentProvider>(
    provider: &P,
    request: &ChargeRequest,
) -> Result<ChargeOutcome, AppError> {
    let mut last = String::new();
    for attempt in 0..CHARGE_ATTEMPTS {
        match provider.charge(request).await {
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

/// `POST /wallet/charge`
pub async fn charge(state: AppState, req: Request) -> Response<Body> {
    into_response(charge_inner(&state, &req).await)
}

async fn charge_inner(state: &AppState, req: &Request) -> Result<Response<Body>, AppError> {
    let caller = caller(req)?;
    let key =
        super::idempotent_id(req, &caller, "topup")?.unwrap_or_else(crate::domain::ids::new_id);
    let body: TopUpRequest = parse_json(req)?;
    CARD_TOKEN
        .check("payment.token", &body.payment.token)
        .map_err(|e| AppError::Validation(vec![e]))?;
    TOPUP
        .check("amount", body.amount)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let provider = TestModeProvider::new(state.store.clone());
    let request = ChargeRequest {
        token: body.payment.token.clone(),
        amount: body.amount,
        currency: WALLET_CURRENCY.to_string(),
        idempotency_key: format!("topup-{key}"),
    };
    let reference = match charge_with_retries(&provider, &request).await? {
        ChargeOutcome::Approved { reference, .. } => reference,
        ChargeOutcome::Declined { code } => return Err(AppError::PaymentDeclined { code }),
    };
    let now = crate::domain::performance::format_instant(time::OffsetDateTime::now_utc());
    let amount =
        i64::try_from(body.amount).map_err(|_| AppError::invalid("amount", "is too large"))?;
    let applied = state
        .store
        .apply_ledger_line(
            &caller.member_id,
            &format!("topup-{reference}"),
            LedgerKind::Topup,
            amount,
            &reference,
            &now,
        )
        .await?
        .map_err(|e| AppError::unprocessable("amount", e.to_string()))?;
    let status = match &applied {
        Applied::New(_) => StatusCode::CREATED,
        Applied::Already(_) => StatusCode::OK,
    };
    let line = applied.line().clone();
    tracing::info!(member_id = %caller.member_id, amount = line.amount, reference = %reference, replay = status == StatusCode::OK, "wallet topped up");
    Ok(json_response(
        status,
        &TopUpResult {
            balance: line.balance_after,
            line,
        },
    ))
}
