//! Seed 000's onboard endpoints: every status code, the POST and PUT races, cross-account probes
//! and bad input.

use std::sync::Arc;

use api_tests::{all_at_once, statuses, Flow, Onboard, TestAccount, TestEnv, assert_error, connect, race};
use serde_json::{Value, json};

struct Setup {
    env: TestEnv,
    seller: TestAccount,
    buyer: TestAccount,
    invitation_id: String,
    connection_id: String,
}

async fn setup() -> Setup {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let (invitation_id, connection_id) = connect(&env, &seller, &buyer).await;
    Setup { env, seller, buyer, invitation_id, connection_id }
}

async fn create(s: &Setup, body: Value) -> api_tests::Reply {
    s.env.call("POST", "/onboards", Some(&s.buyer.key), Some(body)).await
}

async fn flow(env: &TestEnv, owner: &TestAccount) -> String {
    env.call("POST", "/flows", Some(&owner.key), Some(json!({ "name": "Receiving", "enabled": true }))).await.expect::<Flow>(201).id
}

#[tokio::test]
async fn the_seeds_onboarding_path() {
    let s = setup().await;
    let buyer_flow = flow(&s.env, &s.buyer).await;
    let created = create(&s, json!({ "invitation_id": s.invitation_id })).await;
    let onboard: Onboard = created.expect(201);
    assert_eq!(onboard.status, "created");
    assert_eq!(onboard.account_id, s.buyer.id.to_string());
    assert_eq!(onboard.invitation_id, s.invitation_id);
    assert_eq!(onboard.connection_id, s.connection_id, "resolved from the invitation");
    assert_eq!(onboard.flow_id, None);
    assert!(onboard.created_at.ends_with('Z') && onboard.updated_at.ends_with('Z'));
    assert_eq!(created.headers["etag"], "\"1\"");

    let path = format!("/onboards/{}", onboard.id);
    let in_progress = s.env.call("PUT", &path, Some(&s.buyer.key), Some(json!({ "invitation_id": s.invitation_id, "flow_id": buyer_flow, "status": "in_progress" }))).await;
    let in_progress: Onboard = in_progress.expect(200);
    assert_eq!(in_progress.status, "in_progress");
    assert_eq!(in_progress.flow_id, Some(buyer_flow.clone()));
    let completed = s.env.call("PUT", &path, Some(&s.buyer.key), Some(json!({
        "account_id": s.buyer.id.to_string(), "invitation_id": s.invitation_id, "connection_id": s.connection_id, "flow_id": buyer_flow, "status": "completed"
    }))).await;
    assert_eq!(completed.headers["etag"], "\"3\"");
    let completed: Onboard = completed.expect(200);
    assert_eq!(completed.status, "completed");
    assert_eq!(completed.setup_status.as_deref(), Some("pending"), "recorded for the buyer setup pipeline");

    let got: Onboard = s.env.get(&path, &s.buyer).await.expect(200);
    assert_eq!(got, completed);
    let listed: Vec<Onboard> = s.env.get("/onboards", &s.buyer).await.expect(200);
    assert_eq!(listed, [completed]);

    let back = s.env.call("PUT", &path, Some(&s.buyer.key), Some(json!({ "invitation_id": s.invitation_id, "status": "in_progress" }))).await;
    assert!(assert_error(&back, 409, "conflict").starts_with("Onboard was not updated"));
    let again = s.env.call("PUT", &path, Some(&s.buyer.key), Some(json!({ "invitation_id": s.invitation_id, "status": "completed" }))).await;
    assert_error(&again, 409, "conflict");
}

#[tokio::test]
async fn creating_needs_an_accepted_invitation_of_ones_own_and_only_once() {
    let s = setup().await;
    let stranger = s.env.account("stranger").await;
    let stranger_flow = flow(&s.env, &stranger).await;
    let details = |reply: &api_tests::Reply, status, error| assert_error(reply, status, error);

    assert!(details(&create(&s, json!({})).await, 422, "validation failed").contains("invitation_id"));
    assert!(details(&create(&s, json!({ "invitation_id": 42 })).await, 422, "validation failed").contains("invitation_id"));
    assert!(details(&create(&s, json!({ "invitation_id": "nope" })).await, 422, "validation failed").contains("invitation_id"));
    assert!(details(&create(&s, json!({ "invitation_id": s.invitation_id, "extra": 1 })).await, 422, "validation failed").contains("extra"));
    let other = api_tests::unique("x");
    let pending = s.env.call("POST", "/invitations/recipient", Some(&s.seller.key), Some(json!({ "email": format!("{other}@example.com") }))).await;
    let pending_id = pending.read::<api_tests::InvitationSent>().invitation.id;
    // Only the buying side onboards: the seller of an invitation to a buyer is refused, pending or accepted.
    let seller_pending = s.env.call("POST", "/onboards", Some(&s.seller.key), Some(json!({ "invitation_id": pending_id }))).await;
    assert!(details(&seller_pending, 403, "forbidden").contains("only the buying side"));
    let seller_accepted = s.env.call("POST", "/onboards", Some(&s.seller.key), Some(json!({ "invitation_id": s.invitation_id }))).await;
    assert!(details(&seller_accepted, 403, "forbidden").contains("only the buying side"));
    // A seller that invited a source is its buyer, and onboards once the source accepts.
    let source = s.env.call("POST", "/invitations/source", Some(&s.seller.key), Some(json!({ "email": format!("source-{other}@example.com") }))).await;
    let not_accepted = s.env.call("POST", "/onboards", Some(&s.seller.key), Some(json!({ "invitation_id": source.read::<api_tests::InvitationSent>().invitation.id }))).await;
    assert!(details(&not_accepted, 409, "conflict").contains("not been accepted"));
    let not_mine = s.env.call("POST", "/onboards", Some(&stranger.key), Some(json!({ "invitation_id": s.invitation_id }))).await;
    assert_error(&not_mine, 404, "not found");
    let foreign_flow = create(&s, json!({ "invitation_id": s.invitation_id, "flow_id": stranger_flow })).await;
    assert!(details(&foreign_flow, 400, "bad request").contains("flow"));

    let first = create(&s, json!({ "invitation_id": s.invitation_id.to_uppercase() })).await;
    first.expect::<Onboard>(201);
    let second = create(&s, json!({ "invitation_id": s.invitation_id })).await;
    assert!(details(&second, 400, "bad request").contains("already exists"));

    let raw = |body: &str| infra::local_api::HttpRequest {
        method: "POST".into(),
        uri: "/onboards".into(),
        headers: vec![("authorization".into(), format!("Bearer {}", s.buyer.key))],
        body: body.as_bytes().to_vec(),
    };
    assert_error(&s.env.request(raw("{\"invitation_id\"")).await, 400, "invalid JSON");
    assert_error(&s.env.request(raw(&format!("{{\"invitation_id\":\"{}\",\"pad\":\"{}\"}}", s.invitation_id, "x".repeat(70_000)))).await, 413, "payload too large");
    assert_error(&s.env.call("POST", "/onboards", None, Some(json!({ "invitation_id": s.invitation_id }))).await, 401, "authentication failed");
    assert_eq!(s.env.get("/onboards", &s.buyer).await.expect::<Vec<Onboard>>(200).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_create_one_onboard() {
    let s = setup().await;
    let env = Arc::new(s.env);
    let replies = all_at_once(&env, "POST", "/onboards", Some(&s.buyer.key), Some(json!({ "invitation_id": s.invitation_id }))).await;
    let statuses = statuses(&replies);
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 201 | 400)), "{statuses:?}");
    assert_eq!(env.get("/onboards", &s.buyer).await.expect::<Vec<Onboard>>(200).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_completions_update_once() {
    let s = setup().await;
    let created = create(&s, json!({ "invitation_id": s.invitation_id })).await;
    let path = format!("/onboards/{}", created.expect::<Onboard>(201).id);
    let env = Arc::new(s.env);
    let mut pipeline = env.pipeline().await;
    let replies = all_at_once(&env, "PUT", &path, Some(&s.buyer.key), Some(json!({ "invitation_id": s.invitation_id, "status": "completed" }))).await;
    let statuses = statuses(&replies);
    assert!(statuses.iter().all(|s| matches!(s, 200 | 409)), "{statuses:?}");
    let updated: Vec<&api_tests::Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert!(!updated.is_empty(), "{statuses:?}");
    assert_eq!(env.get(&path, &s.buyer).await.expect::<Onboard>(200).version, 2, "exactly one update landed: {statuses:?}");
    // One change into completed: one buyer setup queued, however many PUTs answered 200.
    let queued = pipeline.queued_setups(1).await;
    assert_eq!(queued.records.len(), 1);
}

/// The interleaving real concurrency produces only sometimes, forced: the second PUT read the
/// onboard before the first committed. Its version condition must refuse it (409, not a
/// second completion).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_put_that_read_before_another_committed_is_refused() {
    let s = setup().await;
    let created = create(&s, json!({ "invitation_id": s.invitation_id })).await;
    let path = format!("/onboards/{}", created.expect::<Onboard>(201).id);
    s.env.gate.arm("UpdateItem");
    let env = Arc::new(s.env);
    let body = json!({ "invitation_id": s.invitation_id, "status": "completed" });
    let (a, b) = race(&env, || ("PUT", path.clone(), Some(s.buyer.key.clone()), Some(body.clone()))).await;
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{:?} / {:?}", a.body, b.body);
    let loser = if a.status == 409 { &a } else { &b };
    assert!(assert_error(loser, 409, "conflict").starts_with("Onboard was not updated"));
    assert_eq!(env.get(&path, &s.buyer).await.expect::<Onboard>(200).version, 2, "exactly one update landed");
}

#[tokio::test]
async fn updates_that_move_or_misname_an_onboard_are_refused() {
    let s = setup().await;
    let stranger = s.env.account("stranger").await;
    let stranger_flow = flow(&s.env, &stranger).await;
    let created = create(&s, json!({ "invitation_id": s.invitation_id })).await;
    let path = format!("/onboards/{}", created.expect::<Onboard>(201).id);
    let put = |body: Value| {
        let (env, key, path) = (&s.env, s.buyer.key.clone(), path.clone());
        async move { env.call("PUT", &path, Some(&key), Some(body)).await }
    };
    let inv = s.invitation_id.as_str();
    let other = shared::Id::generate().to_string();
    // Identity fields naming another invitation, connection or account: the onboard does not move (409).
    for (body, fragment) in [
        (json!({ "invitation_id": other }), "invitation_id"),
        (json!({ "invitation_id": inv, "connection_id": other }), "connection_id"),
        (json!({ "invitation_id": inv, "account_id": stranger.id.to_string() }), "account_id"),
    ] {
        let reply = put(body.clone()).await;
        assert!(assert_error(&reply, 409, "conflict").contains(fragment), "{body}: {:?}", reply.body);
    }
    for (body, fragment) in [
        (json!({ "invitation_id": inv, "status": "done" }), "status"),
        (json!({ "invitation_id": inv, "status": 5 }), "status"),
        (json!({ "status": "in_progress" }), "invitation_id"),
        (json!({ "invitation_id": "xyz" }), "invitation_id"),
        (json!({ "invitation_id": inv, "flow_id": stranger_flow }), "flow"),
        (json!({ "invitation_id": inv, "colour": "red" }), "colour"),
    ] {
        let reply = put(body.clone()).await;
        assert!(assert_error(&reply, 400, "bad request").contains(fragment), "{body}: {:?}", reply.body);
    }
    let stale = s.env.request(infra::local_api::HttpRequest {
        method: "PUT".into(),
        uri: path.clone(),
        headers: vec![("authorization".into(), format!("Bearer {}", s.buyer.key)), ("if-match".into(), "\"7\"".into())],
        body: json!({ "invitation_id": inv, "status": "in_progress" }).to_string().into_bytes(),
    }).await;
    assert!(assert_error(&stale, 409, "conflict").contains("version"));
    let fresh = s.env.request(infra::local_api::HttpRequest {
        method: "PUT".into(),
        uri: path.clone(),
        headers: vec![("authorization".into(), format!("Bearer {}", s.buyer.key)), ("if-match".into(), "\"1\"".into())],
        body: json!({ "invitation_id": inv, "status": "completed_flows_sync" }).to_string().into_bytes(),
    }).await;
    assert_eq!(fresh.expect::<Onboard>(200).status, "completed_flows_sync");
    assert_eq!(s.env.get(&path, &s.buyer).await.expect::<Onboard>(200).version, 2, "refused updates changed nothing");

    // Other accounts and unknown or malformed ids.
    assert_error(&s.env.get(&path, &stranger).await, 404, "not found");
    assert_error(&s.env.call("PUT", &path, Some(&stranger.key), Some(json!({ "invitation_id": inv }))).await, 404, "not found");
    assert_error(&s.env.get(&path, &s.seller).await, 404, "not found");
    assert_error(&put(json!({ "invitation_id": inv })).await, 409, "conflict");
    let unknown = format!("/onboards/{other}");
    assert_error(&s.env.get(&unknown, &s.buyer).await, 404, "not found");
    assert_error(&s.env.call("PUT", &unknown, Some(&s.buyer.key), Some(json!({ "invitation_id": inv }))).await, 404, "not found");
    assert_error(&s.env.get("/onboards/not-an-id", &s.buyer).await, 400, "bad request");
    assert_error(&s.env.call("PUT", "/onboards/123", Some(&s.buyer.key), Some(json!({ "invitation_id": inv }))).await, 400, "bad request");
    assert_error(&s.env.call("GET", "/onboards", None, None).await, 401, "authentication failed");
    assert!(s.env.get("/onboards", &stranger).await.expect::<Vec<Onboard>>(200).is_empty());
}

#[tokio::test]
async fn the_buyer_onboarding_page_is_one_document_allowed_only_its_own_script() {
    let env = TestEnv::new().await;
    let page = env.request(api_tests::browser_get("/buyer-onboarding?invitation_id=64b8f0f5e4b0c3a1d5e6f7a9")).await;
    assert_eq!((page.status, page.headers["content-type"].as_str(), page.headers["cache-control"].as_str()), (200, "text/html; charset=utf-8", "no-store"));
    let csp = &page.headers["content-security-policy"];
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-") && csp.contains("connect-src 'self'") && !csp.contains("unsafe"), "{csp}");
    assert_eq!(api_tests::page_data(&page), serde_json::json!({ "person": null }), "signed out, the page holds no data: it asks the API, with the key");
    let html = page.body.as_str().unwrap();
    let icons = html.matches("<link rel=\"icon\" href=\"data:").count();
    assert!(!html.contains(" src=") && html.matches("<link").count() == icons, "nothing is loaded from elsewhere (the icon is inline)");
}
