//! Ticketing backend library.
//!
//! # Layout
//!
//! Layers from the bottom up; each imports only the layers below it (the test `layers` below checks it).
//!
//! 1. **Domain**: [`domain`], the crate `ticketing-domain` (`shared/domain/`): every plain rule, the field
//!    rules, the events and their constructors, the payment provider's port. No AWS, Lambda or HTTP crate.
//! 2. **Errors and infrastructure**: [`error`] (`AppError`: what a use-case ends in, no HTTP in it), [`aws`]
//!    (one HTTP client for every SDK client), [`cache`] (per-container caches), [`telemetry`] (JSON logs).
//! 3. **Adapters**: [`store`] (the DynamoDB single table: its own `StoreError`, which owns the SDK
//!    conversions and becomes an `AppError` in one `From`; every key in `store::keys`, every access pattern
//!    in its module's table), [`sfn`] (Step Functions), [`events`] (putting events on the bus), [`payments`]
//!    (the provider: the local test mode), [`auth`] (tokens, password hashes), [`faults`] (test stacks'
//!    crash switches).
//! 4. **Use-cases**: [`app`], one module per domain operation (the hold, cancellations, members, the
//!    wallet, performances, showtimes, the waiting room's queue, resuming what stalled); [`runtime`] (the
//!    state every request function builds once at start-up).
//! 5. **Edges**: [`handlers`] (one async function per API route: parse, call the app, present; they share
//!    only `handlers/mod.rs`'s edge helpers, never each other), [`saga`] (the state machines' steps:
//!    `saga/mod.rs` reads and dispatches a step and names its errors; one child module per machine,
//!    `saga::reservation`, `saga::cancellation` and `saga::sweep`, one file per state), [`consumers`] (the
//!    event consumers), [`outbox`] (the publisher), [`inlet`] (the waiting room's scheduled inlet),
//!    [`repair`] (the repairer), [`dlq`]; [`http`] maps an `AppError` to its problem response, once.
//! 6. **The document**: [`openapi`], the OpenAPI description of the handlers' types, and the two routes that
//!    answer from it (`GET /openapi.json` and the `$default` route).

pub mod app;
pub mod auth;
pub mod aws;
pub mod cache;
pub mod consumers;
pub mod dlq;
/// The domain rules, in their own crate (`shared/domain`): plain Rust, no AWS types.
pub use ticketing_domain as domain;
pub mod error;
pub mod events;
pub mod faults;
pub mod handlers;
pub mod http;
pub mod inlet;
pub mod openapi;
pub mod outbox;
pub mod payments;
pub mod repair;
pub mod runtime;
pub mod saga;
pub mod sfn;
pub mod store;
pub mod telemetry;

pub use error::{AppError, FieldError};

/// The layering of the Layout section above, checked on the source text: no module imports a layer above
/// its own (but for the crossings named here, still being worked off), no handler file imports another, and
/// no two top-level modules import each other (but for the pairs named here).
#[cfg(test)]
mod layers {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    /// Each top-level module of `src/` and its layer, from the bottom up (the domain is a crate below them).
    const LAYERS: &[(&str, u8)] = &[
        ("error", 2),
        ("aws", 2),
        ("cache", 2),
        ("telemetry", 2),
        ("store", 3),
        ("sfn", 3),
        ("events", 3),
        ("payments", 3),
        ("auth", 3),
        ("faults", 3),
        ("app", 4),
        ("inlet", 5),
        ("runtime", 4),
        ("handlers", 5),
        ("saga", 5),
        ("consumers", 5),
        ("outbox", 5),
        ("dlq", 5),
        ("repair", 5),
        ("http", 5),
        ("openapi", 6),
    ];

    /// Imports that still go up a layer (issue 22).
    const UPWARD: &[(&str, &str)] = &[];
    /// Top-level modules that still import each other (issue 22).
    const MUTUAL: &[(&str, &str)] = &[];

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    sources(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The code of a file without comments and without its unit tests.
    fn code(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        text.lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `crate::<name>` (and `super::<name>` one level down) references of a file's code.
    fn references(code: &str, prefix: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
        out
    }

    fn top_of(src: &Path, path: &Path) -> String {
        let rel = path.strip_prefix(src).unwrap_or(path);
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string());
        first
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string()
    }

    #[test]
    fn no_module_imports_a_layer_above_it_and_no_handler_imports_another() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
        let mut files = Vec::new();
        sources(&src, &mut files);
        let handlers: BTreeSet<String> = files
            .iter()
            .filter(|p| p.parent().is_some_and(|d| d.ends_with("handlers")))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()))
            .filter(|s| s != "mod")
            .collect();
        let mut imports: BTreeSet<(String, String)> = BTreeSet::new();
        let mut broken = Vec::new();
        for path in &files {
            let top = top_of(&src, path);
            if top == "lib" {
                continue;
            }
            let code = code(path);
            for name in references(&code, "crate::") {
                if name != top && layer.contains_key(name.as_str()) {
                    imports.insert((top.clone(), name));
                }
            }
            let in_handlers = path.parent().is_some_and(|d| d.ends_with("handlers"));
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            if in_handlers && stem != "mod" {
                let siblings: BTreeSet<String> = references(&code, "super::")
                    .into_iter()
                    .chain(references(&code, "crate::handlers::"))
                    .filter(|n| handlers.contains(n) && *n != stem)
                    .collect();
                for sibling in siblings {
                    broken.push(format!("handlers/{stem}.rs imports the handler {sibling}"));
                }
            }
        }
        let unknown: Vec<_> = files
            .iter()
            .map(|p| top_of(&src, p))
            .filter(|t| t != "lib" && !layer.contains_key(t.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "modules without a layer in LAYERS: {unknown:?}"
        );
        for (from, to) in &imports {
            if layer[from.as_str()] < layer[to.as_str()]
                && !UPWARD.contains(&(from.as_str(), to.as_str()))
            {
                broken.push(format!(
                    "{from} (layer {}) imports {to} (layer {})",
                    layer[from.as_str()],
                    layer[to.as_str()]
                ));
            }
            let mutual = MUTUAL.contains(&(from.as_str(), to.as_str()))
                || MUTUAL.contains(&(to.as_str(), from.as_str()));
            if from < to && imports.contains(&(to.clone(), from.clone())) && !mutual {
                broken.push(format!("{from} and {to} import each other"));
            }
        }
        assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
    }

    /// A string literal that starts like a table key (`"MEMBER#`, `"SLOT#`, ...).
    fn key_literal(line: &str) -> bool {
        line.split('"').skip(1).step_by(2).any(|literal| {
            let prefix: String = literal
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            prefix.len() >= 2 && literal[prefix.len()..].starts_with('#')
        })
    }

    #[test]
    fn every_table_key_is_spelled_in_store_keys() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let keys = src.join("store").join("keys.rs");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut elsewhere = Vec::new();
        for path in files.iter().filter(|p| **p != keys) {
            for (n, line) in code(path).lines().enumerate() {
                if key_literal(line) {
                    let rel = path.strip_prefix(&src).unwrap_or(path).display();
                    elsewhere.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            elsewhere.is_empty(),
            "table keys built outside store/keys.rs:\n{}",
            elsewhere.join("\n")
        );
        assert!(key_literal(r#"s(format!("MEMBER#{id}"))"#));
        assert!(!key_literal(r##"format!("#/components/schemas/{x}")"##));
        assert!(!key_literal(r#"s("WALLET")"#));
    }
}
