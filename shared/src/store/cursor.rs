//! Opaque pagination cursors: base64url of the `LastEvaluatedKey` (string attributes only).
//!
//! A cursor is checked on the way in: it must decode, carry exactly the key attributes of the query it is
//! used with, and belong to the same partition, so a forged cursor is a 400 and never reaches DynamoDB as a
//! key it would reject.

use super::Item;
use super::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::BTreeMap;

/// One page of a listing. `nextCursor` is absent on the last page.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

const MAX_CURSOR_LEN: usize = 2_048;

pub fn encode(key: &Item) -> Option<String> {
    let mut plain = BTreeMap::new();
    for (name, value) in key {
        plain.insert(name.as_str(), value.as_s().ok()?.as_str());
    }
    serde_json::to_vec(&plain)
        .ok()
        .map(|json| URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a cursor for a query over `key_names`, whose partition attribute `partition_name` must equal
/// `partition_value`.
pub fn decode(
    raw: &str,
    key_names: &[&str],
    partition_name: &str,
    partition_value: &str,
) -> Result<Item, StoreError> {
    let invalid = || StoreError::BadCursor;
    if raw.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let json = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    let plain: BTreeMap<String, String> = serde_json::from_slice(&json).map_err(|_| invalid())?;
    let names_match =
        plain.len() == key_names.len() && key_names.iter().all(|n| plain.contains_key(*n));
    if !names_match
        || plain.get(partition_name).map(String::as_str) != Some(partition_value)
        || plain.values().any(|v| v.is_empty() || v.len() > 1024)
    {
        return Err(invalid());
    }
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Item {
        [
            ("PK", "PERF#1"),
            ("SK", "META"),
            ("GSI1PK", "CATALOG"),
            ("GSI1SK", "2026-12-01#1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
        .collect()
    }

    const NAMES: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];

    #[test]
    fn round_trip() {
        let cursor = encode(&key()).expect("encodes");
        assert_eq!(
            decode(&cursor, &NAMES, "GSI1PK", "CATALOG").ok(),
            Some(key())
        );
    }

    #[test]
    fn forged_cursors_are_refused() {
        let cursor = encode(&key()).expect("encodes");
        assert!(decode(&cursor, &NAMES, "GSI1PK", "CATALOG#OPERA").is_err());
        assert!(decode(&cursor, &NAMES[..3], "GSI1PK", "CATALOG").is_err());
        assert!(decode("not base64 !!", &NAMES, "GSI1PK", "CATALOG").is_err());
        assert!(decode(
            &URL_SAFE_NO_PAD.encode("[1,2]"),
            &NAMES,
            "GSI1PK",
            "CATALOG"
        )
        .is_err());
        assert!(decode(&"A".repeat(5000), &NAMES, "GSI1PK", "CATALOG").is_err());
    }
}
