//! Wallets: a member's points. The balance changes only together with a ledger line, in one conditional
//! transaction (store: `MEMBER#<id>` / `WALLET` and `MEMBER#<id>` / `LEDGER#<at>#<lineId>`), so the balance is
//! always the sum of the ledger, never negative, and two payments cannot spend the same points.
//!
//! A line's id is derived from what caused it (`topup-<key>`, `pay-<reservationId>`, `refund-<refundId>`): the
//! ledger put is conditional on the id being new, so a retried debit or credit applies once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most points a wallet may hold (100,000,000: a hundred million won).
pub const BALANCE_MAX: u64 = 100_000_000;
/// One top-up: 1 to 10,000,000 points.
pub const TOPUP: crate::rules::Int = crate::rules::Int::new(1, 10_000_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LedgerKind {
    /// Points bought with a card.
    Topup,
    /// Points spent on a reservation.
    Payment,
    /// Points given back by a refund.
    Refund,
}

/// One change of a wallet's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerLine {
    pub id: String,
    pub member_id: String,
    pub kind: LedgerKind,
    /// Signed: positive adds points, negative spends them.
    pub amount: i64,
    /// The balance right after this line.
    pub balance_after: u64,
    /// The reservation, refund or top-up behind the line.
    pub reference: String,
    pub at: String,
}

/// Why a change cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    #[error("the wallet holds {balance} points, {needed} are needed")]
    InsufficientPoints { balance: u64, needed: u64 },
    #[error("the wallet would hold more than {BALANCE_MAX} points")]
    BalanceLimit,
    #[error("an amount must be more than 0")]
    Empty,
}

/// The balance after spending `amount` of `balance`.
pub fn debit(balance: u64, amount: u64) -> Result<u64, WalletError> {
    if amount == 0 {
        return Err(WalletError::Empty);
    }
    balance
        .checked_sub(amount)
        .ok_or(WalletError::InsufficientPoints {
            balance,
            needed: amount,
        })
}

/// The balance after adding `amount` to `balance`.
pub fn credit(balance: u64, amount: u64) -> Result<u64, WalletError> {
    if amount == 0 {
        return Err(WalletError::Empty);
    }
    balance
        .checked_add(amount)
        .filter(|b| *b <= BALANCE_MAX)
        .ok_or(WalletError::BalanceLimit)
}

/// The ledger's own check: the balance is the sum of the lines, and every line's `balanceAfter` is the running
/// sum. `lines` in ledger order.
pub fn reconciles(balance: u64, lines: &[LedgerLine]) -> bool {
    let mut running: i128 = 0;
    for line in lines {
        running += i128::from(line.amount);
        if running < 0 || running != i128::from(line.balance_after) {
            return false;
        }
    }
    running == i128::from(balance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(amount: i64, after: u64) -> LedgerLine {
        LedgerLine {
            id: format!("l{after}"),
            member_id: "m".into(),
            kind: if amount > 0 {
                LedgerKind::Topup
            } else {
                LedgerKind::Payment
            },
            amount,
            balance_after: after,
            reference: "r".into(),
            at: "t".into(),
        }
    }

    #[test]
    fn a_balance_never_goes_negative_or_past_the_limit() {
        assert_eq!(debit(100, 100), Ok(0));
        assert_eq!(
            debit(99, 100),
            Err(WalletError::InsufficientPoints {
                balance: 99,
                needed: 100
            })
        );
        assert_eq!(debit(5, 0), Err(WalletError::Empty));
        assert_eq!(credit(0, BALANCE_MAX), Ok(BALANCE_MAX));
        assert_eq!(credit(1, BALANCE_MAX), Err(WalletError::BalanceLimit));
        assert_eq!(credit(u64::MAX, 1), Err(WalletError::BalanceLimit));
    }

    #[test]
    fn the_ledger_reconciles_only_when_every_line_adds_up() {
        assert!(reconciles(0, &[]));
        let lines = [line(500, 500), line(-200, 300), line(100, 400)];
        assert!(reconciles(400, &lines));
        assert!(!reconciles(401, &lines));
        assert!(!reconciles(
            400,
            &[line(500, 500), line(-200, 301), line(100, 400)]
        ));
        assert!(!reconciles(0, &[line(-1, 0), line(1, 0)]));
    }
}
