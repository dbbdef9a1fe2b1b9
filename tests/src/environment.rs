//! The test environment: a fresh table on the local stack, the local API with every function
//! built from the variables a deployed one reads, accounts, requests, pages and captured email.

use std::collections::HashMap;

use functions::registry::Handler;
use infra::local_api::{HttpRequest, LocalApi};
use infra::template::Template;
use lambda_http::Body;
use serde_json::Value;
use shared::partners::settings::InvitationSettings;
use shared::platform::config::Env;
use shared::platform::accounts::Plan;
use shared::store::accounts::NewAccount;
use shared::{Db, Id};

use crate::interceptors::{CallCounter, CapacityMeter, FaultInjector, TransactionGate, WriteLedger};
use crate::openapi;

pub struct TestEnv {
    pub api: LocalApi,
    pub config: aws_config::SdkConfig,
    pub db: Db,
    /// The SDK client under `db`, for tests that read or plant raw items.
    pub ddb: aws_sdk_dynamodb::Client,
    pub calls: CallCounter,
    /// DynamoDB capacity units consumed through `db`.
    pub capacity: CapacityMeter,
    /// SQS and SES calls made through `pipeline()`'s clients.
    pub queue_calls: CallCounter,
    pub mail_calls: CallCounter,
    pub gate: TransactionGate,
    pub faults: FaultInjector,
    /// Every item written through `db`, with its write units.
    pub writes: WriteLedger,
    /// Where captured email is read: the SES endpoint (a moto of its own in infra/test, so that
    /// reading its state stays small).
    pub mail_endpoint: String,
    pub settings: InvitationSettings,
    pub partner_api_url: Option<String>,
    /// Outbound webhooks may go to http:// and 127.0.0.1 (true unless a test asks otherwise).
    pub local_webhooks: bool,
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: HashMap<String, String>,
}

/// An account with its first user and API key.
#[derive(Clone, Debug)]
pub struct TestAccount {
    pub id: Id,
    pub name: String,
    pub email: String,
    pub key: String,
}

pub const LINK_BASE: &str = "https://app.test/invitations/claim";

pub fn unique(label: &str) -> String {
    format!("{label}-{}", Id::generate())
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        TestEnv::with_settings(InvitationSettings { ttl: std::time::Duration::from_secs(14 * 86_400), link_base: Some(LINK_BASE.into()) }).await
    }

    /// An environment whose 360dialog Partner API is at `url` (a server the test runs).
    pub async fn with_partner_api(url: &str) -> TestEnv {
        let mut env = TestEnv::new().await;
        env.partner_api_url = Some(url.to_string());
        env.rebuild_api();
        env
    }

    /// An environment in production mode for outbound webhooks: https to public addresses only.
    pub async fn with_production_webhooks() -> TestEnv {
        let mut env = TestEnv::new().await;
        env.local_webhooks = false;
        env.rebuild_api();
        env
    }

    /// An environment whose API keys get `limit` instead of the default 100 a minute.
    pub async fn with_rate_limit(limit: shared::platform::ratelimit::RateLimit) -> TestEnv {
        let mut env = TestEnv::new().await;
        env.db.rate_limit = limit;
        env.rebuild_api();
        env
    }

    pub async fn with_settings(settings: InvitationSettings) -> TestEnv {
        // Handlers' logs (the cause of a 500, say) appear with a failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let mail_endpoint = std::env::var("AWS_ENDPOINT_URL_SES")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .expect("AWS_ENDPOINT_URL[_SES] must point at a local stack: run the tests with infra/test");
        let config = shared::platform::config::aws().expect("AWS_REGION");
        let template = Template::load().expect("template.yaml");
        let table = format!("test-{}", Id::generate());
        let calls = CallCounter::default();
        let gate = TransactionGate::default();
        let capacity = CapacityMeter::default();
        let faults = FaultInjector::default();
        let writes = WriteLedger::default();
        let ddb_config = aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(calls.clone())
            .interceptor(gate.clone())
            .interceptor(capacity.clone())
            .interceptor(faults.clone())
            .interceptor(writes.clone())
            .build();
        let ddb = aws_sdk_dynamodb::Client::from_conf(ddb_config);
        infra::bootstrap::create_table(&ddb, &template, &table).await.expect("create table");
        // Records written before the new table's stream is enabled are lost (LocalStack, AWS).
        infra::pipeline::stream_enabled(&config, &table).await.expect("the table's stream");
        let sender = template.parameter_default("SenderEmail").expect("SenderEmail default");
        let ses = aws_sdk_ses::Client::new(&config);
        ses.verify_email_identity().email_address(&sender).send().await.expect("verify sender");
        // The functions' and the test's own `db` seal under the same key, as a stack's do.
        let db = Db::new(ddb.clone(), table.clone(), shared::platform::seal::Sealer::from_secret(Some(&stack_secret(&table))));
        let api = local_api(&config, &ddb, &db, &sender, &settings, None, true, |_| ());
        calls.take();
        let (queue_calls, mail_calls) = (CallCounter::default(), CallCounter::default());
        TestEnv { api, config, db, ddb, calls, capacity, queue_calls, mail_calls, gate, faults, writes, mail_endpoint, settings, partner_api_url: None, local_webhooks: true }
    }

    /// The item stored under `pk`/`sk`, read past the stores (tests of what is stored; the key
    /// is spelled out, which pins its shape).
    pub async fn stored_item(&self, pk: &str, sk: &str) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let key = HashMap::from([("pk".to_string(), S(pk.into())), ("sk".to_string(), S(sk.into()))]);
        self.ddb.get_item().table_name(&self.db.table).set_key(Some(key)).consistent_read(true).send().await.expect("GetItem").item
    }

    /// Stores `item` as it is, past the stores (an item written by an earlier version, say).
    pub async fn plant_item(&self, item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) {
        self.ddb.put_item().table_name(&self.db.table).set_item(Some(item)).send().await.expect("PutItem");
    }

    /// The API again, after a test changed what its functions are built with.
    fn rebuild_api(&mut self) {
        self.api = self.api_sending_as(&Template::load().expect("template.yaml").parameter_default("SenderEmail").expect("SenderEmail default"));
    }

    /// Another API on the same table whose emails are sent from `sender`.
    pub fn api_sending_as(&self, sender: &str) -> LocalApi {
        local_api(&self.config, &self.ddb, &self.db, sender, &self.settings, self.partner_api_url.clone(), self.local_webhooks, |_| ())
    }

    /// Another API on the same table whose handlers `change` may replace (wrap one, say).
    pub fn api_with(&self, change: impl FnOnce(&mut HashMap<&'static str, Handler>)) -> LocalApi {
        let sender = Template::load().expect("template.yaml").parameter_default("SenderEmail").expect("SenderEmail default");
        local_api(&self.config, &self.ddb, &self.db, &sender, &self.settings, self.partner_api_url.clone(), self.local_webhooks, change)
    }

    /// A new account whose first user's email is unique to this test run.
    pub async fn account(&self, label: &str) -> TestAccount {
        self.account_with_plan(label, Plan::Free).await
    }

    pub async fn account_with_plan(&self, label: &str, plan: Plan) -> TestAccount {
        let email = format!("{}@example.com", unique(label).to_lowercase());
        let new = NewAccount::new(format!("{label} Inc"), plan, email.clone(), format!("{label} user"));
        self.db.accounts().create_account(&new).await.expect("create account");
        TestAccount { id: new.account.id, name: new.account.name, email, key: new.api_key }
    }

    /// Dispatches through the local API Gateway, then checks the response against openapi.yaml
    /// (a response the document does not describe fails the test) and records it.
    pub async fn request(&self, request: HttpRequest) -> Reply {
        let (method, path) = (request.method.clone(), request.uri.split('?').next().unwrap_or_default().to_string());
        let route = self.api.route_for(&method, &path).map(|r| r.path.clone());
        let response = self.api.dispatch(request).await;
        let status = response.status().as_u16();
        let headers = response.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string())).collect();
        let text = match response.into_body() {
            Body::Text(text) => text,
            Body::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        };
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        if let Some(route) = route {
            if let Err(problem) = openapi::OPENAPI.check(&method, &route, status, &body) {
                panic!("{problem}\nbody: {body}");
            }
            openapi::record(&method, &route, status);
        }
        Reply { status, body, headers }
    }

    /// `method uri` with `Authorization: Bearer <key>` if a key is given, and a JSON body.
    pub async fn call(&self, method: &str, uri: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(key) = key {
            headers.push(("authorization".into(), format!("Bearer {key}")));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.request(HttpRequest { method: method.into(), uri: uri.into(), headers, body }).await
    }

    /// A raw delivery: exactly these headers and body bytes (a provider's webhook, say).
    pub async fn post_raw(&self, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.request(HttpRequest { method: "POST".into(), uri: uri.into(), headers, body: body.to_vec() }).await
    }

    pub async fn get(&self, uri: &str, account: &TestAccount) -> Reply {
        self.call("GET", uri, Some(&account.key), None).await
    }

    /// Every email moto's SES captured for `address`.
    pub async fn emails_to(&self, address: &str) -> Vec<Value> {
        captured_emails(&self.mail_endpoint, address).await
    }

    /// The invitation token from the newest email to `address`.
    pub async fn invitation_token(&self, address: &str) -> String {
        let emails = self.emails_to(address).await;
        let email = emails.last().unwrap_or_else(|| panic!("no email to {address}"));
        let body = email["body"].as_str().unwrap_or_default();
        let start = body.find("token=").expect("token in email") + "token=".len();
        body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
    }
}

/// The data a page shows: its JSON island (`<script type="application/json" id="data">`), parsed.
pub fn page_data(reply: &Reply) -> Value {
    let html = reply.body.as_str().expect("an HTML body");
    let island = r#"<script type="application/json" id="data">"#;
    let start = html.find(island).expect("the data island") + island.len();
    serde_json::from_str(&html[start..start + html[start..].find("</script>").expect("its end")]).expect("JSON")
}

/// `GET uri` as a browser asks for it (`Accept: text/html`).
pub fn browser_get(uri: &str) -> infra::local_api::HttpRequest {
    infra::local_api::HttpRequest { method: "GET".into(), uri: uri.into(), headers: vec![("accept".into(), "text/html,application/xhtml+xml,*/*;q=0.8".into())], body: vec![] }
}

/// Every email the SES emulator at `ses_endpoint` captured for `address`: moto keeps them in its
/// state (`/moto-api/data.json`), LocalStack at `/_aws/ses` (read into moto's shape).
pub async fn captured_emails(ses_endpoint: &str, address: &str) -> Vec<Value> {
    let messages = match http_get_json(&format!("{ses_endpoint}/moto-api/data.json")).await {
        Some(data) => data["ses"]["Message"].as_array().cloned().unwrap_or_default(),
        None => {
            let data = http_get_json(&format!("{ses_endpoint}/_aws/ses")).await.expect("the SES endpoint serves neither moto's nor LocalStack's captured email");
            data["messages"].as_array().cloned().unwrap_or_default().iter().map(moto_shaped).collect()
        }
    };
    messages.into_iter().filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|to| to.iter().any(|a| a == address))).collect()
}

/// A message LocalStack captured, in the shape moto gives it (the HTML part as the body, as moto
/// keeps it).
fn moto_shaped(message: &Value) -> Value {
    let body = if message["Body"]["html_part"].is_string() { &message["Body"]["html_part"] } else { &message["Body"]["text_part"] };
    serde_json::json!({ "subject": message["Subject"], "body": body, "destinations": message["Destination"], "source": message["Source"] })
}

/// The test stack's sealing key (a deployed stack's `STACK_SECRET`), one per table.
fn stack_secret(table: &str) -> String {
    format!("secret of {table}")
}

/// The local API with every function built from the variables a deployed one would read, on the
/// test's table (and its counted DynamoDB client).
fn local_api(config: &aws_config::SdkConfig, ddb: &aws_sdk_dynamodb::Client, db: &Db, sender: &str, settings: &InvitationSettings, partner_api_url: Option<String>, local_webhooks: bool, change: impl FnOnce(&mut HashMap<&'static str, Handler>)) -> LocalApi {
    let vars = HashMap::from([
        ("TABLE_NAME", db.table.clone()),
        ("SENDER_EMAIL", sender.to_string()),
        ("INVITATION_TTL_DAYS", (settings.ttl.as_secs() / 86_400).to_string()),
        ("INVITATION_LINK_BASE", settings.link_base.clone().unwrap_or_default()),
        ("WEBHOOK_LOCAL_MODE", local_webhooks.to_string()),
        ("DIALOG360_PARTNER_API_URL", partner_api_url.unwrap_or_default()),
        ("RATE_LIMIT_PER_MINUTE", db.rate_limit.requests.to_string()),
        ("RATE_LIMIT_WINDOW_SECONDS", db.rate_limit.window.as_secs().to_string()),
        ("RATE_LIMIT_SHARDS", db.rate_limit.shards.map(|n| n.to_string()).unwrap_or_default()),
        ("STACK_SECRET", stack_secret(&db.table)),
    ]);
    let env = Env::new(config.clone(), move |name| vars.get(name).cloned()).with_dynamodb(ddb.clone());
    let mut handlers = functions::registry::handlers(&env).expect("configuration");
    change(&mut handlers);
    LocalApi::new(&Template::load().expect("template.yaml"), handlers).expect("routes")
}

/// An emulator's inspection API, without pulling in an HTTP client; `None` where it is not
/// served (404, 501: the other emulator). moto builds its document by walking every backend
/// while other requests may be changing them, so a read can fail (500) under concurrent tests:
/// it is retried.
async fn http_get_json(url: &str) -> Option<Value> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_once('/').expect("path");
        let mut last = String::new();
        for _ in 0..20 {
            let mut stream = std::net::TcpStream::connect(host).expect("connect to the emulator");
            write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("write");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("read");
            let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
            let status = head.split(' ').nth(1).unwrap_or_default();
            match status {
                "200" => {
                    if let Ok(value) = serde_json::from_str(body) {
                        return Some(value);
                    }
                }
                "404" | "501" => return None,
                _ => {}
            }
            last = head.lines().next().unwrap_or_default().to_string();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{url} kept failing: {last}");
    })
    .await
    .expect("join")
}
