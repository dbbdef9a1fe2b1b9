//! Flows with sources and buyer steps: ownership, active connections, revocation seen at once,
//! the buyer-step index, bounds and versions.

use api_tests::{Entity, Flow, TestEnv, assert_error, connect};
use serde_json::{Value, json};
use shared::Id;

async fn seller_entity(env: &TestEnv, seller: &api_tests::TestAccount) -> String {
    env.get("/entities", seller).await.expect::<Vec<Entity>>(200).remove(0).id
}

fn buyer_flow(entity: &str) -> Value {
    json!({
        "name": "Deliver to buyer",
        "enabled": true,
        "fields": ["email", "phone_1"],
        "sources": [{ "entity": { "id": entity, "name": "ignored" } }],
        "steps": [
            { "type": "filter" },
            { "type": "recipient", "entity": { "id": entity }, "integration": { "module_id": "leadconduit.buyer", "mappings": [] } }
        ]
    })
}

#[tokio::test]
async fn flows_name_connected_partners_and_show_revocation_at_once() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let (_, connection_id) = connect(&env, &seller, &buyer).await;
    let entity = seller_entity(&env, &seller).await;

    let created = env.call("POST", "/flows", Some(&seller.key), Some(buyer_flow(&entity))).await;
    let flow: Flow = created.expect(201);
    let id = flow.id.as_str();
    assert_eq!(flow.sources[0].entity.name, buyer.name, "the entity's own name");
    assert!(flow.sources[0].active);
    assert_eq!(flow.steps[1].kind, "recipient");
    assert!(flow.steps[1].active);
    assert_eq!(flow.fields, ["email", "phone_1"]);
    assert_eq!(created.headers["etag"], "\"1\"");

    // The buyer-step index answers "which flows deliver to this buyer" with one Query.
    env.calls.take();
    let delivering = env.db.onboards().flows_delivering_to(&seller.id, &Id::parse(&entity).unwrap()).await.unwrap();
    assert_eq!(env.calls.take(), ["Query"]);
    assert_eq!(delivering.len(), 1);
    assert_eq!(delivering[0].flow_id.to_string(), id);
    assert_eq!(delivering[0].step_id.to_string(), flow.steps[1].id);

    let revoked = env.call("DELETE", &format!("/connections/{connection_id}"), Some(&buyer.key), None).await;
    assert_eq!(revoked.status, 200);
    let seen: Flow = env.get(&format!("/flows/{id}"), &seller).await.expect(200);
    assert!(!seen.sources[0].active);
    assert!(!seen.steps[1].active);
    assert!(seen.steps[0].active, "a filter step names no partner");
    let listed: Vec<Flow> = env.get("/flows", &seller).await.expect(200);
    assert!(!listed[0].steps[1].active);

    let new_step = env.call("POST", "/flows", Some(&seller.key), Some(buyer_flow(&entity))).await;
    assert!(assert_error(&new_step, 409, "conflict").contains("not active"), "no new buyer steps to a revoked partner");
}

#[tokio::test]
async fn replacing_a_flow_moves_its_index_entries_and_respects_versions() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let other_buyer = env.account("other-buyer").await;
    connect(&env, &seller, &buyer).await;
    connect(&env, &seller, &other_buyer).await;
    let entities: Vec<Entity> = env.get("/entities", &seller).await.expect(200);
    let (second, first) = (entities[0].id.clone(), entities[1].id.clone());
    let created: Flow = env.call("POST", "/flows", Some(&seller.key), Some(buyer_flow(&first))).await.expect(201);
    let id = created.id.clone();

    let mut replacement = buyer_flow(&second);
    replacement["steps"][1]["id"] = json!(created.steps[1].id);
    replacement["steps"][1]["integration"]["mappings"] = json!([{ "property": "flow_id", "value": "64b8f0f5e4b0c3a1d5e6f7ab" }]);
    let put = |body: Value, if_match: &str| infra::local_api::HttpRequest {
        method: "PUT".into(),
        uri: format!("/flows/{id}"),
        headers: vec![("authorization".into(), format!("Bearer {}", seller.key)), ("if-match".into(), if_match.into())],
        body: body.to_string().into_bytes(),
    };
    let updated: Flow = env.request(put(replacement.clone(), "\"1\"")).await.expect(200);
    assert_eq!(updated.version, 2);
    assert_eq!(updated.steps[1].id, created.steps[1].id, "step ids are kept");
    assert_eq!(updated.steps[1].integration.as_ref().unwrap().mappings[0].property, "flow_id");
    assert_eq!(updated.created_at, created.created_at);
    let stale = env.request(put(replacement, "\"1\"")).await;
    assert!(assert_error(&stale, 409, "conflict").contains("version"));

    let to_first = env.db.onboards().flows_delivering_to(&seller.id, &Id::parse(&first).unwrap()).await.unwrap();
    let to_second = env.db.onboards().flows_delivering_to(&seller.id, &Id::parse(&second).unwrap()).await.unwrap();
    assert!(to_first.is_empty(), "the old buyer step's index entry is gone");
    assert_eq!(to_second.len(), 1);
}

#[tokio::test]
async fn flows_are_validated_bounded_and_private() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let stranger = env.account("stranger").await;
    connect(&env, &seller, &buyer).await;
    let entity = seller_entity(&env, &seller).await;
    let post = |body: Value| {
        let (env, key) = (&env, seller.key.clone());
        async move { env.call("POST", "/flows", Some(&key), Some(body)).await }
    };
    let field = |reply: &api_tests::Reply| assert_error(reply, 422, "validation failed");
    assert!(field(&post(json!({ "enabled": true })).await).contains("name"));
    assert!(field(&post(json!({ "name": "f" })).await).contains("enabled"));
    assert!(field(&post(json!({ "name": "f", "enabled": "yes" })).await).contains("enabled"));
    assert!(field(&post(json!({ "name": "f", "enabled": true, "owner": "x" })).await).contains("owner"));
    assert!(field(&post(json!({ "name": "f", "enabled": true, "steps": [{ "type": "teleport" }] })).await).contains("steps[0].type"));
    let too_many: Vec<Value> = (0..41).map(|_| json!({ "type": "filter" })).collect();
    assert!(field(&post(json!({ "name": "f", "enabled": true, "steps": too_many })).await).contains("at most 40"));
    let foreign = env.get("/entities", &buyer).await.expect::<Vec<Entity>>(200).remove(0).id;
    assert_error(&post(buyer_flow(&foreign)).await, 404, "not found");
    let huge = json!({ "name": "f", "enabled": true, "fields": vec!["x".repeat(900); 80] });
    assert_error(&post(huge).await, 413, "payload too large");

    let raw = |method: &str, uri: &str| infra::local_api::HttpRequest {
        method: method.into(),
        uri: uri.into(),
        headers: vec![("authorization".into(), format!("Bearer {}", seller.key))],
        body: b"{\"name\": ".to_vec(),
    };
    assert_error(&env.request(raw("POST", "/flows")).await, 400, "invalid JSON");

    let created = post(buyer_flow(&entity)).await;
    let path = format!("/flows/{}", created.expect::<Flow>(201).id);
    assert_error(&env.request(raw("PUT", &path)).await, 400, "invalid JSON");
    let invalid = env.call("PUT", &path, Some(&seller.key), Some(json!({ "name": "", "enabled": true }))).await;
    assert!(assert_error(&invalid, 422, "validation failed").contains("name"));
    assert_error(&env.get(&path, &stranger).await, 404, "not found");
    assert_error(&env.call("PUT", &path, Some(&stranger.key), Some(json!({ "name": "mine", "enabled": true }))).await, 404, "not found");
    assert!(env.get("/flows", &stranger).await.expect::<Vec<Flow>>(200).is_empty());
    assert_error(&env.get("/flows/xyz", &seller).await, 400, "bad request");
    assert_error(&env.call("GET", "/flows", None, None).await, 401, "authentication failed");
}
