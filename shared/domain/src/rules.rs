//! Field rules stated once. Each rule both checks a value and describes itself as a JSON Schema, so the
//! OpenAPI document (`GET /openapi.json`) states exactly what the handlers enforce: one source of truth.
//!
//! The API's split between the two kinds of refusal rests on this module:
//! - **400** `/problems/validation-error`: the request does not match the document (a length, range,
//!   pattern, format, enum or required field that the schema states). Every such check is a rule here.
//! - **422** `/problems/unprocessable`: the request matches the document but breaks a rule the schema cannot
//!   state (dates in order, grades covering the seat map, a showtime that must exist, a time in the future).
//!   Those are [`FieldError::rule`]s, raised by the domain types themselves.
//!
//! Patterns use only explicit code-point classes, so ECMA-262 (the document's dialect), Python's `re` (the
//! fuzzer) and Rust read them alike.

use crate::FieldError;
use std::sync::OnceLock;
use utoipa::openapi::schema::{
    KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;

/// Characters no single-line text accepts: the control characters (Unicode category Cc, what
/// `char::is_control` tests).
const CONTROL_CLASS: &str = r"\u0000-\u001F\u007F-\u009F";
/// The same for multi-line text, which keeps tab, line feed and carriage return.
const CONTROL_CLASS_MULTILINE: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";
/// What is not content: control characters and the space. A required text has at least one other character.
const BLANK_CLASS: &str = r"\u0000-\u0020\u007F-\u009F";

/// Whitespace trimmed from stored text: exactly the blanks of [`BLANK_CLASS`] that a text may contain.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// A character that counts as content (see [`BLANK_CLASS`]).
pub fn is_content(c: char) -> bool {
    !c.is_control() && c != ' '
}

/// A free-text field: at most `max` characters (Unicode scalar values, as JSON Schema counts them), no control
/// characters (tab and line breaks allowed when `multiline`), and, when `required`, at least one character
/// that is not blank. The stored value is trimmed of blanks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub max: usize,
    pub required: bool,
    pub multiline: bool,
}

impl Text {
    /// A required single-line text (a title, a name).
    pub const fn line(max: usize) -> Self {
        Text {
            max,
            required: true,
            multiline: false,
        }
    }

    /// An optional single-line text (may be empty).
    pub const fn optional_line(max: usize) -> Self {
        Text {
            max,
            required: false,
            multiline: false,
        }
    }

    /// An optional multi-line text (a description).
    pub const fn multiline(max: usize) -> Self {
        Text {
            max,
            required: false,
            multiline: true,
        }
    }

    fn allowed(&self, c: char) -> bool {
        !c.is_control() || (self.multiline && matches!(c, '\t' | '\n' | '\r'))
    }

    /// The ECMA-262 pattern of this rule (what [`Text::check`] accepts, apart from the length).
    pub fn pattern(&self) -> String {
        let forbidden = if self.multiline {
            CONTROL_CLASS_MULTILINE
        } else {
            CONTROL_CLASS
        };
        if self.required {
            format!("^[^{forbidden}]*[^{BLANK_CLASS}][^{forbidden}]*$")
        } else {
            format!("^[^{forbidden}]*$")
        }
    }

    /// Checks `raw` and returns it trimmed.
    pub fn check(&self, field: &str, raw: &str) -> Result<String, FieldError> {
        if self.required && !raw.chars().any(is_content) {
            return Err(FieldError::new(field, "must not be empty or blank"));
        }
        if raw.chars().count() > self.max {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters", self.max),
            ));
        }
        if !raw.chars().all(|c| self.allowed(c)) {
            return Err(FieldError::new(
                field,
                if self.multiline {
                    "must not contain control characters other than tab and line breaks"
                } else {
                    "must not contain control characters"
                },
            ));
        }
        Ok(raw.trim_matches(is_blank).to_string())
    }

    /// [`Text::check`] that records the error and goes on (with the value as given), to report every field.
    pub fn check_into(&self, errors: &mut Vec<FieldError>, field: &str, raw: &str) -> String {
        self.check(field, raw).unwrap_or_else(|e| {
            errors.push(e);
            raw.to_string()
        })
    }

    pub fn schema(&self) -> Object {
        string()
            .min_length(self.required.then_some(1))
            .max_length(Some(self.max))
            .pattern(Some(self.pattern()))
            .build()
    }
}

/// A string matching a pattern (checked with `regex-lite`, the same text the document states), at most
/// `max` characters.
#[derive(Debug)]
pub struct Pattern {
    pub pattern: &'static str,
    pub max: usize,
    pub message: &'static str,
    compiled: OnceLock<Option<regex_lite::Regex>>,
}

impl Pattern {
    pub const fn new(pattern: &'static str, max: usize, message: &'static str) -> Self {
        Pattern {
            pattern,
            max,
            message,
            compiled: OnceLock::new(),
        }
    }

    pub fn matches(&self, raw: &str) -> bool {
        let regex = self
            .compiled
            .get_or_init(|| regex_lite::Regex::new(self.pattern).ok());
        raw.chars().count() <= self.max && regex.as_ref().is_some_and(|r| r.is_match(raw))
    }

    pub fn check(&self, field: &str, raw: &str) -> Result<(), FieldError> {
        if self.matches(raw) {
            Ok(())
        } else {
            Err(FieldError::new(field, self.message))
        }
    }

    pub fn schema(&self) -> Object {
        string()
            .min_length(Some(1))
            .max_length(Some(self.max))
            .pattern(Some(self.pattern))
            .build()
    }
}

/// A whole number in `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int {
    pub min: u64,
    pub max: u64,
}

impl Int {
    pub const fn new(min: u64, max: u64) -> Self {
        Int { min, max }
    }

    pub fn contains(&self, value: u64) -> bool {
        (self.min..=self.max).contains(&value)
    }

    pub fn check(&self, field: &str, value: u64) -> Result<(), FieldError> {
        if self.contains(value) {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                format!("must be a whole number from {} to {}", self.min, self.max),
            ))
        }
    }

    /// Parses a query-string or header value.
    pub fn parse(&self, field: &str, raw: &str) -> Result<u64, FieldError> {
        match raw.parse::<u64>() {
            Ok(n) if self.contains(n) && !raw.starts_with('+') => Ok(n),
            _ => Err(FieldError::new(
                field,
                format!("must be a whole number from {} to {}", self.min, self.max),
            )),
        }
    }

    pub fn schema(&self) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(self.min as f64))
            .maximum(Some(self.max as f64))
            .build()
    }
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// `schema` that also admits `null` (an optional field a client may send as null).
pub fn nullable(mut schema: Object) -> Object {
    schema.schema_type = match schema.schema_type {
        SchemaType::Type(t) => SchemaType::from_iter([t, Type::Null]),
        other => other,
    };
    schema
}

/// A string in one of `values` (exactly as written).
pub fn one_of(values: &[&str]) -> Object {
    string().enum_values(Some(values.iter().copied())).build()
}

/// A string with a JSON Schema `format` that the handler checks by parsing it.
pub fn formatted(format: KnownFormat) -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(format)))
        .build()
}

/// An id: a UUID in its hyphenated form.
pub fn uuid() -> Object {
    // utoipa's `KnownFormat::Uuid` needs its `uuid` feature; the keyword is the same.
    string()
        .format(Some(SchemaFormat::Custom("uuid".to_string())))
        .build()
}

pub fn into_schema(object: Object) -> RefOr<Schema> {
    RefOr::T(Schema::Object(object))
}

// ----- whole numbers as JSON Schema reads them ----------------------------------------------------------

/// Deserializes a whole number the way JSON Schema's `integer` reads one: `183` and `183.0` alike (a number
/// with a zero fraction is an integer), then into `T` (`u16`, `u32`, `u64`), refusing what does not fit.
pub fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    let n = deserializer.deserialize_u64(WholeVisitor)?;
    T::try_from(n).map_err(|_| {
        serde::de::Error::invalid_value(
            serde::de::Unexpected::Unsigned(n),
            &"a smaller whole number",
        )
    })
}

/// [`whole`] for an optional field (`null` or absent is `None`; use with `#[serde(default)]`).
pub fn optional_whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct Wrapped<T>(T);
    impl<'de, T: TryFrom<u64>> serde::Deserialize<'de> for Wrapped<T> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            whole(d).map(Wrapped)
        }
    }
    let value: Option<Wrapped<T>> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.map(|w| w.0))
}

struct WholeVisitor;

impl serde::de::Visitor<'_> for WholeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
        // 2^64 exactly; every smaller non-negative whole f64 converts without loss of its value.
        if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
        }
    }
}

// ----- the rules shared by several types -----------------------------------------------------------------

/// An email address: a dot-atom local part and a domain of dot-separated labels (letters, digits, inner
/// hyphens) ending in a letters-only top-level label. Deliberately stricter than RFC 5322 (no quoted local
/// parts, no IP literals): it is a login name. Compared in lower case.
pub static EMAIL: Pattern = Pattern::new(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
    254,
    "must be an email address like name@example.com (at most 254 characters)",
);

/// Why someone cancels or changes something (an organizer's cancellation, an admin's change): 1 to 500
/// characters, lines allowed; told to the buyers, recorded.
pub const REASON: Text = Text {
    max: 500,
    required: true,
    multiline: true,
};

/// The schema of [`REASON`], for `#[schema(schema_with = ...)]`.
pub fn reason_schema() -> utoipa::openapi::Object {
    REASON.schema()
}

/// `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub static IDEMPOTENCY_KEY: Pattern = Pattern::new(
    r"^[!-~]+$",
    255,
    "must be 1 to 255 visible ASCII characters",
);

/// `If-Match`: the version from an `ETag`, quoted (`"3"`), weak (`W/"3"`) or bare (`3`).
pub static IF_MATCH: Pattern = Pattern::new(
    r#"^(W/"[0-9]{1,15}"|"[0-9]{1,15}"|[0-9]{1,15})$"#,
    20,
    "must be the version (ETag) returned by a previous read",
);

/// A payout's reference (the bank transfer's): 1 to 100 visible ASCII characters, inner spaces allowed.
pub static PAYOUT_REFERENCE: Pattern = Pattern::new(
    r"^[!-~]([ -~]{0,98}[!-~])?$",
    100,
    "must be 1 to 100 visible ASCII characters (spaces only inside)",
);

/// A settlement statement's id: `<day>_<currency>_<organizerId>`.
pub static SETTLEMENT_ID: Pattern = Pattern::new(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}_[A-Z]{3}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    51,
    "must be a settlement id as listings answer it",
);

/// An organizer's commission rate, in basis points of net sales: 0 to 10,000 (100%).
pub const COMMISSION_RATE_BPS: Int = Int::new(0, 10_000);

/// `?limit=` of every listing: 1 to 100 items a page.
pub const PAGE_LIMIT: Int = Int::new(1, 100);

/// `?cursor=`: the `nextCursor` of the previous page (base64url). One that decodes to no position of this
/// listing is a 422.
pub static CURSOR: Pattern = Pattern::new(
    r"^[A-Za-z0-9_-]+$",
    2_048,
    "must be the nextCursor of the previous page",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(pattern: &str) -> regex_lite::Regex {
        regex_lite::Regex::new(pattern).expect("pattern compiles")
    }

    /// Strings around every class boundary the patterns draw.
    fn samples() -> Vec<String> {
        let singles = [
            '\u{0}', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1f}', ' ', '!', 'a', '~', '\u{7f}',
            '\u{80}', '\u{9f}', '\u{a0}', 'é', '\u{3000}', '\u{feff}', '한', '😀',
        ];
        let mut out = vec![String::new()];
        for a in singles {
            out.push(a.to_string());
            for b in singles {
                out.push(format!("{a}{b}"));
                out.push(format!("{a}x{b}"));
            }
        }
        out
    }

    #[test]
    fn text_check_is_exactly_its_pattern_and_lengths() {
        for rule in [Text::line(5), Text::optional_line(5), Text::multiline(5)] {
            let re = regex(&rule.pattern());
            for s in samples() {
                let len = s.chars().count();
                let by_schema = re.is_match(&s) && len <= rule.max && (!rule.required || len >= 1);
                assert_eq!(rule.check("f", &s).is_ok(), by_schema, "{rule:?} on {s:?}");
            }
            let long = "a".repeat(rule.max + 1);
            assert!(rule.check("f", &long).is_err());
            assert!(rule.check("f", &"a".repeat(rule.max)).is_ok());
        }
    }

    #[test]
    fn text_is_trimmed_of_blanks_only() {
        assert_eq!(
            Text::line(20).check("f", "  Hi there ").unwrap(),
            "Hi there"
        );
        assert_eq!(Text::line(20).check("f", "\u{3000}x").unwrap(), "\u{3000}x");
        assert!(Text::line(20).check("f", "   ").is_err());
        assert_eq!(Text::multiline(20).check("f", "").unwrap(), "");
        assert_eq!(Text::multiline(20).check("f", "a\nb\n").unwrap(), "a\nb");
    }

    #[test]
    fn patterns_compile_and_decide() {
        assert!(EMAIL.matches("a.b+c@example.co.kr"));
        assert!(!EMAIL.matches("a..b@example.com"));
        assert!(!EMAIL.matches(" a@example.com"));
        assert!(!EMAIL.matches("a@example"));
        assert!(!EMAIL.matches("a@-x.com"));
        assert!(!EMAIL.matches(&format!("{}@example.com", "a".repeat(250))));
        assert!(IF_MATCH.matches("\"3\"") && IF_MATCH.matches("W/\"3\"") && IF_MATCH.matches("3"));
        assert!(!IF_MATCH.matches("\"3") && !IF_MATCH.matches("null"));
        assert!(IDEMPOTENCY_KEY.matches("order-1") && !IDEMPOTENCY_KEY.matches("a b"));
        assert!(CURSOR.matches("eyJQSyI6IjEifQ") && !CURSOR.matches("a=b"));
    }

    #[test]
    fn whole_numbers_read_as_json_schema_integers() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[serde(deserialize_with = "whole")]
            a: u16,
            #[serde(default, deserialize_with = "optional_whole")]
            b: Option<u32>,
        }
        let t: T = serde_json::from_str(r#"{"a": 183.0, "b": 7}"#).expect("183.0 is an integer");
        assert_eq!((t.a, t.b), (183, Some(7)));
        let t: T = serde_json::from_str(r#"{"a": 1, "b": null}"#).expect("null");
        assert_eq!(t.b, None);
        let t: T = serde_json::from_str(r#"{"a": 1}"#).expect("absent");
        assert_eq!(t.b, None);
        for bad in [
            r#"{"a": 1.5}"#,
            r#"{"a": -1}"#,
            r#"{"a": 70000}"#,
            r#"{"a": "1"}"#,
            r#"{"a": 1e300}"#,
        ] {
            assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ints_parse_exactly_their_range() {
        let limit = Int::new(1, 100);
        assert_eq!(limit.parse("limit", "100").ok(), Some(100));
        for bad in [
            "0",
            "101",
            "-1",
            "+5",
            "1.0",
            "",
            "abc",
            "99999999999999999999",
        ] {
            assert!(limit.parse("limit", bad).is_err(), "{bad}");
        }
    }
}
