//! The OpenAPI document and the template's routes describe the same API: a route missing from either side
//! fails here. The document served through the gateway is the one the library generates.

use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use ticketing_tests::{call, template_routes};

fn document_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn every_template_route_is_documented_and_nothing_else() {
    let doc: Value =
        serde_json::from_str(ticketing::openapi::document()).expect("the document is JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let documented = document_routes(&doc);
    let deployed: BTreeSet<(String, String)> = template_routes()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let undocumented: Vec<_> = deployed.difference(&documented).collect();
    let not_deployed: Vec<_> = documented.difference(&deployed).collect();
    assert!(
        undocumented.is_empty(),
        "routes in infra/template.yaml missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        not_deployed.is_empty(),
        "routes in the OpenAPI document that infra/template.yaml does not deploy: {not_deployed:?}"
    );
}

#[test]
fn protected_routes_declare_the_bearer_scheme_and_public_ones_do_not() {
    let doc: Value =
        serde_json::from_str(ticketing::openapi::document()).expect("the document is JSON");
    for route in template_routes() {
        let op = &doc["paths"][&route.path][route.method.to_lowercase()];
        let requirements = op["security"].as_array().cloned().unwrap_or_default();
        // `{}` among the requirements makes the token optional (a public read that shows its organizer more).
        let secured = !requirements.is_empty()
            && !requirements
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
        assert_eq!(
            secured,
            route.access != "public",
            "{} {} is {}",
            route.method,
            route.path,
            route.access
        );
    }
}

#[tokio::test]
async fn the_gateway_serves_the_document() {
    let reply = call(Method::GET, "/openapi.json", None, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let expected: Value = serde_json::from_str(ticketing::openapi::document()).expect("JSON");
    assert_eq!(reply.json, expected);
}

/// The console's API client is generated from `console/openapi.json`; this snapshot must be the document the
/// gateway serves, so the console can never drift from the API. After changing the API, refresh it with
/// `TICKETING_UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p ticketing-tests --test integration openapi::` (then rebuild the console).
#[tokio::test]
async fn the_console_snapshot_is_the_served_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/openapi.json");
    let reply = call(Method::GET, "/openapi.json", None, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    if std::env::var_os("TICKETING_UPDATE_OPENAPI_SNAPSHOT").is_some() {
        let pretty = serde_json::to_string_pretty(&reply.json).expect("JSON") + "\n";
        std::fs::write(&path, pretty).expect("console/openapi.json written");
    }
    let snapshot: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("console/openapi.json is committed"),
    )
    .expect("console/openapi.json is JSON");
    assert!(
        snapshot == reply.json,
        "console/openapi.json differs from the served /openapi.json: refresh it with \
         TICKETING_UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p ticketing-tests --test integration openapi::"
    );
}
