//! Settlement statements: what organizers are owed, and the payouts admins record (docs/settlement.md).
//!
//! | route | who |
//! |---|---|
//! | `GET /organizer/settlements?from=&to=&limit=&cursor=` | ORGANIZER or ADMIN: their own statements |
//! | `GET /organizer/settlements/{settlementId}` | its organizer, or an ADMIN; JSON, or CSV with `Accept: text/csv` |
//! | `GET /admin/settlements?status=&organizerId=&from=&to=&limit=&cursor=` | ADMIN |
//! | `POST /admin/settlements/{settlementId}/payout` | ADMIN: the payout, once |
//! | `PUT /admin/organizers/{organizerId}/commission` | ADMIN: an organizer's own commission rate |

use crate::app::performances::PUBLISHERS;
use crate::app::settlement::{listing_days, payout, statement_for};
use crate::auth::caller;
use crate::domain::ids::parse_id;
use crate::domain::member::Role;
use crate::domain::performance::format_instant;
use crate::domain::rules::{COMMISSION_RATE_BPS, PAYOUT_REFERENCE, SETTLEMENT_ID};
use crate::domain::settlement::{to_csv, SettlementStatus};
use crate::error::AppError;
use crate::http::{
    cursor_param, into_response, json_response, limit_param, parse_json, path_param, query_param,
};
use crate::runtime::AppState;
use crate::store::cursor::Page;
use crate::store::settlements::{Statement, StatementListing};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Statements a listing page shows by default.
const PAGE_DEFAULT: u32 = 31;

/// `POST /admin/settlements/{settlementId}/payout` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutRequest {
    /// The transfer's reference: 1 to 100 visible ASCII characters.
    #[schema(schema_with = payout_reference_schema)]
    pub reference: String,
}

fn payout_reference_schema() -> utoipa::openapi::Object {
    PAYOUT_REFERENCE.schema()
}

/// `PUT /admin/organizers/{organizerId}/commission` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommissionRequest {
    /// Basis points of net sales: 0 to 10,000 (100%).
    #[schema(schema_with = commission_schema)]
    #[serde(deserialize_with = "crate::domain::rules::whole")]
    pub rate_bps: u64,
}

fn commission_schema() -> utoipa::openapi::Object {
    COMMISSION_RATE_BPS.schema()
}

/// An organizer's commission rate, as set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommissionRate {
    pub organizer_id: String,
    pub rate_bps: u32,
}

fn settlement_id(req: &Request) -> Result<String, AppError> {
    let raw = path_param(req, "settlementId")?;
    if SETTLEMENT_ID.matches(&raw) {
        Ok(raw)
    } else {
        Err(AppError::NotFound {
            entity: "settlement",
            id: raw,
        })
    }
}

/// A listing page without the lines (`GET` one statement for them).
fn summaries(page: Page<Statement>) -> Page<Statement> {
    Page {
        items: page
            .items
            .into_iter()
            .map(|st| Statement {
                lines: Vec::new(),
                ..st
            })
            .collect(),
        next_cursor: page.next_cursor,
    }
}

/// `GET /organizer/settlements`: the caller's statements of the Korean days `from..=to` (default: the last
/// 31), oldest first, without their lines.
pub async fn organizer_list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let days = listing_days(
                query_param(&req, "from").as_deref(),
                query_param(&req, "to").as_deref(),
                OffsetDateTime::now_utc(),
            )?;
            let limit = limit_param(&req, PAGE_DEFAULT)?;
            let cursor = cursor_param(&req)?;
            let page = state
                .store
                .list_statements(
                    StatementListing::Organizer(&caller.member_id),
                    (&days.0, &days.1),
                    limit,
                    cursor.as_deref(),
                )
                .await?;
            Ok(json_response(StatusCode::OK, &summaries(page)))
        }
        .await,
    )
}

/// Whether the client asked for CSV (`Accept: text/csv`, before any JSON it also takes).
fn wants_csv(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|m| m.split(';').next().unwrap_or_default().trim())
        .find(|m| *m == "text/csv" || *m == "application/json")
        == Some("text/csv")
}

/// `GET /organizer/settlements/{settlementId}`: the statement with its lines (an open one with its figures so
/// far), as JSON or, with `Accept: text/csv`, its lines as CSV.
pub async fn get(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let id = settlement_id(&req)?;
            let settings = crate::app::settlement::Settings::from_env();
            let st = statement_for(&state.store, &settings, &caller, &id).await?;
            if !wants_csv(&req) {
                return Ok(json_response(StatusCode::OK, &st));
            }
            let csv = to_csv(
                (
                    &st.settlement_id,
                    &st.organizer_id,
                    &st.day,
                    &st.currency,
                    st.status,
                ),
                &st.lines,
            );
            let mut response = Response::new(Body::Text(csv));
            *response.status_mut() = StatusCode::OK;
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(disposition) = HeaderValue::from_str(&format!(
                "attachment; filename=\"settlement-{}.csv\"",
                st.settlement_id
            )) {
                headers.insert(header::CONTENT_DISPOSITION, disposition);
            }
            Ok(response)
        }
        .await,
    )
}

/// `GET /admin/settlements`: statements of the Korean days `from..=to`; of one organizer (`organizerId`,
/// optionally in a `status`), or in a `status` (default CLOSED: the payouts to make).
pub async fn admin_list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            caller(&req)?.require(&[Role::Admin])?;
            let status = query_param(&req, "status")
                .map(|raw| {
                    SettlementStatus::parse(&raw).ok_or_else(|| {
                        AppError::invalid("status", "must be one of OPEN, CLOSED, PAID")
                    })
                })
                .transpose()?;
            let organizer = query_param(&req, "organizerId")
                .map(|raw| {
                    parse_id(&raw).ok_or_else(|| AppError::invalid("organizerId", "must be an id"))
                })
                .transpose()?;
            let days = listing_days(
                query_param(&req, "from").as_deref(),
                query_param(&req, "to").as_deref(),
                OffsetDateTime::now_utc(),
            )?;
            let limit = limit_param(&req, PAGE_DEFAULT)?;
            let cursor = cursor_param(&req)?;
            let listing = match &organizer {
                Some(o) => StatementListing::Organizer(o),
                None => StatementListing::Status(status.unwrap_or(SettlementStatus::Closed)),
            };
            let mut page = state
                .store
                .list_statements(listing, (&days.0, &days.1), limit, cursor.as_deref())
                .await?;
            if organizer.is_some() {
                page.items
                    .retain(|st| status.is_none_or(|wanted| st.status == wanted));
            }
            Ok(json_response(StatusCode::OK, &summaries(page)))
        }
        .await,
    )
}

/// `POST /admin/settlements/{settlementId}/payout`: records the transfer of a closed statement (once).
pub async fn record_payout(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&[Role::Admin])?;
            let id = settlement_id(&req)?;
            let body: PayoutRequest = parse_json(&req)?;
            PAYOUT_REFERENCE
                .check("reference", &body.reference)
                .map_err(|e| AppError::Validation(vec![e]))?;
            let st = payout(
                &state.store,
                &caller,
                &id,
                &body.reference,
                OffsetDateTime::now_utc(),
            )
            .await?;
            Ok(json_response(StatusCode::OK, &st))
        }
        .await,
    )
}

/// `PUT /admin/organizers/{organizerId}/commission`: the organizer's own rate (statements closed from now
/// on use it; closed ones keep theirs).
pub async fn set_commission(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&[Role::Admin])?;
            let raw = path_param(&req, "organizerId")?;
            let organizer_id = parse_id(&raw).ok_or(AppError::NotFound {
                entity: "organizer",
                id: raw,
            })?;
            let body: CommissionRequest = parse_json(&req)?;
            COMMISSION_RATE_BPS
                .check("rateBps", body.rate_bps)
                .map_err(|e| AppError::Validation(vec![e]))?;
            let rate_bps = u32::try_from(body.rate_bps)
                .map_err(|_| AppError::invalid("rateBps", "must be 0 to 10000"))?;
            crate::app::settlement::set_commission(
                &state.store,
                &caller,
                &organizer_id,
                rate_bps,
                &format_instant(OffsetDateTime::now_utc()),
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &CommissionRate {
                    organizer_id,
                    rate_bps,
                },
            ))
        }
        .await,
    )
}
