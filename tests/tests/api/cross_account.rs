//! Another account's data is a 404, on every operation with a path id: generated from
//! openapi.yaml, so a new route is covered without anyone adding a test. The owner creates one
//! real resource of every kind; a stranger calls each operation with the owner's real ids.

use api_tests::openapi::OPENAPI;
use api_tests::{TestAccount, TestEnv, connect};
use serde_json::{Value, json};

/// The owner's id for the resource a path names, by its collection and parameter.
struct OwnerIds {
    ids: Vec<(&'static str, String)>,
}

impl OwnerIds {
    fn get(&self, kind: &str) -> &str {
        self.ids.iter().find(|(k, _)| *k == kind).map(|(_, id)| id.as_str()).unwrap_or_else(|| panic!("no owner id for {kind}"))
    }

    fn for_path(&self, path: &str) -> String {
        let mut uri = String::new();
        let mut collection = "";
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            let value = if segment.starts_with('{') {
                self.get(if segment == "{delivery_id}" { "deliveries" } else { collection }).to_string()
            } else {
                collection = segment;
                segment.to_string()
            };
            uri.push('/');
            uri.push_str(&value);
        }
        uri
    }
}

fn id(reply: &api_tests::Reply, pointer: &str) -> String {
    assert!(reply.status < 300, "{:?}", reply.body);
    reply.body.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} in {:?}", reply.body)).to_string()
}

async fn owner_resources(env: &TestEnv, owner: &TestAccount, partner: &TestAccount) -> OwnerIds {
    let post = |uri: &'static str, body: Value| async move { env.call("POST", uri, Some(&owner.key), Some(body)).await };
    let (invitation, connection) = connect(env, owner, partner).await;
    let entity = env.get("/entities", owner).await.expect::<Vec<api_tests::Entity>>(200).remove(0).id;
    // The partner (buyer) records an onboard on its side; the owner's own onboard comes from a
    // connection where the owner is the buyer.
    let seller = env.account("seller").await;
    let (seller_invitation, _) = connect(env, &seller, owner).await;
    let onboard = id(&post("/onboards", json!({ "invitation_id": seller_invitation })).await, "/id");
    let owned_flow = post("/flows", json!({ "name": "Owned", "enabled": true, "sources": [{ "entity": { "id": entity } }] })).await;
    let (flow, source) = (id(&owned_flow, "/id"), id(&owned_flow, "/sources/0/id"));
    let submitted = env.call("POST", &format!("/flows/{flow}/sources/{source}/submit"), Some(&owner.key), Some(json!({ "email": "lead@example.com" }))).await;
    let lead = id(&submitted, "/lead/id");
    let integration = id(&post("/integrations", json!({ "provider": "360dialog" })).await, "/id");
    let interview = "cross-account-interview";
    post("/verification-sessions", json!({ "interview_id": interview })).await;
    let claimed = env.call("GET", &format!("/integrations/{integration}/redirect?client=c1&channels=[owned-channel]"), None, None).await;
    assert_eq!(claimed.status, 200);
    let campaign = id(&post("/api/v1/campaigns", json!({ "name": "Owned" })).await, "/campaign/id");
    assert_eq!(env.call("POST", &format!("/api/v1/campaigns/{campaign}/publish"), Some(&owner.key), None).await.status, 200);
    let endpoint = id(&post("/api/v1/webhooks", json!({ "url": "https://example.com/hook" })).await, "/webhook/id");
    let mut pipeline = env.pipeline().await;
    let client = post("/api/v1/clients", json!({ "campaign_id": campaign, "email": "owned@example.com" })).await;
    assert_eq!(client.status, 201);
    pipeline.queued_deliveries(1).await;
    let deliveries = env.get(&format!("/api/v1/webhooks/{endpoint}/deliveries"), owner).await;
    let delivery = id(&deliveries, "/deliveries/0/id");
    let api_key = id(&post("/api-keys", json!({})).await, "/key/id");
    OwnerIds {
        ids: vec![
            ("invitations", invitation),
            ("connections", connection),
            ("entities", entity),
            ("onboards", onboard),
            ("onboard-invitation", seller_invitation),
            ("flows", flow),
            ("sources", source),
            ("leads", lead),
            ("integrations", integration),
            ("verification-sessions", interview.to_string()),
            ("channels", "owned-channel".to_string()),
            ("campaigns", campaign),
            ("webhooks", endpoint),
            ("deliveries", delivery),
            ("api-keys", api_key),
        ],
    }
}

/// A body the owner could send, so that only ownership decides the answer.
fn valid_body(operation_id: &str, ids: &OwnerIds) -> Value {
    match operation_id {
        "campaignsUpdate" => json!({ "name": "Renamed" }),
        "connectionsDocument" => json!({ "purpose": "Auto leads" }),
        "flowsUpdate" => json!({ "name": "Renamed", "enabled": true }),
        "leadsSubmit" => json!({ "email": "lead@example.com" }),
        "onboardsUpdate" => json!({ "invitation_id": ids.get("onboard-invitation"), "status": "in_progress" }),
        other => panic!("{other} takes a body: add a valid one here"),
    }
}

#[tokio::test]
async fn every_operation_with_a_path_id_answers_404_for_another_accounts_resource() {
    let env = TestEnv::new().await;
    let owner = env.account("owner").await;
    let partner = env.account("partner").await;
    let ids = owner_resources(&env, &owner, &partner).await;
    let stranger = env.account("stranger").await;
    let mut checked = vec![];
    for (path, item) in OPENAPI.document()["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for (method, operation) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters") {
            // Public routes are reached by id by design (a provider, a browser): docs/security.md.
            if operation["security"].as_array().is_some_and(Vec::is_empty) {
                continue;
            }
            let uri = ids.for_path(path);
            let takes_body = OPENAPI.document().pointer(&format!("/paths/{}/{method}/requestBody", path.replace('~', "~0").replace('/', "~1"))).is_some();
            let body = takes_body.then(|| valid_body(operation["operationId"].as_str().unwrap(), &ids));
            let reply = env.call(&method.to_uppercase(), &uri, Some(&stranger.key), body).await;
            assert_eq!(reply.status, 404, "{} {uri} as another account: {:?}", method.to_uppercase(), reply.body);
            assert_eq!(reply.body["error"], "not found");
            checked.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(checked.len() >= 25, "{checked:#?}");
    // The owner's resources are untouched and still its own.
    assert_eq!(env.get(&ids.for_path("/flows/{id}"), &owner).await.status, 200);
}
