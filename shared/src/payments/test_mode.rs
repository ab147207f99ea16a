//! The local payment provider: a test mode in the manner of the big PSPs' test modes. It takes documented
//! test tokens and answers as a real provider would, with its records (charges, refunds, attempts) kept in our
//! table under `PSP#...` keys, so it behaves the same across Lambda processes and retries:
//!
//! | token | outcome |
//! |---|---|
//! | `tok_visa`, `tok_mastercard`, `tok_amex` | approved (`visa` 4242, `mastercard` 4444, `amex` 8431) |
//! | `tok_chargeDeclined` | declined, `card_declined` |
//! | `tok_chargeDeclinedInsufficientFunds` | declined, `insufficient_funds` |
//! | `tok_transient_<N>` (N 1–10) | the first N attempts under one idempotency key fail transiently, then approved (visa 4242) |
//! | `tok_slow_<ms>` (ms 1–10000) | approved (visa 4242) after `ms` milliseconds |
//! | any other `tok_...` | refused as an unknown token (`invalid_token`) |
//!
//! On a test stack (`FAULT_INJECTION=on`) a **fault switch** stages an outage from outside: while it is on
//! every charge and refund fails transiently (`FAIL`) or answers only after a delay (`DELAY`), until it is
//! switched off (`ticketing-admin provider-fault`, item `PSP#FAULT`/`SWITCH`). Lookups of earlier charges and
//! refunds, our own bookkeeping, are not affected.
//!
//! Idempotency as real providers have it: a repeated key returns the first outcome and never charges twice; a
//! refund key refunds once; refunds never exceed what the charge has left.

use super::{
    ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError, RefundRequest, Refunded,
};
use crate::domain::payment::CardSummary;
use crate::store::breaker::ProviderFault;
use crate::store::Store;
use std::time::Duration;

/// What a test token does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestCard {
    Approve {
        brand: &'static str,
        last4: &'static str,
    },
    Decline {
        code: &'static str,
    },
    /// Fails transiently for the first `failures` attempts of a key.
    Transient {
        failures: u32,
    },
    /// Approves after a delay.
    Slow {
        millis: u64,
    },
}

const VISA: TestCard = TestCard::Approve {
    brand: "visa",
    last4: "4242",
};

impl TestCard {
    pub fn parse(token: &str) -> Option<TestCard> {
        let number = |prefix: &str, max: u64| {
            token
                .strip_prefix(prefix)
                .filter(|n| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| (1..=max).contains(n))
        };
        Some(match token {
            "tok_visa" => VISA,
            "tok_mastercard" => TestCard::Approve {
                brand: "mastercard",
                last4: "4444",
            },
            "tok_amex" => TestCard::Approve {
                brand: "amex",
                last4: "8431",
            },
            "tok_chargeDeclined" => TestCard::Decline {
                code: "card_declined",
            },
            "tok_chargeDeclinedInsufficientFunds" => TestCard::Decline {
                code: "insufficient_funds",
            },
            _ => {
                if let Some(n) = number("tok_transient_", 10) {
                    TestCard::Transient { failures: n as u32 }
                } else if let Some(ms) = number("tok_slow_", 10_000) {
                    TestCard::Slow { millis: ms }
                } else {
                    return None;
                }
            }
        })
    }

    /// The outcome of attempt number `attempt` (1-based) under one key; `Err` for a transient failure.
    pub fn outcome(&self, attempt: u32, reference: &str) -> Result<ChargeOutcome, ProviderError> {
        let approved = |brand: &str, last4: &str| ChargeOutcome::Approved {
            reference: reference.to_string(),
            card: CardSummary {
                brand: brand.to_string(),
                last4: last4.to_string(),
            },
        };
        match self {
            TestCard::Approve { brand, last4 } => Ok(approved(brand, last4)),
            TestCard::Decline { code } => Ok(ChargeOutcome::Declined {
                code: code.to_string(),
            }),
            TestCard::Transient { failures } if attempt <= *failures => {
                Err(ProviderError::Transient(format!(
                    "test mode: attempt {attempt} of {failures} failing"
                )))
            }
            TestCard::Transient { .. } | TestCard::Slow { .. } => Ok(approved("visa", "4242")),
        }
    }
}

/// The provider's code for an idempotency key used again with another amount.
pub const KEY_REUSED: &str = "idempotency_key_reused";

/// The test-mode provider, its records in the table.
#[derive(Clone, Debug)]
pub struct TestModeProvider {
    store: Store,
}

impl TestModeProvider {
    pub fn new(store: Store) -> Self {
        TestModeProvider { store }
    }
}

pub use crate::store::psp::charge_reference;

impl TestModeProvider {
    /// The fault switch of a test stack: fails the call, or delays it, while it is on.
    async fn staged_fault(&self) -> Result<(), ProviderError> {
        if !crate::faults::enabled() {
            return Ok(());
        }
        let fault = self.store.provider_fault().await;
        if let Ok(Some(_)) = fault {
            // Counted before it acts, so a test sees every call the provider received while it was down;
            // the switch cleared meanwhile is no error.
            let _ = self.store.count_faulted_call().await;
        }
        match fault {
            Ok(Some(ProviderFault::Fail)) => Err(ProviderError::Transient(
                "test mode: the provider is down (fault switch)".into(),
            )),
            Ok(Some(ProviderFault::Delay(millis))) => {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(ProviderError::Transient(e.to_string())),
        }
    }
}

impl PaymentProvider for TestModeProvider {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, ProviderError> {
        self.staged_fault().await?;
        let Some(card) = TestCard::parse(&request.token) else {
            return Err(ProviderError::Invalid("invalid_token".into()));
        };
        let attempt = self
            .store
            .psp_charge_attempt(&request.idempotency_key)
            .await
            .map_err(|e| ProviderError::Transient(e.to_string()))?;
        if let Some((first, amount)) = attempt.recorded {
            // As real providers do: a key names one request; the same key with another amount is refused.
            if amount != request.amount {
                return Err(ProviderError::Invalid(KEY_REUSED.into()));
            }
            return Ok(first);
        }
        if let TestCard::Slow { millis } = card {
            tokio::time::sleep(Duration::from_millis(millis)).await;
        }
        let outcome = card.outcome(attempt.number, &charge_reference(&request.idempotency_key))?;
        self.store
            .psp_record_charge(&request.idempotency_key, request.amount, &outcome)
            .await
            .map_err(|e| ProviderError::Transient(e.to_string()))
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Refunded, ProviderError> {
        self.staged_fault().await?;
        self.store
            .psp_refund(&request.reference, request.amount, &request.idempotency_key)
            .await
    }

    async fn find_charge(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<ChargeOutcome>, ProviderError> {
        self.store
            .psp_find_charge(idempotency_key)
            .await
            .map_err(|e| ProviderError::Transient(e.to_string()))
    }

    async fn refund_made(&self, idempotency_key: &str) -> Result<bool, ProviderError> {
        self.store
            .psp_refund_made(idempotency_key)
            .await
            .map_err(|e| ProviderError::Transient(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_do_what_the_table_says() {
        let r = "ch_1";
        assert!(matches!(
            TestCard::parse("tok_visa").unwrap().outcome(1, r),
            Ok(ChargeOutcome::Approved { ref card, .. }) if card.last4 == "4242"
        ));
        assert_eq!(
            TestCard::parse("tok_chargeDeclinedInsufficientFunds")
                .unwrap()
                .outcome(1, r),
            Ok(ChargeOutcome::Declined {
                code: "insufficient_funds".into()
            })
        );
        let flaky = TestCard::parse("tok_transient_2").unwrap();
        assert!(matches!(
            flaky.outcome(1, r),
            Err(ProviderError::Transient(_))
        ));
        assert!(matches!(
            flaky.outcome(2, r),
            Err(ProviderError::Transient(_))
        ));
        assert!(matches!(
            flaky.outcome(3, r),
            Ok(ChargeOutcome::Approved { .. })
        ));
        assert_eq!(
            TestCard::parse("tok_slow_250"),
            Some(TestCard::Slow { millis: 250 })
        );
        for bad in [
            "tok_nope",
            "tok_transient_0",
            "tok_transient_11",
            "tok_transient_01",
            "tok_slow_10001",
            "4242424242424242",
        ] {
            assert_eq!(TestCard::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_key_has_one_reference() {
        assert_eq!(charge_reference("charge-r1"), charge_reference("charge-r1"));
        assert_ne!(charge_reference("charge-r1"), charge_reference("charge-r2"));
        assert!(charge_reference("k").starts_with("ch_test_"));
    }
}
