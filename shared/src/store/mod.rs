//! DynamoDB single-table store.
//!
//! One table, generic keys `PK`/`SK`, and sparse secondary indexes `GSI1` (`GSI1PK`/`GSI1SK`) and `GSI2`
//! (`GSI2PK`/`GSI2SK`), both projecting all attributes. Every item has a `type` attribute naming its entity.
//! TTL attribute: `expiresAt` (epoch seconds).
//!
//! # Access patterns
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | 1 | get a performance by id | `GetItem` | `PK = PERF#<id>`, `SK = META` |
//! | 2 | create a performance | `PutItem`, `attribute_not_exists(PK)` | same key |
//! | 3 | change a performance (optimistic, `version`) | `UpdateItem`, `attribute_exists(PK) [AND version = :v]` | same key |
//! | 4 | public catalog, by first day of the run | `Query` GSI1 | `GSI1PK = CATALOG`, `GSI1SK = <runStartDate>#<id>` |
//! | 5 | public catalog of one category | `Query` GSI2 | `GSI2PK = CATALOG#<CATEGORY>`, `GSI2SK = <runStartDate>#<id>` |
//!
//! The catalog keys (patterns 4 and 5) are written only on performances that are publicly listed, so the
//! indexes are sparse: hiding a performance removes its keys and it drops out of the catalog. The catalog
//! partition is read-heavy and written rarely (organizers publish), so one partition per listing is fine;
//! seat and reservation items, which are written in bursts, spread over many partitions (see later modules).

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
