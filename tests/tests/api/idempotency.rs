//! `Idempotency-Key` on every POST that creates something (the operations openapi.yaml gives
//! the parameter): a retry replays, another request with the key is a 422, one still running
//! a 409; keys are the account's own; the response kept for replay is sealed at rest.

use std::sync::Arc;

use api_tests::openapi::OPENAPI;
use api_tests::{CampaignReply, Clients, InboundIntegration, Webhooks, Reply, TestAccount, TestEnv, assert_error, concurrently, unique};
use infra::local_api::HttpRequest;
use lambda_http::RequestExt;
use serde_json::{Value, json};

const KEY_PARAMETER: &str = "#/components/parameters/idempotencyKey";

/// (method, path) of every operation that takes an `Idempotency-Key`.
fn keyed_operations() -> Vec<(String, String)> {
    let mut found = vec![];
    for (path, item) in OPENAPI.document()["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            if parameters.iter().any(|p| p["$ref"] == KEY_PARAMETER) {
                found.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

async fn post(env: &TestEnv, account: &TestAccount, uri: &str, key: Option<&str>, body: &Value) -> Reply {
    let mut headers = vec![("authorization".to_string(), format!("Bearer {}", account.key)), ("content-type".into(), "application/json".into())];
    if let Some(key) = key {
        headers.push(("idempotency-key".into(), key.into()));
    }
    env.request(HttpRequest { method: "POST".into(), uri: uri.into(), headers, body: body.to_string().into_bytes() }).await
}

/// What `once` hashes for a request: method, path, body.
fn fingerprint(method: &str, uri: &str, body: &Value) -> String {
    let mut req = lambda_http::Request::new(lambda_http::Body::Text(body.to_string())).with_raw_http_path(uri);
    *req.method_mut() = method.parse().unwrap();
    shared::platform::idempotency::fingerprint(&req)
}

#[tokio::test]
async fn every_post_that_creates_something_takes_a_key() {
    let operations = keyed_operations();
    let creating: Vec<_> = infra::template::Template::load().unwrap().routes().unwrap().into_iter().filter(|r| r.method == "POST" && r.binary.ends_with("-create")).collect();
    for route in &creating {
        assert!(operations.contains(&(route.method.clone(), route.path.clone())), "{} {} takes no Idempotency-Key", route.method, route.path);
    }
    assert!(operations.len() >= 13, "{operations:?}");
}

#[tokio::test]
async fn a_held_key_is_409_while_running_and_422_for_another_request_on_every_keyed_operation() {
    let env = TestEnv::new().await;
    let account = env.account("keys").await;
    for (method, path) in keyed_operations() {
        let uri = path.replace("{id}", &shared::Id::generate().to_string()).replace("{delivery_id}", &shared::Id::generate().to_string());
        let body = json!({ "any": "body" });
        let key = unique("held");
        // A first request with this key that has not finished (its claim, as it would be).
        let held = env.db.claim_idempotency_key(&account.id, &shared::platform::secret::hash(&key), &fingerprint(&method, &uri, &body)).await.unwrap();
        assert!(held.is_none());
        let running = post(&env, &account, &uri, Some(&key), &body).await;
        assert!(assert_error(&running, 409, "conflict").contains("in progress"), "{method} {path}");
        let other = post(&env, &account, &uri, Some(&key), &json!({ "another": "body" })).await;
        assert!(assert_error(&other, 422, "validation failed").contains("different request"), "{method} {path}");
        let bad = post(&env, &account, &uri, Some("with space"), &body).await;
        assert!(assert_error(&bad, 400, "bad request").contains("Idempotency-Key"), "{method} {path}");
    }
}

async fn published_campaign(env: &TestEnv, account: &TestAccount) -> String {
    let created = post(env, account, "/api/v1/campaigns", None, &json!({ "name": "Keys" })).await;
    let id = created.expect::<CampaignReply>(201).campaign.id;
    post(env, account, &format!("/api/v1/campaigns/{id}/publish"), None, &json!({})).await.expect::<CampaignReply>(200);
    id
}

#[tokio::test]
async fn a_retried_client_creation_replays_the_first_response_and_creates_one_client() {
    let env = TestEnv::new().await;
    let account = env.account("retry").await;
    let campaign = published_campaign(&env, &account).await;
    let body = json!({ "campaign_id": campaign, "email": "client@example.com" });

    let first = post(&env, &account, "/api/v1/clients", Some("client-1"), &body).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let retry = post(&env, &account, "/api/v1/clients", Some("client-1"), &body).await;
    assert_eq!((retry.status, &retry.body), (201, &first.body), "the same client and link, shown again");
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert!(!first.headers.contains_key("idempotent-replayed"));
    let listed: Clients = env.get("/api/v1/clients", &account).await.expect(200);
    assert_eq!(listed.clients.len(), 1, "one client, one link, one client.created");

    // Another request under the key is refused; another account's same key is its own.
    let other_body = json!({ "campaign_id": campaign, "email": "other@example.com" });
    assert_error(&post(&env, &account, "/api/v1/clients", Some("client-1"), &other_body).await, 422, "validation failed");
    let stranger = env.account("stranger").await;
    let theirs = post(&env, &stranger, "/api/v1/campaigns", Some("client-1"), &json!({ "name": "Theirs" })).await;
    assert_eq!(theirs.status, 201, "keys are scoped to the account");

    // Without a key, a retry is a second creation, as before.
    assert_eq!(post(&env, &account, "/api/v1/clients", None, &other_body).await.status, 201);
    assert_eq!(post(&env, &account, "/api/v1/clients", None, &other_body).await.status, 201);
    assert_eq!(env.get("/api/v1/clients", &account).await.expect::<Clients>(200).clients.len(), 3);
}

#[tokio::test]
async fn a_failed_request_releases_its_key() {
    let env = TestEnv::new().await;
    let account = env.account("release").await;
    let created = post(&env, &account, "/api/v1/campaigns", None, &json!({ "name": "Draft" })).await;
    let campaign = created.expect::<CampaignReply>(201).campaign.id;
    let body = json!({ "campaign_id": campaign, "email": "c@example.com" });
    assert_error(&post(&env, &account, "/api/v1/clients", Some("after-publish"), &body).await, 409, "conflict");
    assert_eq!(post(&env, &account, &format!("/api/v1/campaigns/{campaign}/publish"), None, &json!({})).await.status, 200);
    assert_eq!(post(&env, &account, "/api/v1/clients", Some("after-publish"), &body).await.status, 201, "the retry runs");
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_once() {
    let env = Arc::new(TestEnv::new().await);
    let account = Arc::new(env.account("race").await);
    let replies = concurrently(|_| {
        let (env, account) = (env.clone(), account.clone());
        async move { post(&env, &account, "/api/v1/webhooks", Some("one-endpoint"), &json!({ "url": "https://example.com/hook" })).await }
    })
    .await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert!(!created.is_empty() && replies.iter().all(|r| matches!(r.status, 201 | 409)), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(created.iter().all(|r| r.body == created[0].body), "every 201 is the one endpoint");
    assert_eq!(env.get("/api/v1/webhooks", &account).await.expect::<Webhooks>(200).webhooks.len(), 1);
}

#[tokio::test]
async fn a_secret_shown_once_is_replayed_but_never_stored_in_the_clear() {
    let env = TestEnv::new().await;
    let account = env.account("sealed").await;
    let first = post(&env, &account, "/integrations", Some("incode-1"), &json!({ "provider": "incode" })).await;
    let secret = first.expect::<InboundIntegration>(201).secret.expect("the secret, shown once");
    let retry = post(&env, &account, "/integrations", Some("incode-1"), &json!({ "provider": "incode" })).await;
    assert_eq!(retry.expect::<InboundIntegration>(201).secret, Some(secret.clone()), "the retry gets what the first request got");
    let item = env.stored_item(&format!("ACCOUNT#{}", account.id), &format!("IDEMPOTENCY#{}", shared::platform::secret::hash("incode-1"))).await.expect("the key's record");
    let stored = format!("{item:?}");
    assert!(!stored.contains(&secret) && !stored.contains("incode-1"), "neither the secret nor the key in the clear: {stored}");
}

/// What a key costs, in DynamoDB calls as the bench counts them (printed; the counts are asserted).
#[tokio::test]
async fn a_key_costs_one_write_to_claim_and_one_to_keep_and_a_replay_one_call() {
    let env = TestEnv::new().await;
    let account = env.account("cost").await;
    let body = json!({ "name": "Counted" });
    env.calls.take();
    post(&env, &account, "/api/v1/campaigns", None, &body).await;
    let plain = env.calls.take();
    post(&env, &account, "/api/v1/campaigns", Some("counted"), &body).await;
    let keyed = env.calls.take();
    post(&env, &account, "/api/v1/campaigns", Some("counted"), &body).await;
    let replay = env.calls.take();
    println!("POST /api/v1/campaigns DynamoDB calls: without a key {plain:?}; with a new key {keyed:?}; replayed {replay:?}");
    let auth = plain.len() - 1;
    assert_eq!(keyed.len(), plain.len() + 2, "claim and keep: {keyed:?}");
    assert_eq!(&keyed[auth..], ["UpdateItem", plain[auth].as_str(), "UpdateItem"]);
    assert_eq!(replay.len(), auth + 1, "a replay is the claim that fails: {replay:?}");
}
