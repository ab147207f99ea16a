//! Per-member request rates (access pattern R6 in the [module docs](super); rules in
//! [`crate::domain::rate_limit`]).
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | a member's requests on a route in one window | `MEMBER#<memberId>` | `RATE#<route>#<windowStart>` | `requests` (N), `expiresAt` (TTL: the window's end plus a minute) |
//!
//! One conditional `UpdateItem` per request, in the member's own partition: requests sent in parallel are
//! counted one by one by DynamoDB, so no more than the budget pass, whichever process serves them.

use super::error::conditional;
use super::keys::rate_key;
use super::{n, s, Store, StoreError, TYPE};
use crate::domain::rate_limit::{Limit, Route};

impl Store {
    /// R6: counts one request of `member_id` on `route` in the window `now` falls in; `false` when the member
    /// already spent `limit` there (nothing counted).
    pub async fn count_request(
        &self,
        member_id: &str,
        route: Route,
        limit: Limit,
        now: i64,
    ) -> Result<bool, StoreError> {
        let window = limit.window_of(now);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(rate_key(member_id, route.as_str(), window)))
            .update_expression("SET #type = :type, expiresAt = :expires ADD requests :one")
            .condition_expression("attribute_not_exists(requests) OR requests < :limit")
            .expression_attribute_names("#type", TYPE)
            .expression_attribute_values(":type", s("RequestRate"))
            .expression_attribute_values(
                ":expires",
                n(window + i64::from(limit.window_seconds) + 60),
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit.requests))
            .send()
            .await;
        Ok(conditional(result)?.is_some())
    }
}
