//! Harness for the integration tests. They run against the local stack that `infra/local/test.sh` starts:
//! LocalStack with our functions as real `bootstrap` processes, the stack deployed from `infra/template.yaml`,
//! and the local gateway serving the template's routes. The script passes where everything is through
//! `TICKETING_API_URL` and `TICKETING_OUTPUTS` (the deploy's outputs.json). Tests isolate their data with
//! unique ids, so they run in parallel and against a stack other runs have used.

use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub struct Outputs {
    pub endpoint: String,
    #[serde(default)]
    pub functions: HashMap<String, String>,
    #[serde(default)]
    pub resources: HashMap<String, String>,
    #[serde(default)]
    pub outputs: HashMap<String, String>,
}

pub struct Stack {
    pub api: String,
    pub outputs: Outputs,
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests through infra/local/test.sh, which starts the local stack")
    })
}

/// The stack under test, read once per test binary.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let path = required_env("TICKETING_OUTPUTS");
        let raw =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let outputs: Outputs =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("bad {path}: {e}"));
        Stack {
            api: required_env("TICKETING_API_URL")
                .trim_end_matches('/')
                .to_string(),
            outputs,
        }
    })
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    pub fn table_name(&self) -> String {
        self.outputs
            .outputs
            .get("TableName")
            .or_else(|| self.outputs.resources.get("Table"))
            .cloned()
            .unwrap_or_else(|| panic!("the deploy outputs name no table: {:?}", self.outputs))
    }

    /// The deploy output `name` (panics naming the outputs when there is none).
    pub fn output(&self, name: &str) -> String {
        self.outputs
            .outputs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("the deploy outputs have no {name}: {:?}", self.outputs))
    }

    /// The name of the deployed event bus.
    pub fn event_bus_name(&self) -> String {
        self.outputs
            .outputs
            .get("EventBusName")
            .cloned()
            .unwrap_or_else(|| panic!("the deploy outputs name no event bus: {:?}", self.outputs))
    }

    /// The SDK configuration of every client of the local stack: fixed region and credentials, LocalStack's
    /// endpoint, our HTTP client.
    fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.outputs.endpoint)
            .http_client(ticketing::aws::http_client())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("test", "test", None, None, "static"),
                ),
            )
            .build()
    }

    /// Invokes the deployed function the deploy output `output` names with `payload` (Lambda's Invoke API,
    /// synchronously); its answer.
    pub async fn invoke(&self, output: &str, payload: &Value) -> Value {
        let name = self.output(output);
        let reply = reqwest::Client::new()
            .post(format!(
                "{}/2015-03-31/functions/{name}/invocations",
                self.outputs.endpoint
            ))
            // LocalStack reads the region from the credential scope and checks no signature.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
            )
            .json(payload)
            .send()
            .await
            .expect("invoke");
        let status = reply.status();
        let function_error = reply
            .headers()
            .get("x-amz-function-error")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let text = reply.text().await.unwrap_or_default();
        assert!(
            status.is_success() && function_error.is_none(),
            "{name} answered {status} {function_error:?}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// LocalStack's endpoint (for its `/_aws/...` inspection routes).
    pub fn endpoint(&self) -> &str {
        &self.outputs.endpoint
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config())
    }

    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk_config())
    }

    /// A Step Functions client, and the reservation saga's ARN.
    pub fn sfn(&self) -> (aws_sdk_sfn::Client, String) {
        self.sfn_of("ReservationStateMachineArn")
    }

    /// A Step Functions client, and the ARN of the state machine the deploy output `output` names.
    pub fn sfn_of(&self, output: &str) -> (aws_sdk_sfn::Client, String) {
        let arn = self
            .outputs
            .outputs
            .get(output)
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "the deploy outputs name no state machine: {:?}",
                    self.outputs
                )
            });
        (aws_sdk_sfn::Client::new(&self.sdk_config()), arn)
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
    }
}

/// A response read in full: status, headers, and the body as JSON (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an `application/problem+json` answer with this status and `type`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, kind: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.json["type"], kind, "body: {}", self.text);
        &self.json
    }
}

/// Sends a request with an optional JSON body and extra headers.
pub async fn call(
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let stack = stack();
    // A client per call: every #[tokio::test] runs its own runtime, and a pooled connection made on one
    // runtime dies with it, so a client shared between tests fails at random on a reused connection.
    let mut request = reqwest::Client::new().request(method, stack.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request to {path} failed: {e:?}"));
    Reply::read(response).await
}

pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

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

/// Runs the operator tool `ticketing-admin` (the debug build, or `TICKETING_ADMIN_BIN`) against the local
/// stack with `args` and the extra environment `env`; its output.
pub async fn ticketing_admin(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let binary = std::env::var("TICKETING_ADMIN_BIN").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/debug/ticketing-admin"
        )
        .to_string()
    });
    tokio::process::Command::new(&binary)
        .args(args)
        .envs(env.iter().copied())
        .env("AWS_ENDPOINT_URL", &stack().outputs.endpoint)
        // Local credentials, and never the instance-metadata endpoint: everything stays on loopback.
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
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

/// Makes the next `times` attempts of `function` (`publisher`, `notifier`, `my-page`, `audit`) at `who`'s
/// events fail (test stacks run with `FaultInjection=on`); `0` clears the fault.
pub async fn inject_fault(function: &str, who: &Member, times: u32) {
    arm_fault(function, &who.id, times).await
}

/// How many more attempts the fault of `function` at `who` fails.
pub async fn fault_remaining(function: &str, who: &Member) -> u64 {
    faults_left(function, &who.id).await
}

/// The fault item `FAULT#<function>`/`<key>` with `remaining = times`.
async fn arm_fault(function: &str, key: &str, times: u32) {
    use aws_sdk_dynamodb::types::AttributeValue;
    stack()
        .dynamodb()
        .await
        .put_item()
        .table_name(stack().table_name())
        .item("PK", AttributeValue::S(format!("FAULT#{function}")))
        .item("SK", AttributeValue::S(key.to_string()))
        .item("type", AttributeValue::S("Fault".into()))
        .item("remaining", AttributeValue::N(times.to_string()))
        .send()
        .await
        .expect("arm the fault");
}

/// What is left of fault item `FAULT#<function>`/`<key>`.
async fn faults_left(function: &str, key: &str) -> u64 {
    use aws_sdk_dynamodb::types::AttributeValue;
    let item = stack()
        .dynamodb()
        .await
        .get_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S(format!("FAULT#{function}")))
        .key("SK", AttributeValue::S(key.to_string()))
        .consistent_read(true)
        .send()
        .await
        .expect("read the fault")
        .item
        .expect("the fault item");
    match item.get("remaining") {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        other => panic!("remaining is {other:?}"),
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

/// A route of the template: method, path, and who may call it (`Metadata.Access`).
#[derive(Debug, Clone)]
pub struct Route {
    pub function: String,
    pub method: String,
    pub path: String,
    pub access: String,
}

/// Every HttpApi route in infra/template.yaml.
pub fn template_routes() -> Vec<Route> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: serde_norway::Value =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut routes = Vec::new();
    let Some(resources) = doc.get("Resources").and_then(|r| r.as_mapping()) else {
        panic!("template has no Resources")
    };
    for (name, resource) in resources {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::Serverless::Function") {
            continue;
        }
        let access = resource
            .get("Metadata")
            .and_then(|m| m.get("Access"))
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_string();
        let events = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(|e| e.as_mapping());
        for event in events.into_iter().flat_map(|e| e.values()) {
            if event.get("Type").and_then(|t| t.as_str()) != Some("HttpApi") {
                continue;
            }
            let props = event.get("Properties");
            let text = |key: &str| {
                props
                    .and_then(|p| p.get(key))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            // The `$default` route (no Path, no Method) answers what no route matches; it is no route of
            // the API's own (tests/tests/openapi.rs checks its 405 and 404 answers).
            if text("Path").is_empty() {
                continue;
            }
            routes.push(Route {
                function: name.as_str().unwrap_or_default().to_string(),
                method: text("Method"),
                path: text("Path"),
                access: access.clone(),
            });
        }
    }
    routes
}

// ----- shared fixtures of the seat and saga tests ------------------------------------------------------

/// A new performance's body: a concert in Seoul running through March 2027 titled `title` and a unique
/// suffix, on sale from `opens` to `closes` (RFC 3339), with a hold window of `hold_minutes`.
pub fn performance_body(title: &str, opens: &str, closes: &str, hold_minutes: u32) -> Value {
    json!({
        "title": format!("{title} {}", unique()),
        "category": "CONCERT",
        "venue": {"name": "Arena", "city": "Seoul"},
        "runningTimeMinutes": 120,
        "ageRating": "ALL",
        "runStartDate": "2027-03-01",
        "runEndDate": "2027-03-31",
        "saleOpensAt": opens,
        "saleClosesAt": closes,
        "holdMinutes": hold_minutes
    })
}

/// An approved performance on sale now, with a hold window of `hold_minutes`, and its organizer.
pub async fn on_sale(hold_minutes: u32) -> (Member, String) {
    let organizer = member("ORGANIZER").await;
    let body = performance_body(
        "Holds",
        "2026-01-01T00:00:00Z",
        "2027-03-31T00:00:00Z",
        hold_minutes,
    );
    let approved = publish(&organizer, &body).await;
    let id = approved.json["id"].as_str().expect("id").to_string();
    (organizer, id)
}

pub fn showtime_body(rows: u32, cols: u32) -> Value {
    let vip_rows = (rows / 2).max(1);
    let mut grades =
        vec![json!({"grade": "VIP", "fromRow": 1, "toRow": vip_rows, "price": 150_000})];
    if rows > vip_rows {
        grades.push(json!({"grade": "R", "fromRow": vip_rows + 1, "toRow": rows, "price": 90_000}));
    }
    json!({
        "startsAt": "2027-03-10T19:30:00+09:00",
        "venueName": "Main hall",
        "seatMap": {"rows": rows, "cols": cols, "grades": grades}
    })
}

pub async fn showtime(organizer: &Member, performance: &str, rows: u32, cols: u32) -> String {
    let reply = organizer
        .call(
            reqwest::Method::POST,
            &format!("/performances/{performance}/showtimes"),
            Some(&showtime_body(rows, cols)),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json["id"].as_str().expect("id").to_string()
}

/// The public seat map of a showtime.
pub async fn seat_map(performance: &str, showtime: &str) -> Value {
    let reply = call(
        reqwest::Method::GET,
        &format!("/performances/{performance}/showtimes/{showtime}/seats"),
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json
}

/// Moves a hold's expiry into the past on the reservation and its seat items, as the clock would.
pub async fn rewind_hold(reservation_id: &str, show: &str, seats: &[(u32, u32)]) {
    let client = stack().dynamodb().await;
    let table = stack().table_name();
    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 5;
    let mut keys = vec![(format!("RES#{reservation_id}"), "META".to_string())];
    for (row, col) in seats {
        keys.push((
            format!("SHOW#{show}#B#{}", (row - 1) / 10),
            format!("SEAT#{row:03}-{col:03}"),
        ));
    }
    for (pk, sk) in keys {
        let mut update = client
            .update_item()
            .table_name(&table)
            .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
            .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(sk))
            .update_expression("SET holdExpiresAt = :past")
            .expression_attribute_values(
                ":past",
                aws_sdk_dynamodb::types::AttributeValue::N(past.to_string()),
            );
        if pk.starts_with("RES#") {
            // The repair index's due time is the hold's expiry (store/repairs.rs).
            update = update
                .update_expression("SET holdExpiresAt = :past, GSI4SK = :due")
                .expression_attribute_values(
                    ":due",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!(
                        "{past:010}#{reservation_id}"
                    )),
                );
        }
        update
            .condition_expression("attribute_exists(PK)")
            .send()
            .await
            .expect("rewind the hold");
    }
}

/// How long a test waits for an event to reach the bus or a consumer. Delivery is asynchronous and, on
/// the 2-core CI machine, queues behind LocalStack's one Python process: under the heaviest tests (a showtime
/// sweep of 200 reservations beside the consumers) an event took up to a minute. A poll, so a delivered event
/// ends the wait at once.
pub const EVENT_WAIT_SECS: u64 = 90;

/// Reads what the saga publishes about some members: a rule of its own on the bus (matching their
/// `memberId`) feeding a queue of its own, so tests running at once never read each other's events.
pub struct EventTap {
    name: String,
    queue_url: String,
    /// Events read so far, by reservation id, in arrival order.
    seen: HashMap<String, Vec<Value>>,
}

impl EventTap {
    pub async fn new(members: &[&Member]) -> EventTap {
        let stack = stack();
        let name = format!("tap-{}", unique());
        let queue_url = stack
            .sqs()
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("queue url");
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let bus = stack.event_bus_name();
        let events = stack.eventbridge();
        events
            .put_rule()
            .name(&name)
            .event_bus_name(&bus)
            .event_pattern(
                json!({"source": ["ticketing.reservations"], "detail": {"memberId": ids}})
                    .to_string(),
            )
            .send()
            .await
            .expect("rule");
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(format!("arn:aws:sqs:us-east-1:000000000000:{name}"))
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target");
        EventTap {
            name,
            queue_url,
            seen: HashMap::new(),
        }
    }

    /// Waits (up to [`EVENT_WAIT_SECS`]) until `reservation_id` has published exactly `kinds`, in that order, each event valid
    /// against its schema in docs/events/, carrying its derived id and correlation id.
    pub async fn expect(&mut self, reservation_id: &str, kinds: &[&str]) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
        let sqs = stack().sqs();
        let distinct = |seen: &HashMap<String, Vec<Value>>| {
            seen.get(reservation_id).map_or(0, |events| {
                events
                    .iter()
                    .map(|e| e["eventId"].to_string())
                    .collect::<std::collections::HashSet<_>>()
                    .len()
            })
        };
        while distinct(&self.seen) < kinds.len() && std::time::Instant::now() < deadline {
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for message in out.messages.unwrap_or_default() {
                let envelope: Value =
                    serde_json::from_str(message.body.as_deref().unwrap_or("{}")).expect("JSON");
                assert_eq!(envelope["source"], "ticketing.reservations");
                assert_eq!(envelope["detail-type"], envelope["detail"]["type"]);
                let detail = envelope["detail"].clone();
                let id = detail["correlationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.seen.entry(id).or_default().push(detail);
            }
        }
        // Delivery is at least once (a retried step publishes again) and in no promised order: one event per
        // id, in the order the events themselves state (`occurredAt`, then stage).
        let got = self.events(reservation_id);
        let types: Vec<&str> = got.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(types, kinds, "the events of {reservation_id}, in order");
        for event in &got {
            let kind = event["type"].as_str().unwrap_or_default();
            let errors = event_schema_errors(kind, event);
            assert!(
                errors.is_empty(),
                "{kind} breaks its schema: {errors:?}\n{event}"
            );
            let id = event["eventId"].as_str().unwrap_or_default();
            assert!(
                id == format!("{reservation_id}:{kind}")
                    || id.starts_with(&format!("{reservation_id}:{kind}:")),
                "{kind} has the id {id}"
            );
            assert_eq!(event["correlationId"], reservation_id);
        }
    }

    /// The distinct events of `reservation_id` read so far, in the order they state.
    pub fn events(&self, reservation_id: &str) -> Vec<Value> {
        let mut ids = std::collections::HashSet::new();
        let mut got: Vec<Value> = self
            .seen
            .get(reservation_id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| ids.insert(e["eventId"].to_string()))
            .collect();
        got.sort_by_key(|e| {
            ticketing::events::order_key(
                e["occurredAt"].as_str().unwrap_or_default(),
                e["type"].as_str().unwrap_or_default(),
            )
        });
        got
    }

    /// How many copies of the `kind` event of `reservation_id` arrived so far (delivery is at least once).
    pub fn copies(&self, reservation_id: &str, kind: &str) -> usize {
        self.seen.get(reservation_id).map_or(0, |events| {
            events.iter().filter(|e| e["type"] == kind).count()
        })
    }

    /// Waits (up to [`EVENT_WAIT_SECS`]) for an event of `kind` about showtime `showtime_id` (correlated by it) that
    /// `matches`, valid against its schema; returns it.
    pub async fn expect_showtime(
        &mut self,
        showtime_id: &str,
        kind: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
        let sqs = stack().sqs();
        loop {
            if let Some(found) = self
                .seen
                .get(showtime_id)
                .into_iter()
                .flatten()
                .find(|e| e["type"] == kind && matches(e))
            {
                let errors = event_schema_errors(kind, found);
                assert!(
                    errors.is_empty(),
                    "{kind} breaks its schema: {errors:?}\n{found}"
                );
                return found.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {kind} about {showtime_id}: {:?}",
                self.seen.get(showtime_id)
            );
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for message in out.messages.unwrap_or_default() {
                let envelope: Value =
                    serde_json::from_str(message.body.as_deref().unwrap_or("{}")).expect("JSON");
                let detail = envelope["detail"].clone();
                let id = detail["correlationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.seen.entry(id).or_default().push(detail);
            }
        }
    }

    /// Removes the rule and the queue.
    pub async fn close(self) {
        let stack = stack();
        let events = stack.eventbridge();
        let bus = stack.event_bus_name();
        let _ = events
            .remove_targets()
            .rule(&self.name)
            .event_bus_name(&bus)
            .ids("queue")
            .send()
            .await;
        let _ = events
            .delete_rule()
            .name(&self.name)
            .event_bus_name(&bus)
            .send()
            .await;
        let _ = stack
            .sqs()
            .delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await;
    }
}

/// How `event` breaks the schema of its type (docs/events/<type>.schema.json); empty when it does not.
pub fn event_schema_errors(kind: &str, event: &Value) -> Vec<String> {
    let path = format!(
        "{}/../docs/events/{kind}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    validator
        .iter_errors(event)
        .map(|e| e.to_string())
        .collect()
}

// ----- money: wallets, reservations through the saga, reconciliation ------------------------------------

/// A reservation paid at once and CONFIRMED.
pub async fn confirmed(buyer: &Member, show: &str, seats: &[(u32, u32)], payment: Value) -> String {
    let r = reserve(buyer, show, seats, Some(payment), None).await;
    assert!(r.status == 201 || r.status == 202, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let done = settled(buyer, &id, std::time::Duration::from_secs(120)).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    id
}

pub async fn top_up(m: &Member, amount: u64) {
    let reply = m
        .call(
            reqwest::Method::POST,
            "/wallet/charge",
            Some(&json!({"amount": amount, "payment": {"token": "tok_visa"}})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

pub async fn reserve(
    buyer: &Member,
    show: &str,
    seats: &[(u32, u32)],
    payment: Option<Value>,
    key: Option<&str>,
) -> Reply {
    let seats: Vec<Value> = seats
        .iter()
        .map(|(row, col)| json!({"row": row, "col": col}))
        .collect();
    let mut body = json!({"showtimeId": show, "seats": seats});
    if let Some(p) = payment {
        body["payment"] = p;
    }
    let auth = buyer.auth();
    let mut headers = vec![("authorization", auth.as_str()), ("prefer", "wait=10")];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    call(
        reqwest::Method::POST,
        "/reservations",
        Some(&body),
        &headers,
    )
    .await
}

/// Polls the reservation until it is no longer HELD (or `within` passes).
pub async fn settled(buyer: &Member, id: &str, within: std::time::Duration) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let r = buyer
            .call(reqwest::Method::GET, &format!("/reservations/{id}"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // A lapsed hold reads EXPIRED at once; the saga's release is what records why (`failureReason`).
        let lapsed = r.json["status"] == "EXPIRED" && r.json.get("failureReason").is_none();
        if (r.json["status"] != "HELD" && !lapsed) || std::time::Instant::now() > deadline {
            return r.json;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

pub async fn payment_of(buyer: &Member, id: &str) -> Reply {
    buyer
        .call(
            reqwest::Method::GET,
            &format!("/reservations/{id}/payment"),
            None,
        )
        .await
}

/// The wallet's balance after checking it is the sum of its ledger.
pub async fn wallet_balance(m: &Member) -> u64 {
    let w = m
        .call(reqwest::Method::GET, "/wallet?limit=100", None)
        .await;
    assert_eq!(w.status, 200, "{}", w.text);
    let lines = w.json["ledger"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sum: i64 = lines
        .iter()
        .map(|l| l["amount"].as_i64().unwrap_or(0))
        .sum();
    let balance = w.json["balance"].as_u64().expect("balance");
    assert_eq!(
        sum, balance as i64,
        "wallet = sum of its ledger: {}",
        w.text
    );
    balance
}

/// Money and seats of one showtime reconcile: every CONFIRMED reservation's remaining seats are SOLD (and no
/// others), no seat is SOLD twice, and what the payments kept (charged minus refunded) equals the price of the
/// seats sold plus the cancellation fees kept.
pub async fn reconcile(performance: &str, show: &str, buyers: &[(&Member, Vec<String>)]) {
    let map = seat_map(performance, show).await;
    let sold_on_map: u64 = map["sold"].as_u64().expect("sold");
    let mut sold_seats = std::collections::HashSet::new();
    let mut sold_price = 0u64;
    let mut fees = 0u64;
    let mut kept = 0u64;
    for (buyer, ids) in buyers {
        for id in ids {
            let r = settled(buyer, id, std::time::Duration::from_secs(1)).await;
            assert!(
                r.get("pendingCancellation").is_none(),
                "reservation {id} is still being cancelled: {r}"
            );
            let pay = payment_of(buyer, id).await;
            if pay.status == 200 {
                let amount = pay.json["amount"].as_u64().unwrap_or(0);
                let refunded = pay.json["refundedAmount"].as_u64().unwrap_or(0);
                if ["COMPLETED", "PART_CANCELED", "CANCELED"]
                    .contains(&pay.json["status"].as_str().unwrap_or(""))
                {
                    kept += amount - refunded;
                }
            }
            for c in r["cancellations"].as_array().into_iter().flatten() {
                if c["status"] == "DONE" {
                    fees += c["quote"]["fee"].as_u64().unwrap_or(0);
                }
            }
            if r["status"] == "CONFIRMED" {
                for seat in r["seats"].as_array().into_iter().flatten() {
                    assert!(
                        sold_seats.insert((seat["row"].clone(), seat["col"].clone())),
                        "a seat SOLD twice: {seat}"
                    );
                    sold_price += seat["price"].as_u64().unwrap_or(0);
                }
            }
        }
    }
    assert_eq!(
        sold_seats.len() as u64,
        sold_on_map,
        "SOLD on the map = seats of CONFIRMED reservations"
    );
    assert_eq!(
        kept,
        sold_price + fees,
        "payments kept = price of the seats SOLD + fees kept"
    );
}

/// Every execution of these reservations ended (SUCCEEDED: FAILED and EXPIRED reservations are normal ends).
pub async fn executions_ended(ids: &[String]) {
    executions_of_ended("ReservationStateMachineArn", ids).await
}

/// Every execution named in `ids` of the state machine of deploy output `output` ended SUCCEEDED.
pub async fn executions_of_ended(output: &str, ids: &[String]) {
    let (sfn, arn) = stack().sfn_of(output);
    let prefix = arn.replace(":stateMachine:", ":execution:");
    for id in ids {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let out = sfn
                .describe_execution()
                .execution_arn(format!("{prefix}:{id}"))
                .send()
                .await
                .expect("describe the execution");
            let status = out.status().as_str().to_string();
            if status != "RUNNING" {
                assert_eq!(status, "SUCCEEDED", "the saga of {id} ended {status}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the saga of {id} is still running"
            );
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
}

/// Helpers of the benchmark binaries (`tests/src/bin/bench_*.rs`).
pub mod bench {
    use std::collections::BTreeMap;
    use std::time::Duration;

    /// The length of LocalStack's log now (where a measured window starts); 0 without one.
    pub fn log_len(log: Option<&str>) -> u64 {
        log.and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// The instant LocalStack stamped on a log line (local time, ms), if it has one.
    fn stamped(line: &str) -> Option<time::PrimitiveDateTime> {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
        );
        time::PrimitiveDateTime::parse(line.get(..23)?, format).ok()
    }

    /// DynamoDB operations LocalStack logged (`LS_LOG=info` request lines) after byte `from` of `log`.
    pub fn dynamodb_calls(log: &str, from: u64) -> BTreeMap<String, usize> {
        dynamodb_calls_within(log, from, None)
    }

    /// As [`dynamodb_calls`], counting only the lines LocalStack stamped (when it answered, local time, ms)
    /// between `window.0` and `window.1`.
    pub fn dynamodb_calls_within(
        log: &str,
        from: u64,
        window: Option<(time::PrimitiveDateTime, time::PrimitiveDateTime)>,
    ) -> BTreeMap<String, usize> {
        let mut calls = BTreeMap::new();
        let Ok(text) = std::fs::read(log) else {
            return calls;
        };
        let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
        for line in text.lines() {
            if let Some((start, end)) = window {
                if !stamped(line).is_some_and(|at| at >= start && at <= end) {
                    continue;
                }
            }
            if let Some(op) = line
                .split("AWS dynamodb.")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
            {
                *calls.entry(op.to_string()).or_default() += 1;
            }
        }
        calls
    }

    /// When LocalStack first logged a line containing `needle` after byte `from` of `log` (its stamp, local
    /// time, ms).
    pub fn first_logged(log: &str, from: u64, needle: &str) -> Option<time::PrimitiveDateTime> {
        let text = std::fs::read(log).ok()?;
        let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
        text.lines()
            .filter(|line| line.contains(needle))
            .find_map(stamped)
    }

    /// Waits until LocalStack has logged no DynamoDB call for `still` (what a request set off, a saga step or
    /// an event consumer, has run), at most 30 s.
    pub async fn dynamodb_quiet(log: &str, still: Duration) {
        let end = std::time::Instant::now() + Duration::from_secs(30);
        // Only what was logged since the wait began is read each time.
        let from = log_len(Some(log));
        let count = || dynamodb_calls(log, from).values().sum::<usize>();
        let (mut last, mut since) = (count(), std::time::Instant::now());
        while std::time::Instant::now() < end && since.elapsed() < still {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = count();
            if now != last {
                (last, since) = (now, std::time::Instant::now());
            }
        }
    }

    /// `calls` per `per` unit, as `total (Op n, ...)`.
    pub fn per_unit(calls: &BTreeMap<String, usize>, per: usize) -> String {
        let total: usize = calls.values().sum();
        let per = per.max(1) as f64;
        format!(
            "{:.2} ({})",
            total as f64 / per,
            calls
                .iter()
                .map(|(op, n)| format!("{op} {:.2}", *n as f64 / per))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The value of `--name N` on the command line, `default` when absent, clamped to 1..=`max`.
    pub fn arg(name: &str, default: usize, max: usize) -> usize {
        let args: Vec<String> = std::env::args().collect();
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
            .clamp(1, max)
    }

    /// The `p`th percentile (nearest rank) of sorted durations; zero for none.
    pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
        sorted[rank.min(sorted.len() - 1)]
    }
}

// ----- crashes: the saga function's crash switches (test stacks run with FaultInjection=on) -------------

/// The id `POST /reservations` gives the hold `who` makes with `Idempotency-Key: key` (a UUID v5 of the
/// member and the key), known before the request is sent.
pub fn reservation_id(who: &Member, key: &str) -> String {
    let name = format!("ticketing:reservation:{}:{key}", who.id);
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// Arms the crash switch `point` (`<action>@before`, `<action>@after`, `pay@moved`, `refund@moved`) of the
/// saga function for `key` (a reservation id; a showtime id for the sweep's own steps): its next `times`
/// passes end the process there.
pub async fn arm_crash(key: &str, point: &str, times: u32) {
    arm_crash_in("saga", key, point, times).await
}

/// [`arm_crash`] of `function`: `saga`, or `api` (the request functions: `hold@written`, `cancel@written`
/// keyed by the reservation id, `sweep@written` by the showtime id).
pub async fn arm_crash_in(function: &str, key: &str, point: &str, times: u32) {
    arm_fault(function, &format!("{key}#{point}"), times).await
}

/// How many more passes of crash switch `point` of `key` end the process.
pub async fn crashes_left(key: &str, point: &str) -> u64 {
    crashes_left_in("saga", key, point).await
}

/// [`crashes_left`] of `function`.
pub async fn crashes_left_in(function: &str, key: &str, point: &str) -> u64 {
    faults_left(function, &format!("{key}#{point}")).await
}

/// Runs the deployed repairer once over everything due now (grace 0), as its schedule does; its report.
pub async fn repair_now() -> Value {
    stack()
        .invoke("RepairerFunctionName", &json!({"graceSeconds": 0}))
        .await
}

/// Where execution `name` of the state machine of deploy output `output` stands: `RUNNING`, `SUCCEEDED`,
/// ..., or `MISSING` (never started).
pub async fn execution_status(output: &str, name: &str) -> String {
    let (sfn, arn) = stack().sfn_of(output);
    match sfn
        .describe_execution()
        .execution_arn(format!(
            "{}:{name}",
            arn.replace(":stateMachine:", ":execution:")
        ))
        .send()
        .await
    {
        Ok(out) => out.status().as_str().to_string(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_execution_does_not_exist()) =>
        {
            "MISSING".to_string()
        }
        Err(e) => panic!("describe {name}: {e:?}"),
    }
}

/// The error names of the failed tasks in the history of execution `name` of the state machine of deploy
/// output `output` (a crashed step is `Runtime.ExitError`), once the execution has ended.
pub async fn task_errors(output: &str, name: &str) -> Vec<String> {
    let (sfn, arn) = stack().sfn_of(output);
    let execution = format!("{}:{name}", arn.replace(":stateMachine:", ":execution:"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let out = sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .expect("describe the execution");
        if out.status().as_str() != "RUNNING" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "execution {name} is still running"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let mut errors = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(&execution)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .expect("the execution's history");
        errors.extend(page.events().iter().filter_map(|e| {
            e.task_failed_event_details()
                .and_then(|d| d.error().map(str::to_string))
        }));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return errors;
        }
    }
}

/// My page shows `status` for the reservation, with the timeline `kinds` exactly (each event once).
pub async fn my_page_shows(buyer: &Member, id: &str, status: &str, kinds: &[&str]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
    loop {
        let r = buyer
            .call(
                reqwest::Method::GET,
                &format!("/me/reservations/{id}"),
                None,
            )
            .await;
        assert!(r.status == 200 || r.status == 404, "{}", r.text);
        let timeline: Vec<String> = r.json["timeline"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|e| e["type"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if r.json["status"] == status && timeline.len() >= kinds.len() {
            let mut got = timeline.clone();
            got.sort();
            let mut want: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "my page of {id}: {}", r.text);
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "my page of {id} never showed {status} with {kinds:?}: {}",
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Polls the showtime's cancellation until run `run` is DONE.
pub async fn sweep_done(organizer: &Member, performance: &str, show: &str, run: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let p = organizer
            .call(
                reqwest::Method::GET,
                &format!("/performances/{performance}/showtimes/{show}/cancellation"),
                None,
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.text);
        if p.json["run"] == run && p.json["status"] == "DONE" {
            return p.json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep did not finish: {}",
            p.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The reservation once its pending cancellation is gone (within `within`).
pub async fn cancellation_over(buyer: &Member, id: &str, within: std::time::Duration) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let r = buyer
            .call(reqwest::Method::GET, &format!("/reservations/{id}"), None)
            .await;
        if r.json.get("pendingCancellation").is_none() {
            return r.json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still cancelling: {}",
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
