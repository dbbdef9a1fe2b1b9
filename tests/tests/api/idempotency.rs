//! `Idempotency-Key` on every POST that creates something (the operations openapi.yaml gives
//! the parameter): a retry replays, another request with the key is a 422, one still running
//! a 409; keys are the account's own; the response kept for replay is sealed at rest.

use std::sync::Arc;

use api_tests::openapi::OPENAPI;
use api_tests::{CampaignReply, Clients, Fault, InboundIntegration, Webhooks, Reply, TestAccount, TestEnv, assert_error, concurrently, unique};
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
        assert!(held.is_ok(), "claimed");
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
    let item = env.stored_item(&format!("IDEMPOTENCY#{}#{}", account.id, shared::platform::secret::hash("incode-1")), "KEY").await.expect("the key's record");
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

/// The effect committed but its answer was never kept (the function died between the two
/// writes, here: the answer's write never reached DynamoDB). The request still answers what it
/// did (201, not a 5xx for work done), and a retry is told the work was carried out — it never
/// creates a second campaign.
#[tokio::test]
async fn an_effect_whose_answer_was_not_kept_is_never_done_twice() {
    let env = TestEnv::new().await;
    let account = env.account("unkept").await;
    let body = json!({ "name": "Once only" });
    env.faults.plan(Fault::NotSent, "UpdateItem", ":set_response");
    let first = post(&env, &account, "/api/v1/campaigns", Some("unkept-1"), &body).await;
    assert_eq!(first.expect::<CampaignReply>(201).campaign.name, "Once only");
    assert_eq!(env.faults.clear(), 0, "the answer's write was attempted and failed");
    let retry = post(&env, &account, "/api/v1/campaigns", Some("unkept-1"), &body).await;
    assert!(assert_error(&retry, 409, "conflict").contains("carried out"));
    assert_eq!(env.get("/api/v1/campaigns?status=draft", &account).await.expect::<api_tests::Campaigns>(200).campaigns.len(), 1);
}

/// The effect's transaction committed but its response was lost (a timeout): the request saw a
/// failure (503), yet its key is not released — the key's record committed with the effect — so
/// the retry cannot create the campaign again.
#[tokio::test]
async fn a_commit_whose_response_was_lost_keeps_its_key() {
    let env = TestEnv::new().await;
    let account = env.account("lost").await;
    let body = json!({ "name": "Committed in the dark" });
    env.faults.plan(Fault::ResponseLost, "TransactWriteItems", "CAMPAIGN#");
    let first = post(&env, &account, "/api/v1/campaigns", Some("lost-1"), &body).await;
    assert_eq!(env.faults.clear(), 0);
    let retry = post(&env, &account, "/api/v1/campaigns", Some("lost-1"), &body).await;
    match first.status {
        // The SDK's own retry met DynamoDB's idempotent answer for the same ClientRequestToken.
        201 => assert_eq!(retry.expect::<CampaignReply>(201).campaign, first.read::<CampaignReply>().campaign),
        _ => {
            assert_error(&first, 503, "service unavailable");
            assert!(assert_error(&retry, 409, "conflict").contains("carried out"));
        }
    }
    assert_eq!(env.get("/api/v1/campaigns?status=draft", &account).await.expect::<api_tests::Campaigns>(200).campaigns.len(), 1);
}

/// A request that committed nothing releases its key only if the key is still its own: after a
/// takeover (its lease ran out, a retry claimed the key), the late request can no longer commit
/// under the key, and the retry's work stands alone.
#[tokio::test]
async fn a_request_overtaken_by_its_retry_cannot_commit_under_the_key() {
    let env = TestEnv::new().await;
    let account = env.account("overtaken").await;
    let (key_hash, fingerprint) = (shared::platform::secret::hash("late-1"), fingerprint("POST", "/api/v1/campaigns", &json!({ "name": "Late" })));
    let late = env.db.claim_idempotency_key(&account.id, &key_hash, &fingerprint).await.unwrap().expect("claimed");
    // The lease runs out (its claim is backdated), and the retry takes the key over.
    let mut item = env.stored_item(&format!("IDEMPOTENCY#{}#{key_hash}", account.id), "KEY").await.unwrap();
    item.insert("claimed_at".into(), aws_sdk_dynamodb::types::AttributeValue::N("1".into()));
    env.plant_item(item).await;
    let retry = post(&env, &account, "/api/v1/campaigns", Some("late-1"), &json!({ "name": "Late" })).await;
    retry.expect::<CampaignReply>(201);
    // The late request's commit, under its old claim, is refused; its release leaves the key.
    let refused = shared::store::idempotency::under_claim(late.clone(), env.db.client_onboarding().create_campaign(&account.id, serde_json::from_value(json!({ "name": "Late" })).unwrap())).await;
    assert!(matches!(refused.0, Err(shared::ApiError::Conflict(ref d)) if d.contains("taken over")), "{:?}", refused.0);
    env.db.release_idempotency_key(&late).await.unwrap();
    let replay = post(&env, &account, "/api/v1/campaigns", Some("late-1"), &json!({ "name": "Late" })).await;
    assert_eq!(replay.headers.get("idempotent-replayed").map(String::as_str), Some("true"));
    assert_eq!(env.get("/api/v1/campaigns?status=draft", &account).await.expect::<api_tests::Campaigns>(200).campaigns.len(), 1);
}
