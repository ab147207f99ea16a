//! Access control over every route of the template, generated from its route table (not hand-picked):
//! each function's `Metadata.Access` says who may call it, and every protected route must refuse anonymous,
//! forged, `alg: none`, expired, logged-out, wrong-role and other-member callers with 401/403, while the
//! right caller gets past the door.

use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};
use ticketing_tests::{
    admin, call, decode_claims, member, signing_key, template_routes, Member, Reply, Route,
};

const REFUSED: [u16; 2] = [401, 403];

/// The route's path with its parameters filled: `{memberId}` with `member_id`, anything else with a fresh id.
fn concrete(route: &Route, member_id: &str) -> String {
    route
        .path
        .split('/')
        .map(|seg| match seg {
            "{memberId}" => member_id.to_string(),
            s if s.starts_with('{') => uuid::Uuid::now_v7().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(route: &Route) -> Method {
    Method::from_bytes(route.method.as_bytes())
        .unwrap_or_else(|_| panic!("bad method in {route:?}"))
}

/// A harmless JSON body for routes that take one: the refusal must come before the body is looked at.
fn body(route: &Route) -> Option<Value> {
    matches!(route.method.as_str(), "POST" | "PUT").then(|| json!({}))
}

async fn send(route: &Route, path: &str, authorization: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    call(method(route), path, body(route).as_ref(), &headers).await
}

fn protected() -> Vec<Route> {
    let routes = template_routes();
    assert!(
        routes.len() >= 10,
        "the template's route table looks wrong: {routes:?}"
    );
    for r in &routes {
        assert!(
            ["public", "member", "organizer", "admin"].contains(&r.access.as_str()),
            "{} {} ({}) must state its Access in Metadata",
            r.method,
            r.path,
            r.function
        );
    }
    routes
        .into_iter()
        .filter(|r| r.access != "public")
        .collect()
}

fn forged_tokens(valid: &str, key: &str) -> Vec<(&'static str, String)> {
    let claims = decode_claims(valid);
    let mut parts: Vec<String> = valid.split('.').map(str::to_string).collect();
    // Tampered: flip the signature's first character.
    let sig = parts[2].clone();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    parts[2] = format!("{flipped}{}", &sig[1..]);
    let tampered = parts.join(".");
    // Tampered claims: promote ourselves to ADMIN, keep the old signature.
    let mut promoted = claims.clone();
    promoted["role"] = json!("ADMIN");
    let promoted_payload = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(promoted.to_string())
    };
    let re_signed_claims = format!("{}.{}.{}", parts[0], promoted_payload, sig);
    // alg none: header {"alg":"none"}, no signature.
    let none_header = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    };
    let alg_none = format!("{none_header}.{promoted_payload}.");
    // Expired, but otherwise perfect: signed with the real key.
    let mut expired = claims.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    expired["iat"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let expired = encode(
        &Header::default(),
        &expired,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("mint: {e}"));
    // Signed with another key.
    let other_key = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(b"not-the-key-not-the-key-not-the-key"),
    )
    .unwrap_or_else(|e| panic!("mint: {e}"));
    vec![
        ("tampered signature", tampered),
        ("tampered claims", re_signed_claims),
        ("alg none", alg_none),
        ("expired", expired),
        ("wrong key", other_key),
        ("garbage", "not-a-jwt".to_string()),
    ]
}

#[tokio::test]
async fn every_protected_route_refuses_bad_credentials() {
    let routes = protected();
    let key = signing_key().await;
    let admin = admin().await;
    let user = member("USER").await;
    // A logged-out token: log out with one token of the admin; it must stop working everywhere at once.
    let logged_out = admin.login_again().await;
    let reply = call(
        Method::POST,
        "/logout",
        None,
        &[("authorization", &format!("Bearer {logged_out}"))],
    )
    .await;
    assert!(matches!(reply.status, 200 | 204), "logout: {}", reply.text);

    let forged = forged_tokens(&admin.token, &key);
    for route in &routes {
        let path = concrete(route, &admin.id);
        let reply = send(route, &path, None).await;
        assert_eq!(
            reply.status, 401,
            "anonymous {} {path}: {}",
            route.method, reply.text
        );
        for (what, token) in &forged {
            let reply = send(route, &path, Some(&format!("Bearer {token}"))).await;
            assert!(
                REFUSED.contains(&reply.status),
                "{what} token on {} {path}: {} {}",
                route.method,
                reply.status,
                reply.text
            );
        }
        let reply = send(route, &path, Some(&format!("Bearer {logged_out}"))).await;
        assert!(
            REFUSED.contains(&reply.status),
            "logged-out token on {} {path}: {} {}",
            route.method,
            reply.status,
            reply.text
        );
        let reply = send(route, &path, Some(&admin.token)).await;
        assert!(
            REFUSED.contains(&reply.status),
            "token without Bearer on {} {path}: {}",
            route.method,
            reply.status
        );

        // The right caller gets past the door (whatever the handler then says about the made-up ids). A fresh
        // token and a made-up member id, since the call is real: POST /logout and DELETE /members/{id} act.
        let fresh = format!("Bearer {}", admin.login_again().await);
        let path = concrete(route, &uuid::Uuid::now_v7().to_string());
        let reply = send(route, &path, Some(&fresh)).await;
        assert!(
            !REFUSED.contains(&reply.status),
            "admin refused on {} {path}: {} {}",
            route.method,
            reply.status,
            reply.text
        );
        assert!(
            reply.status < 500,
            "{} {path} answered {}: {}",
            route.method,
            reply.status,
            reply.text
        );
    }
    // The user's own token still works after all that: refusals are about the token, not the member.
    let me = user
        .call(Method::GET, &format!("/members/{}", user.id), None)
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
}

#[tokio::test]
async fn roles_and_ownership_are_enforced_on_every_route() {
    let routes = protected();
    let user = member("USER").await;
    let organizer = member("ORGANIZER").await;
    let other = member("USER").await;
    let callers: [(&str, &Member); 2] = [("USER", &user), ("ORGANIZER", &organizer)];
    for route in &routes {
        for (role, who) in callers {
            let allowed = match route.access.as_str() {
                "member" => true,
                "organizer" => role == "ORGANIZER",
                _ => false,
            };
            if allowed {
                // A member of its own for the allowed call: it is real (it may log out or delete them).
                let fresh = member(role).await;
                let path = concrete(route, &fresh.id);
                let reply = send(route, &path, Some(&fresh.auth())).await;
                assert!(
                    !REFUSED.contains(&reply.status),
                    "{role} refused on {} {path}: {}",
                    route.method,
                    reply.text
                );
                assert!(
                    reply.status < 500,
                    "{} {path} answered {}: {}",
                    route.method,
                    reply.status,
                    reply.text
                );
            } else {
                let path = concrete(route, &who.id);
                let reply = send(route, &path, Some(&who.auth())).await;
                assert_eq!(
                    reply.status, 403,
                    "{role} on {} {} ({}): {}",
                    route.method, path, route.access, reply.text
                );
            }
        }
        // Member-scoped routes: somebody else's id gets nothing.
        if route.path.contains("{memberId}") {
            let path = concrete(route, &other.id);
            let reply = send(route, &path, Some(&user.auth())).await;
            assert_eq!(
                reply.status, 403,
                "other member on {} {path}: {}",
                route.method, reply.text
            );
        }
    }
    let still_there = other
        .call(Method::GET, &format!("/members/{}", other.id), None)
        .await;
    assert_eq!(
        still_there.status, 200,
        "the other member was not changed or deleted: {}",
        still_there.text
    );
}
