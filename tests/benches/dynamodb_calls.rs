//! Prints how many DynamoDB calls one request to each endpoint makes (counted by an SDK
//! interceptor), with the operations in order, and the read and write request units DynamoDB
//! reports they consumed (`ReturnConsumedCapacity`: what on-demand billing counts; docs/cost.md).
//! Run with `infra/bench`. Figures, not assertions.

use api_tests::{TestEnv, unique};
use serde_json::{Value, json};

struct Row {
    endpoint: String,
    status: u16,
    operations: Vec<String>,
    capacity: api_tests::Capacity,
}

async fn measure(env: &TestEnv, rows: &mut Vec<Row>, method: &str, uri: &str, key: Option<&str>, body: Option<Value>, label: &str) -> Value {
    env.calls.take();
    env.capacity.take();
    let reply = env.call(method, uri, key, body).await;
    rows.push(Row { endpoint: format!("{method} {label}"), status: reply.status, operations: env.calls.take(), capacity: env.capacity.take() });
    reply.body
}

#[tokio::main]
async fn main() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let third = env.account("third").await;
    let mut rows = vec![];
    let r = &mut rows;
    let (s, b) = (Some(seller.key.as_str()), Some(buyer.key.as_str()));

    let sent = measure(&env, r, "POST", "/invitations/recipient", s, Some(json!({ "email": buyer.email })), "/invitations/recipient (existing user)").await;
    let id = sent["invitation"]["id"].as_str().unwrap().to_string();
    measure(&env, r, "POST", "/invitations/recipient", s, Some(json!({ "email": buyer.email })), "/invitations/recipient (already pending)").await;
    let new_email = format!("{}@example.com", unique("new"));
    let unknown = measure(&env, r, "POST", "/invitations/source", s, Some(json!({ "email": new_email })), "/invitations/source (new email)").await;
    let by_account = json!({ "account_id": third.id.to_string(), "relationship_type": "both" });
    let third_invite = measure(&env, r, "POST", "/invitations", s, Some(by_account), "/invitations (account id)").await;
    measure(&env, r, "GET", "/invitations", s, None, "/invitations").await;
    measure(&env, r, "GET", "/invitations?status=pending", s, None, "/invitations?status=pending").await;
    measure(&env, r, "GET", &format!("/invitations/{id}"), s, None, "/invitations/{id}").await;
    measure(&env, r, "PUT", &format!("/invitations/{id}/resend"), s, None, "/invitations/{id}/resend").await;
    let accepted = measure(&env, r, "POST", &format!("/invitations/{id}/accept"), b, None, "/invitations/{id}/accept").await;
    let connection = accepted["connection"]["id"].as_str().unwrap().to_string();
    let third_id = third_invite["invitation"]["id"].as_str().unwrap();
    measure(&env, r, "POST", &format!("/invitations/{third_id}/decline"), Some(&third.key), None, "/invitations/{id}/decline").await;
    let token = env.invitation_token(&new_email).await;
    let claim = json!({ "token": token, "account_name": "New Co", "name": "New" });
    measure(&env, r, "POST", "/invitations/claim", None, Some(claim), "/invitations/claim (new account)").await;
    let pending = measure(&env, r, "POST", "/invitations/recipient", s, Some(json!({ "email": format!("{}@example.com", unique("p")) })), "/invitations/recipient (another)").await;
    let pending_id = pending["invitation"]["id"].as_str().unwrap();
    measure(&env, r, "DELETE", &format!("/invitations/{pending_id}"), s, None, "/invitations/{id}").await;
    measure(&env, r, "GET", "/connections", s, None, "/connections").await;
    measure(&env, r, "GET", &format!("/connections/{connection}"), s, None, "/connections/{id} (connection id)").await;
    measure(&env, r, "GET", &format!("/connections/{id}"), s, None, "/connections/{id} (invitation id)").await;
    measure(&env, r, "GET", "/entities", s, None, "/entities").await;
    let entity = unknown["entity"]["id"].as_str().unwrap();
    measure(&env, r, "GET", &format!("/entities/{entity}"), s, None, "/entities/{id}").await;
    measure(&env, r, "GET", "/audit", s, None, "/audit").await;
    let buyer_flow = measure(&env, r, "POST", "/flows", b, Some(json!({ "name": "Receiving", "enabled": true })), "/flows (no partners)").await;
    let buyer_flow = buyer_flow["id"].as_str().unwrap().to_string();
    let other_buyer_flow = env.call("POST", "/flows", b, Some(json!({ "name": "Other", "enabled": true }))).await.body["id"].as_str().unwrap().to_string();
    let seller_entity = sent["entity"]["id"].as_str().unwrap().to_string();
    let seller_flow_body = json!({ "name": "Deliver", "enabled": true, "sources": [{ "entity": { "id": seller_entity } }],
        "steps": [{ "type": "recipient", "entity": { "id": seller_entity } }] });
    let seller_flow = measure(&env, r, "POST", "/flows", s, Some(seller_flow_body.clone()), "/flows (source + buyer step)").await;
    let seller_flow = seller_flow["id"].as_str().unwrap().to_string();
    measure(&env, r, "GET", "/flows", s, None, "/flows").await;
    measure(&env, r, "GET", &format!("/flows/{seller_flow}"), s, None, "/flows/{id}").await;
    measure(&env, r, "PUT", &format!("/flows/{seller_flow}"), s, Some(seller_flow_body), "/flows/{id}").await;
    let onboard = measure(&env, r, "POST", "/onboards", b, Some(json!({ "invitation_id": id, "flow_id": buyer_flow })), "/onboards (with flow_id)").await;
    let onboard = onboard["id"].as_str().unwrap().to_string();
    measure(&env, r, "GET", "/onboards", b, None, "/onboards").await;
    measure(&env, r, "GET", &format!("/onboards/{onboard}"), b, None, "/onboards/{id}").await;
    let same_flow = json!({ "invitation_id": id, "flow_id": buyer_flow, "status": "in_progress" });
    measure(&env, r, "PUT", &format!("/onboards/{onboard}"), b, Some(same_flow), "/onboards/{id} (same flow)").await;
    measure(&env, r, "PUT", &format!("/onboards/{onboard}"), b, Some(json!({ "invitation_id": id, "flow_id": other_buyer_flow })), "/onboards/{id} (new flow)").await;
    measure(&env, r, "PUT", &format!("/onboards/{onboard}"), b, Some(json!({ "invitation_id": id, "status": "completed" })), "/onboards/{id} (completed)").await;
    measure(&env, r, "POST", "/onboard/buyer", b, Some(json!({ "invitation_id": id })), "/onboard/buyer").await;

    // Leads: the seller submits as its flow's source; the buyer step delivers to the buyer.
    let mut pipeline = env.pipeline().await;
    let source = env.get(&format!("/flows/{seller_flow}"), &seller).await.body["sources"][0]["id"].as_str().unwrap().to_string();
    let submit = format!("/flows/{seller_flow}/sources/{source}/submit");
    let lead = json!({ "email": "jane@example.com", "phone_1": "5125551234" });
    let submitted = measure(&env, r, "POST", &submit, s, Some(lead.clone()), "/flows/{id}/sources/{source_id}/submit").await;
    let lead_id = submitted["lead"]["id"].as_str().unwrap().to_string();
    let messages = pipeline.queued_leads(1).await;
    env.calls.take();
    env.capacity.take();
    let delivered = pipeline.deliver_leads(&messages).await;
    rows.push(Row { endpoint: "lead-deliver (1 buyer step)".into(), status: if delivered.batch_item_failures.is_empty() { 200 } else { 500 }, operations: env.calls.take(), capacity: env.capacity.take() });
    let r = &mut rows;
    measure(&env, r, "GET", &format!("/leads/{lead_id}"), s, None, "/leads/{id}").await;
    measure(&env, r, "GET", &format!("/flows/{seller_flow}/leads"), s, None, "/flows/{id}/leads").await;
    measure(&env, r, "GET", &format!("/flows/{seller_flow}/sources/{source}/docs"), s, None, "/flows/{id}/sources/{source_id}/docs").await;
    // Submission latency in-process against the local stack (DynamoDB Local): figures only.
    let mut micros = vec![];
    for _ in 0..50 {
        let started = std::time::Instant::now();
        assert_eq!(env.call("POST", &submit, s, Some(lead.clone())).await.status, 200);
        micros.push(started.elapsed().as_micros());
    }
    micros.sort();
    let submission_latency = (micros[micros.len() / 2], micros[micros.len() * 95 / 100], micros.len());
    measure(&env, r, "DELETE", &format!("/connections/{connection}"), b, None, "/connections/{id}").await;
    measure(&env, r, "GET", "/connections", Some("sk_live_0000000000000000000000000000000000000000"), None, "/connections (unknown key)").await;

    // Inbound integrations and the webhook receiver (no API key: the provider's token).
    let created = measure(&env, r, "POST", "/integrations", s, Some(json!({ "provider": "incode" })), "/integrations").await;
    let (integration, token) = (created["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string());
    measure(&env, r, "GET", "/integrations", s, None, "/integrations").await;
    measure(&env, r, "GET", &format!("/integrations/{integration}"), s, None, "/integrations/{id}").await;
    measure(&env, r, "POST", "/verification-sessions", s, Some(json!({ "interview_id": "bench1" })), "/verification-sessions").await;
    let delivery = json!({ "interviewId": "bench1", "onboardingStatus": "ID_VALIDATION_FINISHED" });
    let hook = format!("/webhooks/{integration}");
    measure(&env, r, "POST", &hook, Some(&token), Some(delivery.clone()), "/webhooks/{id} (Incode, new status)").await;
    measure(&env, r, "POST", &hook, Some(&token), Some(delivery), "/webhooks/{id} (Incode, retried)").await;
    measure(&env, r, "POST", &hook, Some("wrong-token"), Some(json!({})), "/webhooks/{id} (wrong token)").await;
    measure(&env, r, "GET", "/verification-sessions/bench1", s, None, "/verification-sessions/{id}").await;
    measure(&env, r, "GET", &format!("/integrations/{integration}/events"), s, None, "/integrations/{id}/events").await;
    let dialog = env.call("POST", "/integrations", s, Some(json!({ "provider": "360dialog" }))).await.body["id"].as_str().unwrap().to_string();
    let redirect = format!("/integrations/{dialog}/redirect?client=c1&channels=[ch1,ch2]");
    measure(&env, r, "GET", &redirect, None, None, "/integrations/{id}/redirect (2 channels)").await;
    measure(&env, r, "GET", "/channels/ch1", s, None, "/channels/{id}").await;
    measure(&env, r, "DELETE", &format!("/integrations/{integration}"), s, None, "/integrations/{id}").await;

    // Client onboarding (seed 001) with one webhook endpoint subscribed.
    let hook = measure(&env, r, "POST", "/api/v1/webhooks", b, Some(json!({ "url": "http://127.0.0.1:9/hook" })), "/api/v1/webhooks").await;
    let hook = hook["webhook"]["id"].as_str().unwrap().to_string();
    measure(&env, r, "GET", "/api/v1/webhooks", b, None, "/api/v1/webhooks").await;
    let campaign = measure(&env, r, "POST", "/api/v1/campaigns", b, Some(json!({ "name": "Bench" })), "/api/v1/campaigns").await;
    let campaign = campaign["campaign"]["id"].as_str().unwrap().to_string();
    measure(&env, r, "POST", &format!("/api/v1/campaigns/{campaign}/publish"), b, None, "/api/v1/campaigns/{id}/publish (1 endpoint)").await;
    measure(&env, r, "GET", "/api/v1/campaigns", b, None, "/api/v1/campaigns").await;
    let client = measure(&env, r, "POST", "/api/v1/clients", b, Some(json!({ "campaign_id": campaign, "email": "c@example.com" })), "/api/v1/clients (1 endpoint)").await;
    let link = client["client"]["link"].as_str().unwrap().to_string();
    let path = &link[link.find("/c/").unwrap()..];
    measure(&env, r, "GET", "/api/v1/clients", b, None, "/api/v1/clients").await;
    measure(&env, r, "GET", path, None, None, "/c/{token}").await;
    measure(&env, r, "POST", &format!("{path}/complete"), None, None, "/c/{token}/complete (1 endpoint)").await;
    measure(&env, r, "GET", &format!("/api/v1/webhooks/{hook}/deliveries"), b, None, "/api/v1/webhooks/{id}/deliveries").await;

    let (p50, p95, n) = submission_latency;
    println!("lead submission, in-process against this machine's local stack: p50 {:.1} ms, p95 {:.1} ms over {n}", p50 as f64 / 1000.0, p95 as f64 / 1000.0);
    println!("{:<48} {:>6} {:>6} {:>6} {:>6}  operations", "endpoint", "status", "calls", "RRU", "WRU");
    for row in &rows {
        println!("{:<48} {:>6} {:>6} {:>6.1} {:>6.1}  {}", row.endpoint, row.status, row.operations.len(), row.capacity.read, row.capacity.write, row.operations.join(", "));
    }
}
