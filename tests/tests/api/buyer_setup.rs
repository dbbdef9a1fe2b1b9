//! The buyer delivery setup (seed 000): the stream -> queue -> buyer-setup pipeline end to end,
//! redelivery, concurrency, crashes at every step, permanent failures, and POST /onboard/buyer.

use std::sync::Arc;

use api_tests::{concurrently, AuditEvent, Connection, Entity, Flow, InvitationSent, Mapping, Onboard, SetupDone, TestAccount, TestEnv, assert_error, connect};
use serde_json::{Value, json};
use shared::Id;
use shared::platform::accounts::Plan;
use shared::onboards::buyer_setup::{Crash, Mode};
use shared::onboards::domain::buyer_setup::SetupRequest;

struct World {
    env: TestEnv,
    seller: TestAccount,
    colleague: String,
    buyer: TestAccount,
    invitation_id: String,
    connection_id: String,
    seller_flows: Vec<String>,
}

/// A seller with two users and two flows delivering to the buyer through buyer steps.
async fn world(buyer_plan: Plan) -> World {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let colleague = format!("{}@example.com", api_tests::unique("colleague"));
    env.db.accounts().add_user(&seller.id, colleague.clone(), "Colleague".into()).await.unwrap();
    let buyer = env.account_with_plan("buyer", buyer_plan).await;
    let (invitation_id, connection_id) = connect(&env, &seller, &buyer).await;
    let entity = env.get("/entities", &seller).await.expect::<Vec<Entity>>(200).remove(0).id;
    let mut seller_flows = vec![];
    for name in ["Auto leads", "Home leads"] {
        let step = json!({ "type": "recipient", "entity": { "id": entity }, "integration": { "module_id": "leadconduit.buyer", "mappings": [{ "property": "flow_id", "value": "stale" }] } });
        // A flow delivers to each buyer once (a second step to it is refused).
        let steps = if name == "Auto leads" { json!([{ "type": "filter" }, step]) } else { json!([step, { "type": "filter" }]) };
        let flow = json!({ "name": name, "enabled": true, "steps": steps });
        seller_flows.push(env.call("POST", "/flows", Some(&seller.key), Some(flow)).await.expect::<Flow>(201).id);
    }
    World { env, seller, colleague, buyer, invitation_id, connection_id, seller_flows }
}

impl World {
    async fn onboard(&self, flow_id: Option<&str>) -> String {
        let mut body = json!({ "invitation_id": self.invitation_id });
        if let Some(flow) = flow_id {
            body["flow_id"] = json!(flow);
        }
        self.env.call("POST", "/onboards", Some(&self.buyer.key), Some(body)).await.expect::<Onboard>(201).id
    }

    async fn put_onboard(&self, id: &str, status: &str) -> Onboard {
        self.env.call("PUT", &format!("/onboards/{id}"), Some(&self.buyer.key), Some(json!({ "invitation_id": self.invitation_id, "status": status }))).await.expect(200)
    }

    async fn seen_onboard(&self, id: &str) -> Onboard {
        self.env.get(&format!("/onboards/{id}"), &self.buyer).await.expect(200)
    }

    async fn connection(&self, side: &TestAccount) -> Connection {
        self.env.get(&format!("/connections/{}", self.connection_id), side).await.expect(200)
    }

    fn request(&self, onboard: Option<&str>) -> SetupRequest {
        SetupRequest {
            account_id: self.buyer.id.clone(),
            connection_id: Id::parse(&self.connection_id).unwrap(),
            flow_id: None,
            onboard_id: onboard.map(|o| Id::parse(o).unwrap()),
            actor: "system".into(),
        }
    }

    /// Everything a completed setup leaves, checked for "exactly once".
    async fn assert_set_up_once(&self, redirect: &str) {
        let buyer_flow_id = redirect.strip_prefix("/flows/").unwrap();
        let buyer_flows: Vec<Flow> = self.env.get("/flows", &self.buyer).await.expect(200);
        assert_eq!(buyer_flows.len(), 1, "one buyer flow: {buyer_flows:?}");
        let buyer_flow = &buyer_flows[0];
        assert_eq!(buyer_flow.id, buyer_flow_id);
        assert_eq!(buyer_flow.sources.len(), 1);
        assert_eq!(buyer_flow.sources[0].entity.name, self.seller.name, "the seller is its source");
        assert!(buyer_flow.sources[0].active);
        for flow in &self.seller_flows {
            let seller_flow: Flow = self.env.get(&format!("/flows/{flow}"), &self.seller).await.expect(200);
            let buyer_steps: Vec<_> = seller_flow.steps.iter().filter(|s| s.kind == "recipient").collect();
            assert!(!buyer_steps.is_empty());
            for step in buyer_steps {
                let mappings = &step.integration.as_ref().unwrap().mappings;
                assert_eq!(mappings, &[Mapping { property: "flow_id".into(), value: buyer_flow_id.into() }], "{flow}: one mapping to the buyer flow");
            }
        }
        for account in [&self.seller, &self.buyer] {
            let connection = self.connection(account).await;
            assert!(connection.buyer_delivery_configured);
            assert_eq!(connection.buyer_flow_id.as_deref(), Some(buyer_flow_id));
            assert!(connection.buyer_delivery_configured_at.is_some());
        }
        for address in [&self.seller.email, &self.colleague] {
            let emails = self.env.emails_to(address).await;
            let setups: Vec<&Value> = emails.iter().filter(|e| e["subject"].as_str().unwrap().contains("set up to receive your leads")).collect();
            assert_eq!(setups.len(), 1, "one email to {address}");
            let body = setups[0]["body"].as_str().unwrap();
            assert!(body.contains("buyer Inc") && body.contains("Auto leads") && body.contains("Home leads"), "{body}");
        }
        assert!(self.env.emails_to(&self.buyer.email).await.iter().all(|e| !e["subject"].as_str().unwrap().contains("set up")));
    }
}

#[tokio::test]
async fn completing_an_onboard_runs_the_setup_through_stream_and_queue() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    w.put_onboard(&onboard, "in_progress").await;
    let completed = w.put_onboard(&onboard, "completed").await;
    assert_eq!(completed.setup_status.as_deref(), Some("pending"));

    let messages = pipeline.queued_setups(1).await;
    assert_eq!(messages.records.len(), 1, "only the change into completed is queued");
    let response = pipeline.deliver(&messages).await;
    assert!(response.batch_item_failures.is_empty());

    let seen = w.seen_onboard(&onboard).await;
    assert_eq!((seen.status.as_str(), seen.setup_status.as_deref()), ("completed", Some("succeeded")));
    let redirect = seen.redirect.unwrap();
    assert!(redirect.starts_with("/flows/"));
    w.assert_set_up_once(&redirect).await;
    // The onboard update the setup made is not a new completion.
    let changes = pipeline.stream.poll().await.unwrap();
    assert!(changes.records.iter().all(|r| shared::store::stream::completion(r).is_none()));
    let audit: Vec<AuditEvent> = w.env.get("/audit", &w.seller).await.expect(200);
    assert_eq!(audit[0].event, "connection.buyer_delivery_configured");
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing_more() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    w.put_onboard(&onboard, "completed").await;
    let messages = pipeline.queued_setups(1).await;
    assert!(pipeline.deliver(&messages).await.batch_item_failures.is_empty());
    assert!(pipeline.deliver(&messages).await.batch_item_failures.is_empty(), "the second delivery succeeds too");
    let redirect = w.seen_onboard(&onboard).await.redirect.unwrap();
    w.assert_set_up_once(&redirect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_setups_of_one_connection_set_it_up_once() {
    let w = Arc::new(world(Plan::Free).await);
    let pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    w.put_onboard(&onboard, "completed").await;
    let setup = pipeline.setup;
    let results = concurrently(|_| {
        let request = w.request(Some(&onboard));
        async move { setup.run(&request, Mode::Async).await }
    })
    .await;
    let done: Vec<_> = results.into_iter().map(|r| r.expect("every run succeeds or finds it done")).collect();
    assert!(done.iter().all(|d| *d == done[0]), "all report the one setup: {done:?}");
    w.assert_set_up_once(&done[0].redirect).await;
}

/// SQS delivers at least once: the same message reaching several buyer-setup invocations at
/// once sets the connection up once, and every invocation reports success.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_message_delivered_to_concurrent_invocations_sets_up_once() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    w.put_onboard(&onboard, "completed").await;
    let messages = pipeline.queued_setups(1).await;
    let setup = pipeline.setup;
    let responses = concurrently(|_| functions::onboards::buyer_setup::consume_queue(setup, messages.clone())).await;
    for response in responses {
        assert!(response.expect("buyer-setup").batch_item_failures.is_empty());
    }
    let redirect = w.seen_onboard(&onboard).await.redirect.unwrap();
    w.assert_set_up_once(&redirect).await;
}

#[tokio::test]
async fn a_crash_at_any_step_is_finished_by_the_retry_without_duplicates() {
    for crash in [Crash::BeforeCommit, Crash::AfterCommit, Crash::AfterEmail] {
        let w = world(Plan::Free).await;
        let pipeline = w.env.pipeline().await;
        let onboard = w.onboard(None).await;
        w.put_onboard(&onboard, "completed").await;
        let request = w.request(Some(&onboard));
        let crashed = pipeline.setup.run_until(&request, Mode::Async, Some(crash)).await;
        assert!(crashed.is_err(), "{crash:?}");
        assert!(matches!(crashed, Err(shared::onboards::buyer_setup::SetupError::Interrupted(_))), "a crash is retried");
        let done = pipeline.setup.run(&request, Mode::Async).await.unwrap();
        let seen = w.seen_onboard(&onboard).await;
        assert_eq!(seen.setup_status.as_deref(), Some("succeeded"), "{crash:?}");
        assert_eq!(seen.redirect, Some(done.redirect.clone()));
        w.assert_set_up_once(&done.redirect).await;
    }
}

#[tokio::test]
async fn permanent_failures_mark_the_onboard_failed_and_are_not_retried() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    w.env.call("DELETE", &format!("/connections/{}", w.connection_id), Some(&w.seller.key), None).await.expect::<Connection>(200);
    w.put_onboard(&onboard, "completed").await;
    let messages = pipeline.queued_setups(1).await;
    let response = pipeline.deliver(&messages).await;
    assert!(response.batch_item_failures.is_empty(), "not retried: it cannot succeed");
    let seen = w.seen_onboard(&onboard).await;
    assert_eq!((seen.status.as_str(), seen.setup_status.as_deref()), ("failed", Some("failed")));
    assert!(seen.setup_error.unwrap().contains("revoked"));
    assert!(pipeline.reader.receive(0).await.unwrap().records.is_empty(), "the message was deleted");
    assert!(!w.connection(&w.buyer).await.buyer_delivery_configured);
}

#[tokio::test]
async fn a_free_buyer_naming_a_flow_fails_clearly_and_a_paid_one_routes_there() {
    let free = world(Plan::Free).await;
    let mut pipeline = free.env.pipeline().await;
    let flow = free.env.call("POST", "/flows", Some(&free.buyer.key), Some(json!({ "name": "Mine", "enabled": true }))).await.expect::<Flow>(201).id;
    let onboard = free.onboard(Some(&flow)).await;
    free.put_onboard(&onboard, "completed").await;
    let messages = pipeline.queued_setups(1).await;
    pipeline.deliver(&messages).await;
    let seen = free.seen_onboard(&onboard).await;
    assert_eq!(seen.status, "failed");
    assert!(seen.setup_error.unwrap().contains("paid"));
    let sync = free.env.call("POST", "/onboard/buyer", Some(&free.buyer.key), Some(json!({ "connection_id": free.connection_id, "flow_id": flow }))).await;
    assert!(assert_error(&sync, 400, "bad request").contains("paid"));

    let paid = world(Plan::Paid).await;
    let flow = paid.env.call("POST", "/flows", Some(&paid.buyer.key), Some(json!({ "name": "Mine", "enabled": true }))).await.expect::<Flow>(201).id;
    let reply: SetupDone = paid.env.call("POST", "/onboard/buyer", Some(&paid.buyer.key), Some(json!({ "invitation_id": paid.invitation_id, "flow_id": flow }))).await.expect(200);
    assert_eq!(reply.flow_id(), flow);
    paid.assert_set_up_once(&format!("/flows/{flow}")).await;
}

#[tokio::test]
async fn post_onboard_buyer_answers_every_status_of_the_seed() {
    let w = world(Plan::Free).await;
    let stranger = w.env.account("stranger").await;
    let post = |body: Value, key: Option<String>| {
        let env = &w.env;
        async move { env.call("POST", "/onboard/buyer", key.as_deref(), Some(body)).await }
    };
    let key = Some(w.buyer.key.clone());
    assert!(assert_error(&post(json!({}), key.clone()).await, 422, "validation failed").contains("connection_id"));
    let pending = w.env.call("POST", "/invitations/source", Some(&w.buyer.key), Some(json!({ "email": format!("{}@example.com", api_tests::unique("later")) }))).await;
    let pending = json!({ "invitation_id": pending.expect::<InvitationSent>(201).invitation.id });
    assert!(assert_error(&post(pending, key.clone()).await, 409, "conflict").contains("not been accepted"), "the account's state, not the request, is in the way");
    assert_error(&post(json!({ "connection_id": 5 }), key.clone()).await, 422, "validation failed");
    let other = Id::generate().to_string();
    assert!(assert_error(&post(json!({ "connection_id": other, "invitation_id": w.invitation_id }), key.clone()).await, 400, "bad request").contains("different"));
    assert_error(&post(json!({ "connection_id": other }), key.clone()).await, 404, "not found");
    assert_error(&post(json!({ "invitation_id": other }), key.clone()).await, 404, "not found");
    assert_error(&post(json!({ "connection_id": w.connection_id }), Some(stranger.key.clone())).await, 404, "not found");
    assert!(assert_error(&post(json!({ "connection_id": w.connection_id }), Some(w.seller.key.clone())).await, 403, "forbidden").contains("not the buyer"));
    assert_error(&post(json!({ "connection_id": w.connection_id }), None).await, 401, "authentication failed");
    assert_error(&post(json!({ "connection_id": w.connection_id, "flow_id": other }), key.clone()).await, 400, "bad request");

    let done: SetupDone = post(json!({ "connection_id": w.connection_id, "invitation_id": w.invitation_id }), key.clone()).await.expect(200);
    w.assert_set_up_once(&done.redirect).await;
    let again = post(json!({ "invitation_id": w.invitation_id }), key.clone()).await;
    assert!(assert_error(&again, 400, "bad request").contains("already set up"));
}

/// No cliff in the number of seller flows: each is patched on its own (no transaction holds
/// them all), so a seller whose 120 flows deliver to the buyer is set up like one with two.
#[tokio::test]
async fn a_setup_maps_every_seller_flow_however_many() {
    let w = world(Plan::Free).await;
    let entity = w.env.get("/entities", &w.seller).await.expect::<Vec<Entity>>(200).remove(0).id;
    let mut flows = w.seller_flows.clone();
    for i in 0..118 {
        let body: shared::onboards::domain::flow::FlowBody = serde_json::from_value(json!({ "name": format!("Bulk {i}"), "enabled": true, "steps": [{ "type": "recipient", "entity": { "id": entity } }] })).unwrap();
        flows.push(w.env.db.onboards().create_flow(&w.seller.id, body).await.unwrap().0.id.to_string());
    }
    let done: SetupDone = w.env.call("POST", "/onboard/buyer", Some(&w.buyer.key), Some(json!({ "connection_id": w.connection_id }))).await.expect(200);
    // Read through the store: 120 reads over the API would pass the key's rate limit.
    for flow in &flows {
        let seller_flow = w.env.db.onboards().flow(&w.seller.id, &Id::parse(flow).unwrap()).await.unwrap().expect("the flow");
        let step = seller_flow.steps.iter().find(|s| s.entity.is_some()).unwrap();
        let mappings: Vec<(&str, &str)> = step.integration.as_ref().unwrap().mappings.iter().map(|m| (m.property.as_str(), m.value.as_str())).collect();
        assert_eq!(mappings, [("flow_id", done.flow_id())], "{flow}");
    }
    assert!(w.connection(&w.buyer).await.buyer_delivery_configured);
}

/// Thirty buyers completing onboarding onto one seller flow at once (a launch day): every setup
/// finishes in its own run — none waits out a queue's visibility timeout — and each buyer's step
/// of the one flow maps to that buyer's flow, none lost to another's write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn buyers_onboarding_onto_one_seller_flow_at_once_are_all_set_up_in_one_run() {
    const BUYERS: usize = 30;
    let env = Arc::new(TestEnv::new().await);
    let seller = env.account("launch").await;
    let mut buyers = vec![];
    for i in 0..BUYERS {
        let buyer = env.account(&format!("buyer{i}")).await;
        let (_, connection) = connect(&env, &seller, &buyer).await;
        buyers.push((buyer, connection));
    }
    let entities: Vec<Entity> = env.get("/entities?limit=100", &seller).await.expect(200);
    let steps: Vec<Value> = entities.iter().map(|e| json!({ "type": "recipient", "entity": { "id": e.id } })).collect();
    let flow: Flow = env.call("POST", "/flows", Some(&seller.key), Some(json!({ "name": "Launch", "enabled": true, "steps": steps }))).await.expect(201);
    let pipeline = env.pipeline().await;
    let setup = pipeline.setup;
    let requests: Vec<SetupRequest> = buyers
        .iter()
        .map(|(buyer, connection)| SetupRequest { account_id: buyer.id.clone(), connection_id: Id::parse(connection).unwrap(), flow_id: None, onboard_id: None, actor: "system".into() })
        .collect();
    let requests = Arc::new(requests);
    let results = api_tests::concurrently_n(BUYERS, |i| {
        let requests = requests.clone();
        async move { setup.run(&requests[i], Mode::Async).await }
    })
    .await;
    let done: Vec<_> = results.into_iter().map(|r| r.expect("every setup finishes in its run")).collect();
    let seller_flow: Flow = env.get(&format!("/flows/{}", flow.id), &seller).await.expect(200);
    for (i, (buyer, _)) in buyers.iter().enumerate() {
        let entity = entities.iter().find(|e| e.connected_account_id.as_deref() == Some(buyer.id.to_string().as_str())).unwrap();
        let step = seller_flow.steps.iter().find(|s| s.entity.as_ref().is_some_and(|e| e.id == entity.id)).unwrap();
        assert_eq!(step.integration.as_ref().unwrap().mappings, [Mapping { property: "flow_id".into(), value: done[i].buyer_flow_id.to_string() }], "buyer {i}");
    }
    assert_eq!(seller_flow.version, 1 + BUYERS as u64, "one patch per buyer, none lost");
}

#[tokio::test]
async fn a_sync_setup_that_died_after_committing_is_finished_by_the_next_call() {
    let w = world(Plan::Free).await;
    let pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    let request = SetupRequest { onboard_id: Some(Id::parse(&onboard).unwrap()), actor: w.buyer.email.clone(), ..w.request(None) };
    assert!(pipeline.setup.run_until(&request, Mode::Sync, Some(Crash::AfterCommit)).await.is_err());
    assert!(w.env.emails_to(&w.seller.email).await.iter().all(|e| !e["subject"].as_str().unwrap().contains("set up")), "no email yet");
    let again = w.env.call("POST", "/onboard/buyer", Some(&w.buyer.key), Some(json!({ "invitation_id": w.invitation_id }))).await;
    assert!(assert_error(&again, 400, "bad request").contains("already set up"));
    let seen = w.seen_onboard(&onboard).await;
    assert_eq!(seen.setup_status.as_deref(), Some("succeeded"));
    w.assert_set_up_once(&seen.redirect.unwrap()).await;
}

/// What `infra/admin stuck-onboards` lists: completed onboards whose setup has not succeeded, across
/// accounts, through the sparse index; and `rerun-setup`.
#[tokio::test]
async fn an_unfinished_setup_is_listed_until_it_succeeds_and_an_operator_can_run_it_again() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let (account, onboard) = (w.buyer.id.clone(), w.onboard(None).await);
    let listed = |before: &'static str| {
        let db = w.env.db.clone();
        async move { db.onboards().unfinished_setups(before).await.unwrap().into_iter().map(|o| o.id.to_string()).collect::<Vec<_>>() }
    };
    w.put_onboard(&onboard, "in_progress").await;
    assert!(listed("9999").await.is_empty(), "not completed: not listed");
    w.put_onboard(&onboard, "completed").await;
    assert_eq!(listed("9999").await, [onboard.clone()]);
    assert!(listed("2000-01-01T00:00:00Z").await.is_empty(), "completed after that time");

    // Pending: the operator's re-run queues its request again, beside the stream's.
    let id = shared::Id::parse(&onboard).unwrap();
    let (_, by_stream) = w.env.db.onboards().restart_setup(&account, &id).await.unwrap();
    assert!(!by_stream, "a pending setup is not completed again: its request is queued by the operator");
    let messages = pipeline.queued_setups(1).await;
    assert!(pipeline.deliver(&messages).await.batch_item_failures.is_empty());
    assert!(listed("9999").await.is_empty(), "succeeded: no longer listed");
    let again = w.env.db.onboards().restart_setup(&account, &id).await.unwrap_err();
    assert!(again.details().contains("already succeeded"), "{again:?}");
}

#[tokio::test]
async fn a_failed_setup_stays_listed_and_a_rerun_completes_the_onboard_again() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let onboard = w.onboard(None).await;
    w.env.call("DELETE", &format!("/connections/{}", w.connection_id), Some(&w.seller.key), None).await.expect::<Connection>(200);
    w.put_onboard(&onboard, "completed").await;
    let messages = pipeline.queued_setups(1).await;
    pipeline.deliver(&messages).await;
    let stuck = w.env.db.onboards().unfinished_setups("9999").await.unwrap();
    assert_eq!((stuck.len(), stuck[0].status.as_str(), stuck[0].setup_status.map(|s| s.as_str())), (1, "failed", Some("failed")));

    // The buyer going back to work (in_progress) takes it off the list; completing puts it back.
    w.put_onboard(&onboard, "in_progress").await;
    assert!(w.env.db.onboards().unfinished_setups("9999").await.unwrap().is_empty());
    w.put_onboard(&onboard, "completed").await;
    let messages = pipeline.queued_setups(1).await;
    pipeline.deliver(&messages).await;
    assert_eq!(w.env.db.onboards().unfinished_setups("9999").await.unwrap().len(), 1);

    let id = shared::Id::parse(&onboard).unwrap();
    let (restarted, by_stream) = w.env.db.onboards().restart_setup(&w.buyer.id, &id).await.unwrap();
    assert!(by_stream);
    assert_eq!((restarted.status.as_str(), restarted.setup_status.map(|s| s.as_str()), restarted.setup_error), ("completed", Some("pending"), None));
    assert_eq!(pipeline.queued_setups(1).await.records.len(), 1, "the stream queues the completed-again onboard");
    assert_eq!(w.env.db.onboards().unfinished_setups("9999").await.unwrap().len(), 1);
}
