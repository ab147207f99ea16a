//! Members: signed up and logged in through the API, an admin made the documented way, tokens.

use crate::*;
use serde_json::Value;

/// A signed-up member with a fresh access token.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub password: String,
    pub role: String,
    pub token: String,
}

impl Member {
    pub fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Sends a request with this member's token.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
        call(method, path, body, &[("authorization", &self.auth())]).await
    }

    /// A second, independent token for the same member.
    pub async fn login_again(&self) -> String {
        login(&self.email, &self.password).await
    }
}

pub async fn login(email: &str, password: &str) -> String {
    let body = serde_json::json!({"email": email, "password": password});
    let reply = call(reqwest::Method::POST, "/login", Some(&body), &[]).await;
    assert_eq!(reply.status, 200, "login: {}", reply.text);
    reply.json["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login gave no token: {}", reply.text))
        .to_string()
}

/// Signs up a new member through `POST /signup` (USER or ORGANIZER) and logs in.
pub async fn member(role: &str) -> Member {
    let email = format!("{}-{}@example.com", role.to_ascii_lowercase(), unique());
    let password = format!("pw-{}", unique());
    let body = serde_json::json!({"email": email, "password": password, "name": format!("Test {role}"), "role": role});
    let reply = call(reqwest::Method::POST, "/signup", Some(&body), &[]).await;
    assert_eq!(reply.status, 201, "signup: {}", reply.text);
    let id = reply.json["id"]
        .as_str()
        .unwrap_or_else(|| panic!("signup gave no id: {}", reply.text))
        .to_string();
    let token = login(&email, &password).await;
    Member {
        id,
        email,
        password,
        role: role.to_string(),
        token,
    }
}

/// An organizer creates a performance; an admin approves it so it is public. Returns the approval's reply.
pub async fn publish(organizer: &Member, body: &Value) -> Reply {
    let created = organizer
        .call(reqwest::Method::POST, "/performances", Some(body))
        .await;
    assert_eq!(created.status, 201, "create: {}", created.text);
    let id = created.json["id"].as_str().unwrap_or_default().to_string();
    let approved = admin()
        .await
        .call(
            reqwest::Method::POST,
            &format!("/admin/performances/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(approved.status, 200, "approve: {}", approved.text);
    approved
}

/// An admin, made once per test binary the documented way: the `ticketing-admin create-admin` bootstrap.
pub async fn admin() -> Member {
    static ADMIN: tokio::sync::OnceCell<(String, String)> = tokio::sync::OnceCell::const_new();
    let (email, password) = ADMIN
        .get_or_init(|| async {
            let email = format!("admin-{}@example.com", unique());
            let password = format!("pw-{}", unique());
            let output = ticketing_admin(
                &[
                    "create-admin",
                    "--table",
                    &stack().table_name(),
                    "--email",
                    &email,
                ],
                &[("TICKETING_ADMIN_PASSWORD", &password)],
            )
            .await;
            assert!(
                output.status.success(),
                "create-admin failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            (email, password)
        })
        .await
        .clone();
    let token = login(&email, &password).await;
    let claims = decode_claims(&token);
    Member {
        id: claims["sub"].as_str().unwrap_or_default().to_string(),
        email,
        password,
        role: "ADMIN".into(),
        token,
    }
}

/// The claims of a JWT, unverified (for tests that build tokens of their own).
pub fn decode_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// The stack's token-signing key, read from its Secrets Manager secret (to mint tokens the API must refuse).
pub async fn signing_key() -> String {
    let stack = stack();
    let arn = stack
        .outputs
        .outputs
        .get("SigningKeySecretArn")
        .unwrap_or_else(|| panic!("no SigningKeySecretArn output: {:?}", stack.outputs.outputs));
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url(&stack.outputs.endpoint)
        .http_client(ticketing::aws::http_client())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .build();
    let secret = aws_sdk_secretsmanager::Client::from_conf(config)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("read signing key: {e:?}"));
    secret.secret_string().unwrap_or_default().to_string()
}
