//! Wallets: a member's points.
//!
//! | route | who |
//! |---|---|
//! | `GET /wallet?limit=&cursor=` | any member: their balance and ledger, newest line first |
//! | `POST /wallet/charge` | any member: buy points with a card (`Idempotency-Key` makes a retry charge once) |

use crate::auth::caller;
use crate::domain::wallet::{LedgerLine, TOPUP};
use crate::error::AppError;
use crate::http::{cursor_param, into_response, json_response, limit_param, parse_json};
use crate::runtime::AppState;
use crate::store::cursor::Page;
use crate::store::wallets::Applied;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;

pub use crate::app::wallet::WALLET_CURRENCY;
pub use crate::domain::payment::CARD_TOKEN;

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
    let applied = crate::app::wallet::top_up(
        state,
        &caller.member_id,
        &key,
        &body.payment.token,
        body.amount,
    )
    .await?;
    let reference = applied.line().reference.clone();
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
