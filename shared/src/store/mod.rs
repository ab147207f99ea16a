//! DynamoDB single-table store.
//!
//! One table, generic keys `PK`/`SK`, and sparse secondary indexes `GSI1`, `GSI2` and `GSI3` (`GSInPK`/`GSInSK`),
//! all projecting all attributes. Every item has a `type` attribute naming its entity.
//! TTL attribute: `expiresAt` (epoch seconds).
//!
//! # Access patterns
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | 1 | get a performance by id | `GetItem` | `PK = PERF#<id>`, `SK = META` |
//! | 2 | create a performance | `PutItem`, `attribute_not_exists(PK)` | same key |
//! | 3 | change a performance (revise, approve, reject) | `PutItem`, `version = :previous` (optimistic) | same key |
//! | 4 | public catalog, by first day of the run | `Query` GSI1 | `GSI1PK = CATALOG`, `GSI1SK = <runStartDate>#<id>` |
//! | 5 | public catalog of one category | `Query` GSI2 | `GSI2PK = CATALOG#<CATEGORY>`, `GSI2SK = <runStartDate>#<id>` |
//! | 6 | admins' review queue: performances in a status | `Query` GSI2 (GSI1 for APPROVED) | `GSI2PK = PERFSTATUS#<STATUS>`, `GSI2SK = <createdAt>#<id>` |
//! | 7 | an organizer's performances, any status | `Query` GSI3 | `GSI3PK = ORG#<organizerId>`, `GSI3SK = <createdAt>#<id>` |
//! | M1 | sign up (and the admin bootstrap) | `TransactWriteItems`: Put profile + Put email item, both `attribute_not_exists(PK)` | `MEMBER#<id>`/`PROFILE`, `EMAIL#<email>`/`EMAIL`; taken email → 409 |
//! | M2 | get a member by id | `GetItem`, consistent | `MEMBER#<id>`/`PROFILE` |
//! | M3 | login: member by email | `GetItem` of the email item, then M2 | `EMAIL#<email>`/`EMAIL` (holds `memberId`) |
//! | M4 | change name, password or role | `UpdateItem`, `attribute_exists(PK) AND passwordHash = :seen AND email = :seen` | profile |
//! | M5 | change email | `TransactWriteItems`: Update profile (M4's condition) + Delete old email item (`memberId = :id`) + Put new (`attribute_not_exists(PK)`) | profile, `EMAIL#<old>`, `EMAIL#<new>` |
//! | M6 | delete a member | `TransactWriteItems`: Delete profile (`email = :email`) + Delete email item (`memberId = :id`) | profile, `EMAIL#<email>` |
//! | M7 | logout: revoke a token | `PutItem`, TTL `expiresAt` = the token's expiry | `REVOKED#<jti>`/`REVOKED` |
//! | M8 | authorizer: is this session valid | `BatchGetItem`, consistent, 2 keys | `MEMBER#<sub>`/`PROFILE` + `REVOKED#<jti>`/`REVOKED` |
//!
//! The catalog keys (4, 5) exist only on approved performances and the review-queue keys (6) only on pending
//! or rejected ones, so the indexes are sparse and a status change moves a performance between them in the
//! same write. The catalog partition is read-heavy and written rarely (on review), so one partition per
//! listing is fine; seat and reservation items, written in bursts, spread over many partitions.

pub mod cursor;
pub mod members;
pub mod performances;

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
pub const TYPE: &str = "type";

/// The table adapter: one DynamoDB client and the table name, built once per process.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Store {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}
