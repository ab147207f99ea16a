//! The console: a built single-page app (Vite's `console/dist`) served under `/console/` on the API's origin.
//!
//! - `GET`/`HEAD /console` redirects (308) to `/console/`; other methods on console paths get 405.
//! - `/console/<file>` serves the file from the directory, read on every request (a rebuild shows at once).
//! - Any other path serves `index.html` (the app routes on the client), except a path whose last segment has a
//!   file extension: a missing asset is a 404, not the app.
//! - Nothing outside the directory is served: `..`, `.`, empty and encoded-separator segments are refused, and
//!   the file's canonical path must lie under the directory's.
//! - `assets/` (Vite's content-hashed names) is cached for a year; `index.html` is revalidated every time.
//! - A precompressed `<file>.gz` beside the file is sent to a client that accepts gzip.
//! - Without a directory, or with one that has no `index.html`, every console path is a 404 problem saying the
//!   console is not built.
//!
//! Errors are `application/problem+json` documents shaped like the API's own.

use std::path::{Component, Path, PathBuf};

use http::header::{
    HeaderValue, ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, LOCATION,
    VARY, X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use tracing::{debug, error, warn};

use crate::response::{problem, HttpResponse};
use crate::routes::percent_decode;

/// The path prefix the console is served under.
pub const PREFIX: &str = "/console";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";
const HTML: &str = "text/html; charset=utf-8";

/// `/console` itself or anything under `/console/`.
pub fn is_console_path(raw_path: &str) -> bool {
    raw_path
        .strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Why a request path under `/console/` is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PathError {
    #[error("empty segment in the path")]
    EmptySegment,
    #[error("path segment {0:?} is not allowed")]
    Segment(String),
}

/// The decoded segments of the path after `/console/` (a trailing `/` adds none). Refuses `.`, `..`, empty
/// segments and segments that decode to a separator, a NUL or anything else that is not one plain file name.
pub fn segments(rest: &str) -> Result<Vec<String>, PathError> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|raw| {
            if raw.is_empty() {
                return Err(PathError::EmptySegment);
            }
            let seg = percent_decode(raw);
            let plain = !seg.contains(['/', '\\', '\0'])
                && matches!(
                    Path::new(&seg).components().collect::<Vec<_>>().as_slice(),
                    [Component::Normal(_)]
                );
            if plain && seg != "." && seg != ".." {
                Ok(seg)
            } else {
                Err(PathError::Segment(seg))
            }
        })
        .collect()
}

/// The content type for a file name, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html") => HTML,
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json" | "map") => "application/json",
        Some("woff2") => "font/woff2",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether `accept-encoding` takes gzip (with a non-zero q-value).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            coding.eq_ignore_ascii_case("gzip") && q > 0.0
        })
}

/// The console's file server; holds only the directory's path, everything else is read per request.
#[derive(Clone, Debug, Default)]
pub struct Console {
    dir: Option<PathBuf>,
}

/// What a requested path resolved to.
enum Resolved {
    File(PathBuf),
    /// Missing, or not a regular file (a directory, say).
    NotAFile,
    /// It exists but its canonical path is outside the console directory (a symlink out of it).
    Outside(PathBuf),
}

impl Console {
    pub fn new(dir: Option<PathBuf>) -> Console {
        Console { dir }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Answer a request whose path [`is_console_path`].
    pub async fn serve(
        &self,
        method: &Method,
        raw_path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> HttpResponse {
        if method != Method::GET && method != Method::HEAD {
            let mut resp = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                &format!("{method} is not a method of the console; it takes GET, HEAD"),
            );
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let Some(dir) = &self.dir else {
            return not_built(
                "the gateway was started without --console-dir; build the console with `npm run build` \
                 in console/ and start the gateway with --console-dir console/dist",
            );
        };
        let Some(rest) = raw_path.strip_prefix("/console/") else {
            return redirect(query);
        };
        let segments = match segments(rest) {
            Ok(s) => s,
            Err(e) => {
                debug!("console path {raw_path:?} refused: {e}");
                return problem(
                    StatusCode::BAD_REQUEST,
                    "invalid-path",
                    "Invalid path",
                    &format!("{raw_path} is not a path of the console: {e}"),
                );
            }
        };

        let root = match tokio::fs::canonicalize(dir).await {
            Ok(r) => r,
            Err(e) => {
                debug!("console directory {}: {e}", dir.display());
                return not_built(&format!(
                    "{} does not exist; build the console with `npm run build` in console/",
                    dir.display()
                ));
            }
        };
        let index = match resolve(&root, &root.join("index.html")).await {
            Resolved::File(p) => p,
            _ => {
                return not_built(&format!(
                    "{} has no index.html; build the console with `npm run build` in console/",
                    dir.display()
                ))
            }
        };

        let Some(last) = segments.last() else {
            return file_response(&index, HTML, NO_CACHE, headers, &root).await;
        };
        let requested = segments.iter().fold(root.clone(), |p, s| p.join(s));
        match resolve(&root, &requested).await {
            Resolved::File(file) => {
                let cache = if segments.first().is_some_and(|s| s == "assets") {
                    IMMUTABLE
                } else if file == index {
                    NO_CACHE
                } else {
                    ""
                };
                file_response(&file, content_type(&file), cache, headers, &root).await
            }
            Resolved::Outside(target) => {
                warn!(
                    "console path {raw_path:?} leads outside {} (to {}); refused",
                    root.display(),
                    target.display()
                );
                not_found(raw_path)
            }
            Resolved::NotAFile if Path::new(last).extension().is_some() => not_found(raw_path),
            // A client-side route: the app itself.
            Resolved::NotAFile => file_response(&index, HTML, NO_CACHE, headers, &root).await,
        }
    }
}

/// Canonicalize `path` and check it is a regular file under `root` (itself canonical).
async fn resolve(root: &Path, path: &Path) -> Resolved {
    let Ok(canonical) = tokio::fs::canonicalize(path).await else {
        return Resolved::NotAFile;
    };
    if !canonical.starts_with(root) {
        return Resolved::Outside(canonical);
    }
    match tokio::fs::metadata(&canonical).await {
        Ok(m) if m.is_file() => Resolved::File(canonical),
        _ => Resolved::NotAFile,
    }
}

/// The file (or its `.gz` sibling when the client takes gzip), with its headers.
async fn file_response(
    file: &Path,
    content_type: &'static str,
    cache: &'static str,
    headers: &HeaderMap,
    root: &Path,
) -> HttpResponse {
    let mut source = file.to_path_buf();
    let mut gzip = false;
    if accepts_gzip(headers) {
        let mut gz = file.as_os_str().to_os_string();
        gz.push(".gz");
        if let Resolved::File(p) = resolve(root, Path::new(&gz)).await {
            source = p;
            gzip = true;
        }
    }
    let body = match tokio::fs::read(&source).await {
        Ok(b) => b,
        Err(e) => {
            error!("cannot read console file {}: {e}", source.display());
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the console file could not be read",
            );
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if !cache.is_empty() {
        h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    if gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

fn redirect(query: Option<&str>) -> HttpResponse {
    let location = match query {
        Some(q) if !q.is_empty() => format!("{PREFIX}/?{q}"),
        _ => format!("{PREFIX}/"),
    };
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::PERMANENT_REDIRECT;
    resp.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/console/")),
    );
    resp
}

fn not_built(detail: &str) -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        "console-not-built",
        "The console is not built",
        detail,
    )
}

fn not_found(raw_path: &str) -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        &format!("route {raw_path} not found"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths() {
        assert!(is_console_path("/console"));
        assert!(is_console_path("/console/"));
        assert!(is_console_path("/console/organizer/performances/1"));
        assert!(!is_console_path("/consoles"));
        assert!(!is_console_path("/"));
        assert!(!is_console_path("/performances"));
    }

    #[test]
    fn segments_are_checked() {
        assert_eq!(segments(""), Ok(vec![]));
        assert_eq!(segments("a/b/"), Ok(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(segments("a%20b.js"), Ok(vec!["a b.js".to_string()]));
        assert_eq!(segments("a//b"), Err(PathError::EmptySegment));
        assert_eq!(segments("/etc/passwd"), Err(PathError::EmptySegment));
        for bad in [
            "..",
            "../x",
            "a/../../x",
            "%2e%2e/x",
            "%2E%2E",
            ".",
            "a/%2fetc",
            "%2Fetc%2Fpasswd",
            "..%5cx",
            "a%00b",
        ] {
            assert!(matches!(segments(bad), Err(PathError::Segment(_))), "{bad}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("index.html")), HTML);
        assert_eq!(
            content_type(Path::new("assets/index-abc.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a.MJS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("a.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("a.js.map")), "application/json");
        assert_eq!(
            content_type(Path::new("a.wasm")),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(Path::new("LICENSE")),
            "application/octet-stream"
        );
    }

    #[test]
    fn gzip_acceptance() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5, deflate"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!with("x-gzip2"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
