//! Test support: a fresh table per test environment on the endpoints the AWS environment names
//! (infra/test starts DynamoDB Local, and moto for SQS and SES), requests dispatched through the
//! local API Gateway exactly as the deployed API would route them, and moto's captured email.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use infra::local_api::{HttpRequest, LocalApi};
use infra::template::Template;
use lambda_http::Body;
use serde_json::Value;
use shared::partners::settings::InvitationSettings;
use shared::platform::config::Env;
use shared::platform::accounts::Plan;
use shared::platform::mail::Mailer;
use shared::store::accounts::NewAccount;
use shared::{Db, Id};

pub mod openapi;

/// Counts DynamoDB round trips (every request the SDK transmits, retries included), by operation.
#[derive(Debug, Default, Clone)]
pub struct CallCounter {
    total: Arc<AtomicUsize>,
    names: Arc<Mutex<Vec<String>>>,
}

impl CallCounter {
    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    /// The operations since the last call, in order.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.names.lock().expect("counter lock"))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(&self, context: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        self.total.fetch_add(1, Ordering::SeqCst);
        self.names.lock().expect("counter lock").push(operation(context));
        Ok(())
    }
}

/// Forces one interleaving of a race, for the few tests that need that exact one (most race
/// tests send truly concurrent requests with `concurrently`, against DynamoDB Local): the next
/// write of the armed kind is held, after its reads, until another of that kind has completed.
/// The held request then acts on state read before the other committed, and its conditions must
/// catch it — an interleaving real concurrency produces only sometimes.
#[derive(Clone, Debug, Default)]
pub struct TransactionGate {
    state: Arc<(Mutex<GateState>, std::sync::Condvar)>,
}

#[derive(Debug, Default)]
struct GateState {
    /// The operation to hold (`TransactWriteItems`, `UpdateItem`), while armed.
    armed: Option<&'static str>,
    holding: bool,
    released: bool,
}

/// Marks, in one request's config bag, the transaction that will release the held one.
#[derive(Debug, Clone)]
struct Releaser;
impl aws_smithy_types::config_bag::Storable for Releaser {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// Asks DynamoDB for the capacity every request consumes (`ReturnConsumedCapacity: TOTAL`, set on
/// the operation's input before it is serialized) and adds up what the responses report: the
/// read and write request units a deployment would be billed (the cost model, docs/cost.md).
#[derive(Debug, Default, Clone)]
pub struct CapacityMeter {
    units: Arc<Mutex<Capacity>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Capacity {
    pub read: f64,
    pub write: f64,
}

impl CapacityMeter {
    /// The units consumed since the last call.
    pub fn take(&self) -> Capacity {
        std::mem::take(&mut self.units.lock().expect("meter lock"))
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::*;
        let total = Some(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total);
        let input = context.input_mut();
        if let Some(i) = input.downcast_mut::<get_item::GetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<batch_get_item::BatchGetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<query::QueryInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<update_item::UpdateItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<put_item::PutItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<delete_item::DeleteItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<transact_write_items::TransactWriteItemsInput>() {
            // DynamoDB Local reports 2 units per transaction whatever it holds; DynamoDB bills 2
            // per KB of each item it writes or checks. Counted here: a Put by its item's size, any
            // other action as one KB (the items updated, deleted and checked here are smaller).
            let units: f64 = i.transact_items().iter().map(|action| 2.0 * action.put().map_or(1.0, |put| (item_size(put.item()) as f64 / 1024.0).ceil().max(1.0))).sum();
            self.units.lock().expect("meter lock").write += units;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::*;
        use aws_sdk_dynamodb::types::ConsumedCapacity;
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let sum = |c: &[ConsumedCapacity]| c.iter().filter_map(|c| c.capacity_units).sum::<f64>();
        let (read, write) = if let Some(o) = output.downcast_ref::<get_item::GetItemOutput>() {
            (sum(o.consumed_capacity.as_slice()), 0.0)
        } else if let Some(o) = output.downcast_ref::<batch_get_item::BatchGetItemOutput>() {
            (sum(o.consumed_capacity()), 0.0)
        } else if let Some(o) = output.downcast_ref::<query::QueryOutput>() {
            (sum(o.consumed_capacity.as_slice()), 0.0)
        } else if let Some(o) = output.downcast_ref::<update_item::UpdateItemOutput>() {
            (0.0, sum(o.consumed_capacity.as_slice()))
        } else if let Some(o) = output.downcast_ref::<put_item::PutItemOutput>() {
            (0.0, sum(o.consumed_capacity.as_slice()))
        } else if let Some(o) = output.downcast_ref::<delete_item::DeleteItemOutput>() {
            (0.0, sum(o.consumed_capacity.as_slice()))
        } else {
            (0.0, 0.0)
        };
        let mut units = self.units.lock().expect("meter lock");
        units.read += read;
        units.write += write;
        Ok(())
    }
}

/// An item's size as DynamoDB counts it: attribute names and values in bytes (numbers about
/// half their digits, plus a byte; containers 3 bytes plus their elements).
fn item_size(item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    fn value(v: &V) -> usize {
        match v {
            V::S(s) => s.len(),
            V::N(n) => n.len().div_ceil(2) + 1,
            V::B(b) => b.as_ref().len(),
            V::Bool(_) | V::Null(_) => 1,
            V::L(list) => 3 + list.iter().map(|v| 1 + value(v)).sum::<usize>(),
            V::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>(),
            V::Ss(set) => set.iter().map(String::len).sum(),
            V::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
            _ => 0,
        }
    }
    item.iter().map(|(name, v)| name.len() + value(v)).sum()
}

fn operation(context: &BeforeTransmitInterceptorContextRef<'_>) -> String {
    // `X-Amz-Target: DynamoDB_20120810.GetItem` names the operation on the wire.
    let target = context.request().headers().get("x-amz-target").unwrap_or_default();
    target.rsplit('.').next().unwrap_or_default().to_string()
}

impl TransactionGate {
    /// Hold the next `operation` (`TransactWriteItems`, `UpdateItem`) until another completes.
    pub fn arm(&self, operation: &'static str) {
        *self.state.0.lock().expect("gate lock") = GateState { armed: Some(operation), ..GateState::default() };
    }
}

impl Intercept for TransactionGate {
    fn name(&self) -> &'static str {
        "TransactionGate"
    }

    fn read_before_transmit(&self, context: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let (lock, released) = &*self.state;
        let mut state = lock.lock().expect("gate lock");
        if state.armed.is_none_or(|armed| armed != operation(context)) {
            return Ok(());
        }
        // Every authenticated request counts itself with an UpdateItem; that is not the write
        // a race test means to hold.
        let body = context.request().body().bytes().unwrap_or_default();
        if body.windows(b"RATELIMIT#".len()).any(|w| w == b"RATELIMIT#") {
            return Ok(());
        }
        if !state.holding {
            state.holding = true;
            // Bounded, so a test that never sends a second transaction fails instead of hanging.
            // block_in_place hands this worker's queued tasks (the other request among them) to
            // another thread while this one waits; needs a multi-thread test runtime.
            tokio::task::block_in_place(|| {
                let (state, _) = released.wait_timeout_while(state, std::time::Duration::from_secs(10), |s| !s.released).expect("gate lock");
                drop(state);
            });
        } else if state.holding && !state.released {
            cfg.interceptor_state().store_put(Releaser);
        }
        Ok(())
    }

    fn read_after_transmit(&self, _: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        if cfg.load::<Releaser>().is_some() {
            let (lock, released) = &*self.state;
            let mut state = lock.lock().expect("gate lock");
            state.released = true;
            state.armed = None;
            released.notify_all();
        }
        Ok(())
    }
}

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
        let ddb_config = aws_sdk_dynamodb::config::Builder::from(&config).interceptor(calls.clone()).interceptor(gate.clone()).interceptor(capacity.clone()).build();
        let ddb = aws_sdk_dynamodb::Client::from_conf(ddb_config);
        infra::bootstrap::create_table(&ddb, &template, &table).await.expect("create table");
        let sender = template.parameter_default("SenderEmail").expect("SenderEmail default");
        let ses = aws_sdk_ses::Client::new(&config);
        ses.verify_email_identity().email_address(&sender).send().await.expect("verify sender");
        // The functions' and the test's own `db` seal under the same key, as a stack's do.
        let db = Db::new(ddb.clone(), table.clone(), shared::platform::seal::Sealer::from_secret(Some(&stack_secret(&table))));
        let api = local_api(&config, &ddb, &db, &sender, &settings, None, true);
        calls.take();
        let (queue_calls, mail_calls) = (CallCounter::default(), CallCounter::default());
        TestEnv { api, config, db, ddb, calls, capacity, queue_calls, mail_calls, gate, mail_endpoint, settings, partner_api_url: None, local_webhooks: true }
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
        local_api(&self.config, &self.ddb, &self.db, sender, &self.settings, self.partner_api_url.clone(), self.local_webhooks)
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

/// Every email the moto serving SES at `ses_endpoint` captured for `address`.
pub async fn captured_emails(ses_endpoint: &str, address: &str) -> Vec<Value> {
    let data = http_get_json(&format!("{ses_endpoint}/moto-api/data.json")).await;
    let messages = data["ses"]["Message"].as_array().cloned().unwrap_or_default();
    messages.into_iter().filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|to| to.iter().any(|a| a == address))).collect()
}

/// The test stack's sealing key (a deployed stack's `STACK_SECRET`), one per table.
fn stack_secret(table: &str) -> String {
    format!("secret of {table}")
}

/// The local API with every function built from the variables a deployed one would read, on the
/// test's table (and its counted DynamoDB client).
fn local_api(config: &aws_config::SdkConfig, ddb: &aws_sdk_dynamodb::Client, db: &Db, sender: &str, settings: &InvitationSettings, partner_api_url: Option<String>, local_webhooks: bool) -> LocalApi {
    let vars = HashMap::from([
        ("TABLE_NAME", db.table.clone()),
        ("SENDER_EMAIL", sender.to_string()),
        ("INVITATION_TTL_DAYS", (settings.ttl.as_secs() / 86_400).to_string()),
        ("INVITATION_LINK_BASE", settings.link_base.clone().unwrap_or_default()),
        ("WEBHOOK_LOCAL_MODE", local_webhooks.to_string()),
        ("DIALOG360_PARTNER_API_URL", partner_api_url.unwrap_or_default()),
        ("RATE_LIMIT_PER_MINUTE", db.rate_limit.requests.to_string()),
        ("RATE_LIMIT_WINDOW_SECONDS", db.rate_limit.window.as_secs().to_string()),
        ("STACK_SECRET", stack_secret(&db.table)),
    ]);
    let env = Env::new(config.clone(), move |name| vars.get(name).cloned()).with_dynamodb(ddb.clone());
    LocalApi::new(&Template::load().expect("template.yaml"), functions::registry::handlers(&env).expect("configuration")).expect("routes")
}

/// moto's inspection API (`/moto-api/data.json`), without pulling in an HTTP client. moto builds
/// that document by walking every backend while other requests may be changing them, so a read
/// can fail (500) under concurrent tests: it is retried.
async fn http_get_json(url: &str) -> Value {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_once('/').expect("path");
        let mut last = String::new();
        for _ in 0..20 {
            let mut stream = std::net::TcpStream::connect(host).expect("connect to moto");
            write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("write");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("read");
            let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
            if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") {
                if let Ok(value) = serde_json::from_str(body) {
                    return value;
                }
            }
            last = head.lines().next().unwrap_or_default().to_string();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("moto's data.json kept failing: {last}");
    })
    .await
    .expect("join")
}
/// Two identical requests as separate tasks, so one can be held at its transaction (see
/// `TransactionGate`) while the other runs to completion.
pub async fn race(env: &Arc<TestEnv>, request: impl Fn() -> (&'static str, String, Option<String>, Option<Value>)) -> (Reply, Reply) {
    let spawn = || {
        let (env, (method, path, key, body)) = (env.clone(), request());
        tokio::spawn(async move { env.call(method, &path, key.as_deref(), body).await })
    };
    let (a, b) = (spawn(), spawn());
    (a.await.expect("request task"), b.await.expect("request task"))
}

/// How many copies of a request the race tests send at once.
pub const RACERS: usize = 8;

/// `RACERS` futures made by `make` (given their index), each on its own task, released together:
/// truly concurrent on a multi-thread runtime. Their results, in index order.
pub async fn concurrently<T, Fut>(make: impl Fn(usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let (start, work) = (start.clone(), make(i));
            tokio::spawn(async move {
                start.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = vec![];
    for task in tasks {
        results.push(task.await.expect("racing task"));
    }
    results
}

/// `RACERS` copies of one request, sent at once.
pub async fn all_at_once(env: &Arc<TestEnv>, method: &'static str, path: &str, key: Option<&str>, body: Option<Value>) -> Vec<Reply> {
    concurrently(|_| {
        let (env, path, key, body) = (env.clone(), path.to_string(), key.map(str::to_string), body.clone());
        async move { env.call(method, &path, key.as_deref(), body).await }
    })
    .await
}

/// The statuses of `replies`, sorted.
pub fn statuses(replies: &[Reply]) -> Vec<u16> {
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    statuses
}

/// `seller` invites `buyer` (by email) as a buyer and `buyer` accepts: (invitation id, connection id).
pub async fn connect(env: &TestEnv, seller: &TestAccount, buyer: &TestAccount) -> (String, String) {
    let sent = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(serde_json::json!({ "email": buyer.email }))).await;
    assert_eq!(sent.status, 201, "invite: {:?}", sent.body);
    let invitation_id = sent.body["invitation"]["id"].as_str().expect("invitation id").to_string();
    let accepted = env.call("POST", &format!("/invitations/{invitation_id}/accept"), Some(&buyer.key), None).await;
    assert_eq!(accepted.status, 200, "accept: {:?}", accepted.body);
    let connection_id = accepted.body["connection"]["id"].as_str().expect("connection id").to_string();
    (invitation_id, connection_id)
}

/// Asserts the error body shape every non-2xx response has, and returns `details`.
pub fn assert_error(reply: &Reply, status: u16, error: &str) -> String {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.body["error"], error, "{:?}", reply.body);
    let details = reply.body["details"].as_str().unwrap_or_else(|| panic!("details missing: {:?}", reply.body));
    assert!(!details.is_empty());
    details.to_string()
}

/// The stream -> queue -> buyer-setup pipeline on a test environment's table and its own queues,
/// driven step by step as Lambda's event sources would drive it.
pub struct Pipeline {
    pub stream: infra::pipeline::StreamReader,
    pub queues: &'static functions::stream::Queues,
    pub reader: infra::pipeline::QueueReader,
    pub setup: &'static shared::onboards::buyer_setup::BuyerSetup,
    pub delivery_reader: infra::pipeline::QueueReader,
    pub worker: &'static functions::client_onboarding::webhook_deliveries::Worker,
    pub lead_reader: infra::pipeline::QueueReader,
    pub leads: &'static shared::leads::service::Leads,
}

/// How long the tests' leads are kept (a deployment's default: 90 days).
pub const LEAD_RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);

enum Queue {
    BuyerSetup,
    WebhookDelivery,
    LeadDelivery,
}

/// Retries of outbound webhooks come within a second or two here (production: 30 s base).
pub const TEST_RETRY_BASE: std::time::Duration = std::time::Duration::from_secs(1);

impl TestEnv {
    /// Opens the table's stream now (later changes only) and creates the template's queues.
    pub async fn pipeline(&self) -> Pipeline {
        let template = Template::load().expect("template.yaml");
        let sqs = aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(&self.config).interceptor(self.queue_calls.clone()).build());
        let queues = infra::bootstrap::create_queues(&sqs, &template, &unique("q")).await.expect("queues");
        self.queue_calls.take();
        let (setup_url, delivery_url, lead_url) = (queues["BuyerSetupQueue"].clone(), queues["WebhookDeliveryQueue"].clone(), queues["LeadDeliveryQueue"].clone());
        let sender = template.parameter_default("SenderEmail").expect("sender");
        let ses = aws_sdk_ses::Client::from_conf(aws_sdk_ses::config::Builder::from(&self.config).interceptor(self.mail_calls.clone()).build());
        let setup = shared::onboards::buyer_setup::BuyerSetup { db: self.db.clone(), mailer: Mailer::new(ses, sender) };
        let deliverer = shared::client_onboarding::deliver::Deliverer::new(self.db.clone(), shared::platform::public_url::UrlPolicy { allow_private: true }, TEST_RETRY_BASE);
        let queues = functions::stream::Queues { sqs: shared::platform::config::LazyClient::ready(sqs.clone()), buyer_setup_url: setup_url.clone(), webhook_delivery_url: delivery_url.clone(), lead_delivery_url: lead_url.clone() };
        Pipeline {
            stream: infra::pipeline::StreamReader::open(&self.config, &self.db.table, infra::pipeline::Start::Latest, None).await.expect("stream"),
            queues: Box::leak(Box::new(queues)),
            reader: infra::pipeline::QueueReader { sqs: sqs.clone(), url: setup_url },
            setup: Box::leak(Box::new(setup)),
            delivery_reader: infra::pipeline::QueueReader { sqs: sqs.clone(), url: delivery_url.clone() },
            worker: Box::leak(Box::new(functions::client_onboarding::webhook_deliveries::Worker { deliverer, sqs: shared::platform::config::LazyClient::ready(sqs.clone()), queue_url: delivery_url })),
            lead_reader: infra::pipeline::QueueReader { sqs, url: lead_url },
            leads: Box::leak(Box::new(shared::leads::service::Leads { db: self.db.clone(), retention: LEAD_RETENTION })),
        }
    }
}

impl Pipeline {
    /// Feeds the stream's new records to the stream router until `expected` messages have been
    /// queued on the buyer-setup queue (moto's stream may lag a poll), and returns them.
    pub async fn queued_setups(&mut self, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        self.queued(Queue::BuyerSetup, expected).await
    }

    /// The same for new outbound webhook deliveries.
    pub async fn queued_deliveries(&mut self, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        self.queued(Queue::WebhookDelivery, expected).await
    }

    /// The same for new leads with buyer steps to deliver.
    pub async fn queued_leads(&mut self, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        self.queued(Queue::LeadDelivery, expected).await
    }

    /// One run of `lead-deliver` on `messages`, settled like the SQS event source.
    pub async fn deliver_leads(&self, messages: &aws_lambda_events::event::sqs::SqsEvent) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let response = functions::leads::delivery::consume_queue(self.leads, messages.clone()).await.expect("lead-deliver");
        self.lead_reader.settle(messages, &response).await.expect("settle");
        response
    }

    async fn queued(&mut self, queue: Queue, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        let mut received = aws_lambda_events::event::sqs::SqsEvent::default();
        for _ in 0..250 {
            let changes = self.stream.poll().await.expect("stream");
            if !changes.records.is_empty() {
                let response = functions::stream::route(self.queues, changes).await.expect("stream router");
                assert!(response.batch_item_failures.is_empty());
            }
            self.stream.settle(infra::pipeline::Outcome::Done).expect("settle");
            let reader = match queue {
                Queue::BuyerSetup => &self.reader,
                Queue::WebhookDelivery => &self.delivery_reader,
                Queue::LeadDelivery => &self.lead_reader,
            };
            received.records.extend(reader.receive(0).await.expect("receive").records);
            if received.records.len() >= expected {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("expected {expected} queued messages, got {}", received.records.len());
    }

    /// One delivery of `messages` to the buyer-setup function, settled like the SQS event source.
    pub async fn deliver(&self, messages: &aws_lambda_events::event::sqs::SqsEvent) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let response = functions::onboards::buyer_setup::consume_queue(self.setup, messages.clone()).await.expect("buyer-setup");
        self.reader.settle(messages, &response).await.expect("settle");
        response
    }

    /// One run of `webhook-deliver` on `messages`, settled like the SQS event source.
    pub async fn send_webhooks(&self, messages: &aws_lambda_events::event::sqs::SqsEvent) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let response = functions::client_onboarding::webhook_deliveries::consume_queue(self.worker, messages.clone()).await.expect("webhook-deliver");
        self.delivery_reader.settle(messages, &response).await.expect("settle");
        response
    }

    /// The next retry messages (re-queued with a delay), waiting up to `seconds` for them.
    pub async fn retried_deliveries(&self, seconds: u64) -> aws_lambda_events::event::sqs::SqsEvent {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        while std::time::Instant::now() < deadline {
            let messages = self.delivery_reader.receive(1).await.expect("receive");
            if !messages.records.is_empty() {
                return messages;
            }
        }
        panic!("no retry was queued within {seconds} s");
    }
}

/// A stand-in for a provider's HTTP API on 127.0.0.1: answers every request with the next of
/// `replies` (the last one repeats) and keeps what it was sent.
pub struct FakeServer {
    pub url: String,
    pub requests: Arc<std::sync::Mutex<Vec<RecordedRequest>>>,
}

#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl FakeServer {
    pub async fn start(replies: Vec<(u16, &'static str)>) -> FakeServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests: Arc<std::sync::Mutex<Vec<RecordedRequest>>> = Arc::default();
        let seen = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let mut raw = vec![];
                let mut buf = [0u8; 4096];
                let (head, mut body) = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break (String::new(), vec![]);
                    }
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&raw[..end]).into_owned(), raw[end + 4..].to_vec());
                    }
                };
                let mut lines = head.lines();
                let mut first = lines.next().unwrap_or_default().split(' ');
                let (method, path) = (first.next().unwrap_or_default().to_string(), first.next().unwrap_or_default().to_string());
                let headers: HashMap<String, String> =
                    lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
                let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                while body.len() < length {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&buf[..n]);
                }
                let index = {
                    let mut all = seen.lock().expect("requests");
                    all.push(RecordedRequest { method, path, headers, body });
                    all.len() - 1
                };
                let (status, reply) = replies[index.min(replies.len() - 1)];
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        FakeServer { url, requests }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("requests").clone()
    }
}
