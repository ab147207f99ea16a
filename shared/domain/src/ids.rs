//! Identifiers. Ids are UUIDs (v7: time-ordered, so items created together sort together).
//! Anything a client sends as an id is checked here before it becomes part of a DynamoDB key, so a
//! malformed or oversized id is a plain "not found" instead of a DynamoDB validation error.

use uuid::Uuid;

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// Parses a client-supplied id; `None` when it is not a UUID in the hyphenated form the document states
/// (`format: uuid`; the caller answers 404, or 400 for an id in a body or query).
pub fn parse_id(raw: &str) -> Option<String> {
    if raw.len() != 36 {
        return None;
    }
    Uuid::parse_str(raw).ok().map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = new_id();
        assert_eq!(parse_id(&id).as_deref(), Some(id.as_str()));
        assert_eq!(parse_id("PERF#1"), None);
        assert_eq!(parse_id(&"a".repeat(5000)), None);
        assert_eq!(parse_id(&id.replace('-', "")), None);
        // Upper-case input is normalised, so one performance has one key.
        assert_eq!(parse_id(&id.to_uppercase()).as_deref(), Some(id.as_str()));
    }
}
