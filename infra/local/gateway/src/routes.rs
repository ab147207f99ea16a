//! Route table with API Gateway HTTP API matching rules.
//!
//! - A route key is `METHOD /path` (`ANY` matches every method) or `$default` (matches what nothing else does).
//! - Path segments are literal, `{param}` (one non-empty segment) or a final greedy `{name+}` (one or more
//!   segments).
//! - The most specific route wins: comparing segment by segment, a literal beats `{param}`, which beats a greedy
//!   variable; on equal paths a specific method beats `ANY`; `$default` is last.
//! - A path that exists only under another method does not match (the caller answers 404, as API Gateway does).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::template::{RouteAuth, RouteSpec};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Segment {
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 0,
            Segment::Param(_) => 1,
            Segment::Greedy(_) => 2,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Route {
    /// `GET /performances/{performanceId}`, `ANY /{proxy+}` or `$default`.
    pub key: String,
    /// Upper-case method or `ANY`; `None` for `$default`.
    pub method: Option<String>,
    /// `None` for `$default`.
    pub segments: Option<Vec<Segment>>,
    /// Logical id of the function.
    pub function: String,
    pub auth: RouteAuth,
}

impl Route {
    pub fn from_spec(spec: &RouteSpec) -> Result<Route, String> {
        match (&spec.method, &spec.path) {
            (Some(method), Some(path)) => Ok(Route {
                key: format!("{method} {path}"),
                method: Some(method.clone()),
                segments: Some(parse_path(path)?),
                function: spec.function.clone(),
                auth: spec.auth.clone(),
            }),
            _ => Ok(Route {
                key: "$default".to_string(),
                method: None,
                segments: None,
                function: spec.function.clone(),
                auth: spec.auth.clone(),
            }),
        }
    }

    fn is_any(&self) -> bool {
        self.method.as_deref().is_none_or(|m| m == "ANY")
    }

    /// Match `raw_path` (still percent-encoded) and return the decoded path parameters.
    fn matches(&self, method: &str, raw_path: &str) -> Option<BTreeMap<String, String>> {
        let Some(segments) = &self.segments else {
            return Some(BTreeMap::new());
        };
        if !self.is_any() && self.method.as_deref() != Some(method) {
            return None;
        }
        let parts = split_path(raw_path);
        let mut params = BTreeMap::new();
        for (i, seg) in segments.iter().enumerate() {
            match seg {
                Segment::Literal(lit) => {
                    let part = parts.get(i)?;
                    if *part != lit.as_str() && percent_decode(part) != *lit {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let part = parts.get(i)?;
                    if part.is_empty() {
                        return None;
                    }
                    params.insert(name.clone(), percent_decode(part));
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(i..)?.join("/");
                    if rest.is_empty() {
                        return None;
                    }
                    params.insert(name.clone(), percent_decode(&rest));
                    return Some(params);
                }
            }
        }
        (parts.len() == segments.len()).then_some(params)
    }

    /// Priority order: smaller is more specific.
    fn priority_cmp(&self, other: &Route) -> Ordering {
        match (&self.segments, &other.segments) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.rank().cmp(&y.rank()) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                // Same shape as far as both go: the longer non-greedy path is more specific.
                b.len()
                    .cmp(&a.len())
                    .then_with(|| self.is_any().cmp(&other.is_any()))
            }
        }
    }
}

/// Split a route template or a request path into segments; `/` is no segment, one trailing `/` is ignored.
fn split_path(path: &str) -> Vec<&str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() {
        Vec::new()
    } else {
        p.split('/').collect()
    }
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must start with '/'"));
    }
    let parts = split_path(path);
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if let Some(name) = inner.strip_suffix('+') {
                if i + 1 != parts.len() {
                    return Err(format!("greedy variable must be last in {path:?}"));
                }
                out.push(Segment::Greedy(name.to_string()));
            } else if inner.is_empty() {
                return Err(format!("empty path variable in {path:?}"));
            } else {
                out.push(Segment::Param(inner.to_string()));
            }
        } else {
            out.push(Segment::Literal((*part).to_string()));
        }
    }
    Ok(out)
}

/// A route and the decoded path parameters of the request that matched it.
#[derive(Debug)]
pub struct Match<'a> {
    pub route: &'a Route,
    pub path_params: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Build the table; returns it and warnings (invalid paths, duplicate route keys).
    pub fn new(specs: &[RouteSpec]) -> (RouteTable, Vec<String>) {
        let mut routes: Vec<Route> = Vec::new();
        let mut warnings = Vec::new();
        for spec in specs {
            match Route::from_spec(spec) {
                Ok(r) => {
                    if let Some(prev) = routes.iter().find(|p| p.key == r.key) {
                        warnings.push(format!(
                            "duplicate route {} ({} and {}); keeping {}",
                            r.key, prev.function, r.function, prev.function
                        ));
                    } else {
                        routes.push(r);
                    }
                }
                Err(e) => warnings.push(format!(
                    "{}.{}: {e}; route skipped",
                    spec.function, spec.event
                )),
            }
        }
        // Stable: routes of equal priority keep template order.
        routes.sort_by(Route::priority_cmp);
        (RouteTable { routes }, warnings)
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The most specific route for `method` and the raw (percent-encoded) path.
    pub fn find(&self, method: &str, raw_path: &str) -> Option<Match<'_>> {
        self.routes.iter().find_map(|route| {
            route
                .matches(method, raw_path)
                .map(|path_params| Match { route, path_params })
        })
    }

    /// Whether a route other than `$default` takes `raw_path` under any method.
    pub fn has_path(&self, raw_path: &str) -> bool {
        self.routes.iter().any(|route| {
            route.segments.is_some()
                && route
                    .matches(route.method.as_deref().unwrap_or("ANY"), raw_path)
                    .is_some()
        })
    }
}

/// Percent-decode (`+` stays `+`); invalid escapes are kept as written, invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: &str, path: &str, function: &str) -> RouteSpec {
        RouteSpec {
            function: function.to_string(),
            event: "E".to_string(),
            method: Some(method.to_string()),
            path: Some(path.to_string()),
            auth: RouteAuth::None,
        }
    }

    fn table() -> RouteTable {
        // Deliberately listed least specific first.
        let specs = vec![
            RouteSpec {
                function: "Default".into(),
                event: "D".into(),
                method: None,
                path: None,
                auth: RouteAuth::None,
            },
            spec("ANY", "/{proxy+}", "AnyProxy"),
            spec("GET", "/pets/{proxy+}", "PetsProxy"),
            spec("GET", "/pets/dog/{id}", "DogById"),
            spec("GET", "/pets/dog/1", "Dog1"),
            spec("ANY", "/things/{id}", "AnyThing"),
            spec("DELETE", "/things/{id}", "DeleteThing"),
            spec("GET", "/things/{id}/parts/{part}", "Part"),
            spec("GET", "/", "Root"),
        ];
        let (t, w) = RouteTable::new(&specs);
        assert!(w.is_empty(), "{w:?}");
        t
    }

    fn hit(t: &RouteTable, method: &str, path: &str) -> Option<(String, BTreeMap<String, String>)> {
        t.find(method, path)
            .map(|m| (m.route.function.clone(), m.path_params))
    }

    fn f(t: &RouteTable, method: &str, path: &str) -> String {
        hit(t, method, path).map(|h| h.0).unwrap_or_default()
    }

    #[test]
    fn priority_follows_api_gateway_example() {
        let t = table();
        // The example from the API Gateway HTTP API routing docs.
        assert_eq!(f(&t, "GET", "/pets/dog/1"), "Dog1");
        assert_eq!(f(&t, "GET", "/pets/dog/2"), "DogById");
        assert_eq!(f(&t, "GET", "/pets/cat/1"), "PetsProxy");
        assert_eq!(f(&t, "POST", "/pets/dog/1"), "AnyProxy");
        assert_eq!(f(&t, "GET", "/"), "Root");
        assert_eq!(f(&t, "POST", "/"), "Default");
        // Specific method beats ANY on the same path.
        assert_eq!(f(&t, "DELETE", "/things/7"), "DeleteThing");
        assert_eq!(f(&t, "PUT", "/things/7"), "AnyThing");
        assert_eq!(f(&t, "GET", "/things/7/parts/9"), "Part");
        assert_eq!(f(&t, "POST", "/things/7/parts/9"), "AnyProxy");
    }

    #[test]
    fn no_match_without_default_and_wrong_method() {
        let (t, _) = RouteTable::new(&[
            spec("GET", "/performances/{performanceId}", "Get"),
            spec("GET", "/performances", "List"),
        ]);
        assert_eq!(f(&t, "GET", "/performances"), "List");
        assert_eq!(f(&t, "GET", "/performances/"), "List");
        assert!(hit(&t, "POST", "/performances").is_none());
        assert!(hit(&t, "DELETE", "/performances/1").is_none());
        assert!(hit(&t, "GET", "/performances/1/x").is_none());
        assert!(hit(&t, "GET", "/").is_none());
        assert!(hit(&t, "GET", "/performances//").is_none());
        assert!(t.has_path("/performances/1"));
        assert!(!t.has_path("/performances/1/x"));
    }

    #[test]
    fn path_params_are_decoded() {
        let (t, _) = RouteTable::new(&[
            spec(
                "GET",
                "/performances/{performanceId}/shows/{showId}",
                "Show",
            ),
            spec("GET", "/files/{proxy+}", "Files"),
            spec("GET", "/caf\u{e9}", "Cafe"),
        ]);
        let (func, params) = hit(&t, "GET", "/performances/a%20b%2Fc/shows/%E2%9C%93+x").unwrap();
        assert_eq!(func, "Show");
        assert_eq!(params["performanceId"], "a b/c");
        assert_eq!(params["showId"], "\u{2713}+x");
        let (func, params) = hit(&t, "GET", "/files/a/b%20c/d").unwrap();
        assert_eq!(func, "Files");
        assert_eq!(params["proxy"], "a/b c/d");
        // Greedy needs at least one segment.
        assert!(hit(&t, "GET", "/files").is_none());
        assert_eq!(f(&t, "GET", "/caf%C3%A9"), "Cafe");
    }

    #[test]
    fn decoding_edge_cases() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41%42"), "AB");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn bad_templates_are_reported() {
        let (t, w) = RouteTable::new(&[
            spec("GET", "/a/{proxy+}/b", "Bad"),
            spec("GET", "/a", "A"),
            spec("GET", "/a", "A2"),
        ]);
        assert_eq!(t.routes().len(), 1);
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
