//! The per-member ticket limit: a performance may cap the seats one member holds and owns on each of its
//! showtimes (`maxTicketsPerMember`, none by default), as Korean sites commonly cap a showtime at 4 per
//! buyer. Held and confirmed seats count, across all of the member's reservations of that showtime; a
//! release, an expiry, a failed sale and a cancellation give their seats back.
//!
//! The count is kept on one item per member and showtime, changed in the same transaction as the seats it
//! counts (the store's H7), so there is no window between reading the count and holding: this module says
//! what that transaction's condition must be.

use crate::rules::Int;
use std::fmt;

/// Bounds of `maxTicketsPerMember`.
pub const MAX_TICKETS_PER_MEMBER: Int = Int::new(1, 100);

/// A hold or change refused: the member has `current` seats of the showtime and may have `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitReached {
    pub current: u32,
    pub limit: u32,
    pub requested: u32,
}

impl fmt::Display for LimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at most {} tickets per member for this showtime: you have {}, and {} more would make {}",
            self.limit,
            self.current,
            self.requested,
            self.current.saturating_add(self.requested)
        )
    }
}

/// The highest count a member may have before adding `requested` seats under `limit`: the count item's
/// condition is `seats <= room` (or no count yet). `None` when `requested` alone is over the limit (refused
/// without a write).
pub fn room(limit: u32, requested: u32) -> Option<u32> {
    limit.checked_sub(requested)
}

/// Whether `current + requested` stays within `limit`; the refusal otherwise. What the count item's condition
/// decides in the store, said plainly.
pub fn check(limit: Option<u32>, current: u32, requested: u32) -> Result<(), LimitReached> {
    match limit {
        Some(limit) if room(limit, requested).is_none_or(|room| current > room) => {
            Err(LimitReached {
                current,
                limit,
                requested,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_holds_up_to_the_limit_and_no_further() {
        assert_eq!(check(Some(4), 0, 4), Ok(()));
        assert_eq!(check(Some(4), 2, 2), Ok(()));
        assert_eq!(
            check(Some(4), 2, 3),
            Err(LimitReached {
                current: 2,
                limit: 4,
                requested: 3
            })
        );
        assert!(check(Some(4), 0, 5).is_err(), "over the limit alone");
        assert_eq!(check(None, 40, 10), Ok(()), "no limit");
    }

    #[test]
    fn room_is_the_condition_of_the_count() {
        assert_eq!(room(4, 2), Some(2));
        assert_eq!(room(4, 4), Some(0));
        assert_eq!(room(4, 5), None);
    }

    #[test]
    fn the_refusal_says_the_count_and_the_limit() {
        let text = LimitReached {
            current: 3,
            limit: 4,
            requested: 2,
        }
        .to_string();
        assert!(
            text.contains("at most 4") && text.contains("you have 3"),
            "{text}"
        );
    }
}
