//! Leads through connections (seed 002): a connected source submits to the seller's flow with its
//! own key, the seller's buyer step delivers the lead into the buyer's flow through the stream →
//! queue → lead-deliver pipeline, once, and both sides see the delivery figures. Refusals,
//! acceptance criteria, revocation and the submission documents.

use std::collections::BTreeMap;
use std::sync::Arc;

use api_tests::{Accepted, Connection, Entity, Fault, Flow, InvitationSent, Lead, LeadOrigin, SetupDone, SubmissionDocs, SubmissionResult, TestAccount, TestEnv, assert_error, concurrently, connect};
use serde_json::{Value, json};
use shared::platform::accounts::Plan;

pub(crate) struct World {
    pub(crate) env: TestEnv,
    pub(crate) seller: TestAccount,
    pub(crate) buyer: TestAccount,
    /// Sends leads to the seller (invited as a source).
    pub(crate) vendor: TestAccount,
    pub(crate) connection_id: String,
    pub(crate) vendor_connection_id: String,
    pub(crate) seller_flow: String,
    /// The seller flow's source standing for the vendor.
    pub(crate) source: String,
    pub(crate) buyer_flow: String,
}

/// The seller's entity for `partner`.
pub(crate) async fn entity_for(env: &TestEnv, owner: &TestAccount, partner: &TestAccount) -> String {
    let entities: Vec<Entity> = env.get("/entities", owner).await.expect(200);
    let entity = entities.iter().find(|e| e.connected_account_id == Some(partner.id.to_string()));
    entity.unwrap_or_else(|| panic!("no entity for {} in {entities:?}", partner.name)).id.clone()
}

/// Seller connected to a vendor (source) and a buyer; the seller's flow takes the vendor's leads
/// and has a buyer step to the buyer, whose delivery the buyer set up.
pub(crate) async fn world(buyer_plan: Plan) -> World {
    let env = TestEnv::new().await;
    let seller = env.account_with_plan("seller", Plan::Paid).await;
    let buyer = env.account_with_plan("buyer", buyer_plan).await;
    let vendor = env.account("vendor").await;
    let (_, connection_id) = connect(&env, &seller, &buyer).await;
    let invited: InvitationSent = env.call("POST", "/invitations/source", Some(&seller.key), Some(json!({ "email": vendor.email }))).await.expect(201);
    let accepted: Accepted = env.call("POST", &format!("/invitations/{}/accept", invited.invitation.id), Some(&vendor.key), None).await.expect(200);
    let vendor_connection_id = accepted.connection.id;
    let (buyer_entity, vendor_entity) = (entity_for(&env, &seller, &buyer).await, entity_for(&env, &seller, &vendor).await);
    let flow = json!({
        "name": "Auto leads", "enabled": true, "fields": ["email", "phone_1", "state"],
        "sources": [{ "entity": { "id": vendor_entity } }],
        "steps": [{ "type": "recipient", "entity": { "id": buyer_entity }, "integration": { "module_id": "leadconduit.buyer" } }],
    });
    let created: Flow = env.call("POST", "/flows", Some(&seller.key), Some(flow)).await.expect(201);
    let (seller_flow, source) = (created.id, created.sources[0].id.clone());
    let setup: SetupDone = env.call("POST", "/onboard/buyer", Some(&buyer.key), Some(json!({ "connection_id": connection_id }))).await.expect(200);
    let buyer_flow = setup.flow_id().to_string();
    World { env, seller, buyer, vendor, connection_id, vendor_connection_id, seller_flow, source, buyer_flow }
}

impl World {
    fn submit_uri(&self) -> String {
        format!("/flows/{}/sources/{}/submit", self.seller_flow, self.source)
    }

    async fn submit(&self, as_account: &TestAccount, lead: Value) -> api_tests::Reply {
        self.env.call("POST", &self.submit_uri(), Some(&as_account.key), Some(lead)).await
    }

    /// Submits as `as_account` and expects the flow's answer (200).
    pub(crate) async fn submitted(&self, as_account: &TestAccount, lead: Value) -> SubmissionResult {
        self.submit(as_account, lead).await.expect(200)
    }

    async fn lead(&self, owner: &TestAccount, id: &str) -> Lead {
        self.env.get(&format!("/leads/{id}"), owner).await.expect(200)
    }

    async fn connection(&self, side: &TestAccount) -> Connection {
        self.env.get(&format!("/connections/{}", self.connection_id), side).await.expect(200)
    }

    async fn leads_of(&self, flow: &str, owner: &TestAccount) -> Vec<Lead> {
        self.env.get(&format!("/flows/{flow}/leads"), owner).await.expect(200)
    }

    async fn buyer_leads(&self) -> Vec<Lead> {
        self.leads_of(&self.buyer_flow, &self.buyer).await
    }
}

#[tokio::test]
async fn a_connected_sources_lead_reaches_the_buyers_flow_once() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let submitted = w.submitted(&w.vendor, json!({ "email": "jane@example.com", "phone_1": "5125551234", "ssn": "not kept" })).await;
    assert_eq!((submitted.outcome.as_str(), submitted.reason), ("success", None));
    let lead_id = submitted.lead.id;

    let pending = w.lead(&w.seller, &lead_id).await;
    assert_eq!((pending.submitted_by, pending.steps[0].outcome.as_str()), (w.vendor.id.to_string(), "pending"));
    assert_eq!(pending.fields, fields(&[("email", "jane@example.com"), ("phone_1", "5125551234")]), "only the flow's fields are kept");
    assert_eq!(pending.steps[0].buyer_flow_id.as_ref(), Some(&w.buyer_flow));

    let messages = pipeline.queued_leads(1).await;
    assert_eq!(messages.records.len(), 1);
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());

    let delivered = w.lead(&w.seller, &lead_id).await;
    let step = &delivered.steps[0];
    assert_eq!((step.outcome.as_str(), step.reason.as_deref()), ("success", None));
    let buyer_leads = w.buyer_leads().await;
    assert_eq!(buyer_leads.len(), 1, "{buyer_leads:?}");
    let received = &buyer_leads[0];
    assert_eq!(Some(&received.id), step.delivered_lead_id.as_ref());
    assert_eq!(received.source.entity.name, w.seller.name, "the seller is its source");
    assert_eq!((received.submitted_by.as_str(), received.hops), (w.seller.id.to_string().as_str(), 1));
    assert_eq!(received.origin, Some(LeadOrigin { account_id: w.seller.id.to_string(), connection_id: w.connection_id.clone() }));
    assert_eq!(received.fields, delivered.fields);
    assert_eq!(w.lead(&w.buyer, &received.id).await.outcome, "success");
    // The figures are counted from the stream, off the delivery's path: not yet.
    assert_eq!(w.connection(&w.seller).await.leads_delivered, 0, "the delivery itself writes no shared figures");
    pipeline.count_figures(1).await;
    for side in [&w.seller, &w.buyer] {
        let connection = w.connection(side).await;
        assert_eq!((connection.leads_delivered, connection.leads_rejected, connection.leads_failed), (1, 0, 0), "{connection:?}");
        assert_eq!(connection.last_delivery_at, step.at, "the counted step's time");
    }

    // The queue redelivers: nothing more happens.
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    assert_eq!(w.buyer_leads().await.len(), 1);
    assert_eq!(w.connection(&w.seller).await.leads_delivered, 1);
    // The buyer's lead has no buyer step to deliver: no further message.
    assert!(pipeline.lead_reader.receive(0).await.unwrap().records.is_empty());
    // The source learns its submission's outcome, nothing more.
    assert_error(&w.env.get(&format!("/leads/{lead_id}"), &w.vendor).await, 404, "not found");
    assert_error(&w.env.get(&format!("/flows/{}/leads", w.seller_flow), &w.vendor).await, 404, "not found");
    assert_eq!(w.leads_of(&w.seller_flow, &w.seller).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_of_one_lead_deliver_it_once() {
    let w = Arc::new(world(Plan::Free).await);
    let mut pipeline = w.env.pipeline().await;
    w.submitted(&w.vendor, json!({ "email": "race@example.com" })).await;
    let messages = pipeline.queued_leads(1).await;
    let message: shared::leads::domain::lead::LeadMessage = serde_json::from_str(messages.records[0].body.as_deref().unwrap()).unwrap();
    let leads = pipeline.leads;
    let results = concurrently(|_| {
        let message = message.clone();
        async move { leads.deliver(&message).await }
    })
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(w.buyer_leads().await.len(), 1);
    pipeline.count_figures(1).await;
    assert_eq!(w.connection(&w.buyer).await.leads_delivered, 1);
}

/// The stream delivers at least once: a batch of settled steps counted twice (a retried batch, a
/// bisected one) counts each step once.
#[tokio::test]
async fn figures_count_each_settled_step_once_however_often_the_stream_delivers_it() {
    use shared::leads::domain::delivery::Figure;
    use shared::leads::domain::figures::FigureEvent;
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let lead = w.submitted(&w.vendor, json!({ "email": "twice@example.com" })).await.lead.id;
    let messages = pipeline.queued_leads(1).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    pipeline.count_figures(1).await;
    let step = w.lead(&w.seller, &lead).await.steps.remove(0);
    let event = FigureEvent {
        seller: w.seller.id.clone(),
        connection_id: shared::Id::parse(&w.connection_id).unwrap(),
        figure: Figure::Delivered,
        at: shared::platform::time::Timestamp::parse(step.at.as_deref().unwrap()).expect("a timestamp"),
        lead_id: shared::Id::parse(&lead).unwrap(),
        step_id: shared::Id::parse(&step.step_id).unwrap(),
    };
    // The same step again, and again with a step not counted yet (a batch that overlaps).
    w.env.db.partners().count_figures(std::slice::from_ref(&event)).await.unwrap();
    let fresh = FigureEvent { step_id: shared::Id::generate(), figure: Figure::Failed, ..event.clone() };
    w.env.db.partners().count_figures(&[event.clone(), fresh]).await.unwrap();
    for side in [&w.seller, &w.buyer] {
        let connection = w.connection(side).await;
        assert_eq!((connection.leads_delivered, connection.leads_failed), (1, 1), "each step once: {connection:?}");
    }
}

/// DynamoDB Local never cancels a transaction for a conflict or throttling: injected at the SDK.
/// The settle meets two conflicts and a throttle, backs off and settles once; each is counted.
#[tokio::test]
async fn a_delivery_that_meets_contention_backs_off_and_settles_once() {
    use shared::platform::metrics::{Metric, total};
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    w.submitted(&w.vendor, json!({ "email": "busy@example.com" })).await;
    let messages = pipeline.queued_leads(1).await;
    let before = total(Metric::TableContention);
    for fault in [Fault::TransactionConflict, Fault::TransactionConflict, Fault::Throttled] {
        w.env.faults.plan(fault, "TransactWriteItems", "LEAD#");
    }
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    assert_eq!(w.env.faults.clear(), 0, "all three were met");
    assert!(total(Metric::TableContention) >= before + 3, "each contention is counted");
    assert_eq!(w.buyer_leads().await.len(), 1);
    pipeline.count_figures(1).await;
    assert_eq!(w.connection(&w.seller).await.leads_delivered, 1);
}

/// The submission's transaction (the lead with its Idempotency-Key's record) meets a conflict and
/// a throttle: retried inside the request, it stores the lead once, and the key replays it.
#[tokio::test]
async fn a_submission_that_meets_contention_is_stored_once_and_replayed() {
    let w = world(Plan::Free).await;
    for fault in [Fault::TransactionConflict, Fault::Throttled] {
        w.env.faults.plan(fault, "TransactWriteItems", "LEAD#");
    }
    let auth = format!("Bearer {}", w.vendor.key);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json"), ("idempotency-key", "busy-1")];
    let first: SubmissionResult = w.env.post_raw(&w.submit_uri(), &headers, br#"{"email":"busy@example.com"}"#).await.expect(200);
    assert_eq!(w.env.faults.clear(), 0, "both were met");
    let again = w.env.post_raw(&w.submit_uri(), &headers, br#"{"email":"busy@example.com"}"#).await;
    assert_eq!(again.headers.get("idempotent-replayed").map(String::as_str), Some("true"));
    assert_eq!(again.expect::<SubmissionResult>(200).lead, first.lead);
    assert_eq!(w.leads_of(&w.seller_flow, &w.seller).await.len(), 1);
}

/// A settle the table keeps cancelling gives up after its attempts: the message is retried by
/// the queue (not settled as "someone else did it"), nothing half-done stays, and the next
/// delivery settles it once.
#[tokio::test]
async fn a_delivery_the_table_keeps_refusing_is_left_to_the_queue_and_done_once_later() {
    use shared::platform::metrics::{Metric, total};
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let lead = w.submitted(&w.vendor, json!({ "email": "refused@example.com" })).await.lead.id;
    let messages = pipeline.queued_leads(1).await;
    let before = total(Metric::TableBusyFailures);
    for _ in 0..shared::store::BUSY_ATTEMPTS {
        w.env.faults.plan(Fault::TransactionConflict, "TransactWriteItems", "LEAD#");
    }
    assert_eq!(pipeline.deliver_leads(&messages).await.batch_item_failures.len(), 1, "left to the queue");
    assert!(total(Metric::TableBusyFailures) > before, "the give-up is counted");
    assert_eq!(w.lead(&w.seller, &lead).await.steps[0].outcome, "pending", "nothing half-done");
    assert!(w.buyer_leads().await.is_empty());
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    assert_eq!(w.lead(&w.seller, &lead).await.steps[0].outcome, "success");
    assert_eq!(w.buyer_leads().await.len(), 1);
}

/// A flow's leads sit in 32 partitions (by the id's random last byte), so that one flow's burst
/// is not one partition's; the list still pages exactly, newest first, with no extra empty page
/// when the count is a multiple of the limit.
#[tokio::test]
async fn a_flows_leads_are_spread_over_partitions_and_page_exactly() {
    let w = world(Plan::Free).await;
    let mut ids = vec![];
    for n in 0..12 {
        ids.push(w.submitted(&w.vendor, json!({ "email": format!("p{n}@example.com") })).await.lead.id);
    }
    ids.reverse();
    let (mut listed, mut pages, mut cursor) = (vec![], 0, None::<String>);
    loop {
        let uri = format!("/flows/{}/leads?limit=4{}", w.seller_flow, cursor.map(|c| format!("&cursor={c}")).unwrap_or_default());
        let reply = w.env.get(&uri, &w.seller).await;
        let page: Vec<Lead> = reply.expect(200);
        assert!(!page.is_empty(), "page {pages} is empty");
        pages += 1;
        listed.extend(page.into_iter().map(|l| l.id));
        cursor = reply.headers.get("x-next-cursor").cloned();
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!((pages, &listed), (3, &ids), "every lead once, newest first, in three pages of four");
    let mut partitions = std::collections::BTreeSet::new();
    for id in &ids {
        let pk = format!("LEADS#{}#{}#{}", w.seller.id, w.seller_flow, u32::from_str_radix(&id[22..], 16).unwrap() % 32);
        assert!(w.env.stored_item(&pk, &format!("LEAD#{id}")).await.is_some(), "{id} in its shard");
        partitions.insert(pk);
    }
    assert!(partitions.len() > 1, "twelve leads in {} partition(s)", partitions.len());
    let stranger = w.env.account("stranger").await;
    assert_error(&w.env.get(&format!("/flows/{}/leads?limit=4", w.seller_flow), &stranger).await, 404, "not found");
}

/// What `infra/admin stuck-leads` lists: leads with a buyer step still pending, across accounts,
/// from a sparse index (the lead leaves it when its last pending step settles).
#[tokio::test]
async fn a_lead_with_a_pending_step_is_listed_until_its_last_step_settles() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let lead = w.submitted(&w.vendor, json!({ "email": "stuck@example.com" })).await.lead.id;
    let later = shared::platform::time::from_now(std::time::Duration::from_secs(60));
    let pending = |before: String| {
        let env = &w.env;
        async move { env.db.leads().pending_leads(&before).await.unwrap().into_iter().map(|p| (p.account_id.to_string(), p.flow_id.to_string(), p.lead_id.to_string())).collect::<Vec<_>>() }
    };
    let this = (w.seller.id.to_string(), w.seller_flow.clone(), lead.clone());
    assert!(pending(later.to_string()).await.contains(&this), "pending, listed");
    assert!(!pending("2000-01-01T00:00:00Z".into()).await.contains(&this), "not pending since before it came in");
    let messages = pipeline.queued_leads(1).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    assert_eq!(w.lead(&w.seller, &lead).await.steps[0].outcome, "success");
    assert!(!pending(later.to_string()).await.contains(&this), "settled: gone from the index");
}

/// Troubleshooting: a flow's leads filtered by source and outcome, paged to the end (a filtered
/// page may be short, never lose a lead).
#[tokio::test]
async fn a_flows_leads_filter_by_source_and_outcome() {
    let w = world(Plan::Free).await;
    let buyer_entity = entity_for(&w.env, &w.seller, &w.buyer).await;
    let flow: Value = w.env.get(&format!("/flows/{}", w.seller_flow), &w.seller).await.expect(200);
    let mut steps = flow["steps"].clone();
    for step in steps.as_array_mut().unwrap() {
        step.as_object_mut().unwrap().remove("active");
    }
    let mut body = json!({ "name": flow["name"], "enabled": true, "fields": flow["fields"], "steps": steps, "sources": [{ "id": flow["sources"][0]["id"], "entity": { "id": flow["sources"][0]["entity"]["id"] } }, { "entity": { "id": buyer_entity } }] });
    let updated: Flow = w.env.call("PUT", &format!("/flows/{}", w.seller_flow), Some(&w.seller.key), Some(body.clone())).await.expect(200);
    let (first, second) = (updated.sources[0].id.clone(), updated.sources[1].id.clone());
    let submit = |source: String, n: usize| {
        let w = &w;
        async move { w.env.call("POST", &format!("/flows/{}/sources/{source}/submit", w.seller_flow), Some(&w.seller.key), Some(json!({ "email": format!("f{n}@example.com") }))).await.expect::<SubmissionResult>(200) }
    };
    let mut from_second = vec![];
    for n in 0..3 {
        submit(first.clone(), n).await;
        from_second.push(submit(second.clone(), n).await.lead.id);
    }
    body["enabled"] = json!(false);
    body["sources"][1]["id"] = json!(second);
    w.env.call("PUT", &format!("/flows/{}", w.seller_flow), Some(&w.seller.key), Some(body)).await.expect::<Flow>(200);
    let rejected = submit(second.clone(), 9).await;
    assert_eq!(rejected.outcome, "failure");
    from_second.push(rejected.lead.id.clone());
    from_second.reverse();

    let listed = |query: String| {
        let w = &w;
        async move {
            let (mut ids, mut cursor) = (vec![], None::<String>);
            loop {
                let uri = format!("/flows/{}/leads?limit=2&{query}{}", w.seller_flow, cursor.map(|c| format!("&cursor={c}")).unwrap_or_default());
                let reply = w.env.get(&uri, &w.seller).await;
                ids.extend(reply.expect::<Vec<Lead>>(200).into_iter().map(|l| l.id));
                cursor = reply.headers.get("x-next-cursor").cloned();
                if cursor.is_none() {
                    return ids;
                }
            }
        }
    };
    assert_eq!(listed(format!("source={second}")).await, from_second, "the second source's, newest first");
    assert_eq!(listed("outcome=failure".into()).await, [rejected.lead.id.clone()]);
    assert_eq!(listed(format!("source={second}&outcome=success")).await, from_second[1..]);
    assert!(listed(format!("source={first}&outcome=failure")).await.is_empty());
    assert_eq!(listed(String::new()).await.len(), 7);
    assert_error(&w.env.get(&format!("/flows/{}/leads?outcome=pending", w.seller_flow), &w.seller).await, 400, "bad request");
    assert_error(&w.env.get(&format!("/flows/{}/leads?source=nope", w.seller_flow), &w.seller).await, 400, "bad request");
}

#[tokio::test]
async fn forms_and_retries_with_an_idempotency_key_store_one_lead() {
    let w = world(Plan::Free).await;
    let uri = w.submit_uri();
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &format!("Bearer {}", w.vendor.key) as &str), ("idempotency-key", "lead-1")];
    let first: SubmissionResult = w.env.post_raw(&uri, &headers, b"email=form%40example.com&state=TX").await.expect(200);
    let again = w.env.post_raw(&uri, &headers, b"email=form%40example.com&state=TX").await;
    assert_eq!(again.headers.get("idempotent-replayed").map(String::as_str), Some("true"));
    assert_eq!(again.expect::<SubmissionResult>(200).lead, first.lead);
    let lead = w.lead(&w.seller, &first.lead.id).await;
    assert_eq!(lead.fields, fields(&[("email", "form@example.com"), ("state", "TX")]));
    assert_eq!(w.leads_of(&w.seller_flow, &w.seller).await.len(), 1);
}

/// A lead and its receipt commit in one transaction: nothing is written after it, so no crash
/// between writes can leave a stored lead whose retry stores it again. Here the commit's response
/// is lost (a timeout): the source sees 503, retries with its key and gets the receipt of the
/// one lead stored.
#[tokio::test]
async fn a_lead_whose_commit_was_not_seen_is_replayed_never_stored_twice() {
    let w = world(Plan::Free).await;
    let uri = w.submit_uri();
    let auth = format!("Bearer {}", w.vendor.key);
    let send = |key: &'static str| {
        let (env, uri, auth) = (&w.env, uri.clone(), auth.clone());
        async move { env.post_raw(&uri, &[("authorization", auth.as_str()), ("content-type", "application/json"), ("idempotency-key", key)], br#"{"email":"once@example.com"}"#).await }
    };
    w.env.calls.take();
    let plain: SubmissionResult = send("seen-1").await.expect(200);
    assert_eq!(w.env.calls.take().last().map(String::as_str), Some("TransactWriteItems"), "the receipt is kept by the lead's own transaction");

    w.env.faults.plan(Fault::ResponseLost, "TransactWriteItems", "LEAD#");
    let first = send("unseen-1").await;
    assert_eq!(w.env.faults.clear(), 0);
    let retry = send("unseen-1").await;
    assert_eq!(retry.headers.get("idempotent-replayed").map(String::as_str), Some("true"));
    let replayed: SubmissionResult = retry.expect(200);
    if first.status == 200 {
        assert_eq!(first.read::<SubmissionResult>().lead, replayed.lead, "the SDK's retry met DynamoDB's idempotent answer");
    } else {
        assert_error(&first, 503, "service unavailable");
    }
    let stored: Vec<String> = w.leads_of(&w.seller_flow, &w.seller).await.into_iter().map(|l| l.id).collect();
    assert_eq!(stored.len(), 2, "one lead per key: {stored:?}");
    assert!(stored.contains(&replayed.lead.id) && stored.contains(&plain.lead.id));
}

#[tokio::test]
async fn only_the_owner_and_the_connected_source_may_submit() {
    let w = world(Plan::Free).await;
    let stranger = w.env.account("stranger").await;
    let lead = json!({ "email": "x@example.com" });
    let unknown = assert_error(&w.env.call("POST", &format!("/flows/{}/sources/{}/submit", shared::Id::generate(), w.source), Some(&w.vendor.key), Some(lead.clone())).await, 404, "not found");
    assert_eq!(assert_error(&w.submit(&stranger, lead.clone()).await, 404, "not found"), unknown, "another account's flow reads as unknown");
    assert_eq!(assert_error(&w.submit(&w.buyer, lead.clone()).await, 404, "not found"), unknown, "a partner that is not this source");
    let other_source = format!("/flows/{}/sources/{}/submit", w.seller_flow, shared::Id::generate());
    assert_error(&w.env.call("POST", &other_source, Some(&w.vendor.key), Some(lead.clone())).await, 404, "not found");
    assert_eq!(w.submitted(&w.seller, lead.clone()).await.outcome, "success", "the owner submits as any of its sources");
    assert_error(&w.env.call("POST", &format!("/flows/not-an-id/sources/{}/submit", w.source), Some(&w.vendor.key), Some(lead.clone())).await, 400, "bad request");
    assert_error(&w.submit(&w.vendor, json!({ "address": { "city": "Austin" } })).await, 422, "validation failed");
    assert_error(&w.env.call("POST", &w.submit_uri(), None, Some(lead.clone())).await, 401, "authentication failed");

    // Revoking the vendor's connection refuses its next submission at once, like an unknown flow.
    assert_eq!(w.env.call("DELETE", &format!("/connections/{}", w.vendor_connection_id), Some(&w.vendor.key), None).await.status, 200);
    assert_eq!(assert_error(&w.submit(&w.vendor, lead).await, 404, "not found"), unknown);
    assert_eq!(w.leads_of(&w.seller_flow, &w.seller).await.len(), 1, "only the owner's lead");
}

#[tokio::test]
async fn a_paid_buyers_acceptance_criteria_reject_with_the_reason_the_seller_sees() {
    let w = world(Plan::Paid).await;
    let mut pipeline = w.env.pipeline().await;
    let buyer_flow: Flow = w.env.get(&format!("/flows/{}", w.buyer_flow), &w.buyer).await.expect(200);
    let sources = request_sources(&buyer_flow);
    let criteria = json!({ "required": ["phone_1"], "rules": [{ "field": "state", "operator": "is_one_of", "values": ["TX", "CA"] }] });
    let updated = w.env.call("PUT", &format!("/flows/{}", w.buyer_flow), Some(&w.buyer.key), Some(json!({ "name": "Picky", "enabled": true, "sources": sources, "acceptance_criteria": criteria }))).await;
    updated.expect::<Flow>(200);

    let rejected = w.submitted(&w.vendor, json!({ "email": "a@example.com", "state": "NY", "phone_1": "5125551234" })).await;
    let accepted = w.submitted(&w.vendor, json!({ "email": "b@example.com", "state": "tx", "phone_1": "5125551234" })).await;
    assert_eq!((rejected.outcome.as_str(), accepted.outcome.as_str()), ("success", "success"), "the seller's flow takes both");
    let messages = pipeline.queued_leads(2).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());

    let step = w.lead(&w.seller, &rejected.lead.id).await.steps.remove(0);
    assert_eq!(step.outcome, "failure");
    assert_eq!(step.reason.as_deref(), Some("rejected by buyer Inc: state must be one of: TX, CA"));
    assert_eq!(w.lead(&w.seller, &accepted.lead.id).await.steps[0].outcome, "success");
    let at_buyer = w.buyer_leads().await;
    let outcomes: Vec<&str> = at_buyer.iter().map(|l| l.outcome.as_str()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "failure").count(), 1, "the buyer sees what it rejected: {outcomes:?}");
    pipeline.count_figures(2).await;
    let connection = w.connection(&w.seller).await;
    assert_eq!((connection.leads_delivered, connection.leads_rejected), (1, 1));
}

#[tokio::test]
async fn a_paid_sellers_own_criteria_answer_the_source_and_free_accounts_cannot_set_them() {
    let w = world(Plan::Free).await;
    let flow: Flow = w.env.get(&format!("/flows/{}", w.seller_flow), &w.seller).await.expect(200);
    let body = json!({ "name": "Auto leads", "enabled": true, "fields": flow.fields, "sources": request_sources(&flow), "acceptance_criteria": { "required": ["phone_1"] } });
    w.env.call("PUT", &format!("/flows/{}", w.seller_flow), Some(&w.seller.key), Some(body)).await.expect::<Flow>(200);
    let reply = w.submitted(&w.vendor, json!({ "email": "a@example.com" })).await;
    assert_eq!((reply.outcome.as_str(), reply.reason.as_deref()), ("failure", Some("phone_1 is required")));
    assert!(w.lead(&w.seller, &reply.lead.id).await.steps.is_empty(), "a rejected lead goes to no buyer");
    let free = w.env.call("POST", "/flows", Some(&w.vendor.key), Some(json!({ "name": "Mine", "enabled": true, "acceptance_criteria": { "required": ["email"] } }))).await;
    assert_error(&free, 403, "forbidden");
    let plain: Flow = w.env.call("POST", "/flows", Some(&w.vendor.key), Some(json!({ "name": "Mine", "enabled": true }))).await.expect(201);
    let replaced = json!({ "name": "Mine", "enabled": true, "acceptance_criteria": { "required": ["email"] } });
    assert_error(&w.env.call("PUT", &format!("/flows/{}", plain.id), Some(&w.vendor.key), Some(replaced)).await, 403, "forbidden");
}

#[tokio::test]
async fn after_the_buyer_connection_is_revoked_nothing_reaches_the_buyer() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    w.env.call("DELETE", &format!("/connections/{}", w.connection_id), Some(&w.buyer.key), None).await.expect::<Connection>(200);
    let reply = w.submitted(&w.vendor, json!({ "email": "late@example.com" })).await;
    assert_eq!(reply.outcome, "success");
    let messages = pipeline.queued_leads(1).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    let step = w.lead(&w.seller, &reply.lead.id).await.steps.remove(0);
    assert_eq!((step.outcome.as_str(), step.reason.as_deref()), ("failure", Some("the connection with buyer Inc was revoked")));
    assert!(w.buyer_leads().await.is_empty());
    // Counted where the contract says: on the (revoked) connection, both sides.
    pipeline.count_figures(1).await;
    for side in [&w.seller, &w.buyer] {
        let connection = w.connection(side).await;
        assert_eq!((connection.status.as_str(), connection.leads_delivered, connection.leads_failed), ("revoked", 0, 1), "{connection:?}");
    }
}

/// A flow's sources as a PUT names them.
fn request_sources(flow: &Flow) -> Value {
    flow.sources.iter().map(|s| json!({ "id": s.id, "entity": { "id": s.entity.id } })).collect()
}

/// A lead's fields, as the API lists them.
fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn a_flow_delivers_to_each_buyer_once() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    let flow: Flow = w.env.get(&format!("/flows/{}", w.seller_flow), &w.seller).await.expect(200);
    let integration = flow.steps[0].integration.as_ref().unwrap();
    let step = json!({ "type": "recipient", "entity": { "id": flow.steps[0].entity.as_ref().unwrap().id }, "integration": { "module_id": integration.module_id } });
    let twice = json!({ "name": flow.name, "enabled": true, "fields": flow.fields, "sources": request_sources(&flow), "steps": [step, step] });
    let refused = w.env.call("PUT", &format!("/flows/{}", w.seller_flow), Some(&w.seller.key), Some(twice)).await;
    assert!(assert_error(&refused, 422, "validation failed").contains("steps[1].entity.id: an earlier step already delivers"), "{:?}", refused.body);

    // A flow stored before that rule, with two steps to the buyer, still delivers the lead once.
    let id = shared::Id::parse(&w.seller_flow).unwrap();
    let mut stored = w.env.db.onboards().flow(&w.seller.id, &id).await.unwrap().unwrap();
    stored.steps.push(shared::onboards::domain::flow::Step { id: shared::Id::generate(), ..stored.steps[0].clone() });
    let mut item = w.env.stored_item(&format!("ACCOUNT#{}", w.seller.id), &format!("FLOW#{id}")).await.expect("the flow's item");
    item.insert("steps".into(), serde_dynamo::to_attribute_value(&stored.steps).unwrap());
    w.env.plant_item(item).await;
    let reply = w.submitted(&w.vendor, json!({ "email": "once@example.com" })).await;
    let lead = w.lead(&w.seller, &reply.lead.id).await;
    assert_eq!((lead.steps[0].outcome.as_str(), lead.steps[1].outcome.as_str()), ("pending", "skipped"));
    assert_eq!(lead.steps[1].reason.as_deref(), Some("an earlier step already delivers to buyer Inc"));
    let messages = pipeline.queued_leads(1).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    assert_eq!(w.buyer_leads().await.len(), 1, "one lead for the buyer");
}

#[tokio::test]
async fn steps_and_reasons_name_the_buyer_as_its_account_is_named_after_it_accepts() {
    let env = TestEnv::new().await;
    let seller = env.account_with_plan("seller", Plan::Paid).await;
    let buyer = env.account_with_plan("paidbuyer", Plan::Paid).await;
    // Invited by address: the seller's entity is named by the address until the buyer accepts.
    let invited: InvitationSent = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": buyer.email }))).await.expect(201);
    let entity = invited.entity.id;
    assert_eq!(invited.entity.name, buyer.email);
    let flow = json!({ "name": "Early", "enabled": true, "sources": [{ "entity": { "id": entity } }], "steps": [{ "type": "recipient", "entity": { "id": entity } }] });
    let created: Flow = env.call("POST", "/flows", Some(&seller.key), Some(flow)).await.expect(201);
    assert_eq!(created.steps[0].entity.as_ref().unwrap().name, buyer.email);
    let accepted: Accepted = env.call("POST", &format!("/invitations/{}/accept", invited.invitation.id), Some(&buyer.key), None).await.expect(200);
    let setup: SetupDone = env.call("POST", "/onboard/buyer", Some(&buyer.key), Some(json!({ "connection_id": accepted.connection.id }))).await.expect(200);
    let buyer_flow: Flow = env.get(&format!("/flows/{}", setup.flow_id()), &buyer).await.expect(200);
    let criteria = json!({ "name": "Leads", "enabled": true, "sources": request_sources(&buyer_flow), "acceptance_criteria": { "required": ["phone_1"] } });
    env.call("PUT", &format!("/flows/{}", buyer_flow.id), Some(&buyer.key), Some(criteria)).await.expect::<Flow>(200);

    let seller_flow: Flow = env.get(&format!("/flows/{}", created.id), &seller).await.expect(200);
    assert_eq!(seller_flow.steps[0].entity.as_ref().unwrap().name, buyer.name, "the setup renames the seller's steps");
    let mut pipeline = env.pipeline().await;
    let uri = format!("/flows/{}/sources/{}/submit", seller_flow.id, seller_flow.sources[0].id);
    let reply: SubmissionResult = env.call("POST", &uri, Some(&seller.key), Some(json!({ "email": "a@example.com" }))).await.expect(200);
    let messages = pipeline.queued_leads(1).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    let lead = env.get(&format!("/leads/{}", reply.lead.id), &seller).await;
    assert!(!lead.body.to_string().contains(&buyer.email), "the address is not the buyer's name any more: {:?}", lead.body);
    let lead: Lead = lead.expect(200);
    assert_eq!(lead.steps[0].reason, Some(format!("rejected by {}: phone_1 is required", buyer.name)));
    assert_eq!(lead.steps[0].entity.name, buyer.name);
}

#[tokio::test]
async fn a_buyer_step_without_delivery_set_up_is_skipped_with_the_reason() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    connect(&env, &seller, &buyer).await;
    let entity = entity_for(&env, &seller, &buyer).await;
    let flow = json!({ "name": "Direct", "enabled": true, "sources": [{ "entity": { "id": entity } }], "steps": [{ "type": "recipient", "entity": { "id": entity } }] });
    let created: Flow = env.call("POST", "/flows", Some(&seller.key), Some(flow)).await.expect(201);
    let uri = format!("/flows/{}/sources/{}/submit", created.id, created.sources[0].id);
    let reply: SubmissionResult = env.call("POST", &uri, Some(&seller.key), Some(json!({ "email": "a@example.com" }))).await.expect(200);
    let lead: Lead = env.get(&format!("/leads/{}", reply.lead.id), &seller).await.expect(200);
    assert_eq!((lead.steps[0].outcome.as_str(), lead.steps[0].reason.as_deref()), ("skipped", Some("buyer delivery to buyer Inc is not set up")));
    // A buyer is not a source: it cannot submit as the seller's source standing for it.
    assert_error(&env.call("POST", &uri, Some(&buyer.key), Some(json!({ "email": "a@example.com" }))).await, 404, "not found");
}

#[tokio::test]
async fn a_source_reads_its_submission_documents_and_nobody_else_does() {
    let w = world(Plan::Free).await;
    let uri = format!("/flows/{}/sources/{}/docs", w.seller_flow, w.source);
    let docs: SubmissionDocs = w.env.get(&uri, &w.vendor).await.expect(200);
    assert!(docs.submit_url.ends_with(&w.submit_uri()), "{}", docs.submit_url);
    let fields: Vec<(&str, &str)> = docs.fields.iter().map(|f| (f.name.as_str(), f.kind.as_str())).collect();
    assert_eq!(fields, vec![("email", "email"), ("phone_1", "phone"), ("state", "state")]);
    assert_eq!(docs.source.name, w.vendor.name);
    assert!(docs.example.curl.contains("Authorization: Bearer <your API key>"));
    let stranger = w.env.account("stranger").await;
    assert_error(&w.env.get(&uri, &stranger).await, 404, "not found");
    assert_error(&w.env.call("GET", &uri, None, None).await, 401, "authentication failed");
    // A browser gets the page without a key; it holds no data of the flow.
    let page = w.env.request(api_tests::browser_get(&uri)).await;
    let html = page.body.as_str().unwrap();
    assert_eq!(page.status, 200);
    assert!(html.contains("Sending leads") && !html.contains(&w.seller_flow) && !html.contains("Auto leads"));
}

#[tokio::test]
async fn a_source_is_emailed_its_flows_when_it_accepts_and_the_seller_may_send_them_again() {
    let w = world(Plan::Free).await;
    // Accepted before the seller named it in a flow: the email says so and points to the dashboard.
    let first = w.env.emails_to(&w.vendor.email).await;
    let accepted_mail = first.iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("How to send leads to"))).expect("the acceptance email");
    assert!(accepted_mail["body"].as_str().unwrap().contains("not opened a flow to you yet"), "{accepted_mail}");
    // The buyer, who sends no leads to the seller, is sent no such email.
    assert!(w.env.emails_to(&w.buyer.email).await.iter().all(|m| !m["subject"].as_str().unwrap_or_default().contains("How to send leads")));

    // The vendor finds the flow it may send to, with its documents' link.
    let uri = format!("/connections/{}/submission-docs", w.vendor_connection_id);
    let listed: Value = w.env.get(&uri, &w.vendor).await.expect(200);
    assert_eq!(listed["partner"]["name"], w.seller.name.as_str());
    let flows = listed["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "{listed}");
    assert_eq!((flows[0]["flow"]["id"].as_str(), flows[0]["source"]["id"].as_str()), (Some(w.seller_flow.as_str()), Some(w.source.as_str())));
    let docs_url = flows[0]["docs_url"].as_str().unwrap();
    assert!(docs_url.ends_with(&format!("/flows/{}/sources/{}/docs", w.seller_flow, w.source)), "{docs_url}");
    // The seller's side of it: the vendor takes no leads from the seller, so nothing to list.
    let seller_side: Value = w.env.get(&uri, &w.seller).await.expect(200);
    assert_eq!(seller_side["flows"], json!([]));
    assert_error(&w.env.get(&uri, &w.buyer).await, 404, "not found");

    // The seller sends them again: the vendor's users get the flow's link; once a minute at most.
    let resend = format!("/connections/{}/submission-docs/resend", w.vendor_connection_id);
    let sent: Value = w.env.call("POST", &resend, Some(&w.seller.key), None).await.expect(200);
    assert_eq!((sent["flows"].as_u64(), sent["recipients"].as_u64()), (Some(1), Some(1)));
    let mails = w.env.emails_to(&w.vendor.email).await;
    assert_eq!(mails.len(), first.len() + 1);
    assert!(mails.last().unwrap()["body"].as_str().unwrap().contains(docs_url));
    let again = assert_error(&w.env.call("POST", &resend, Some(&w.seller.key), None).await, 429, "rate limit exceeded");
    assert!(again.contains("60"), "{again}");
    assert_eq!(w.env.emails_to(&w.vendor.email).await.len(), first.len() + 1, "no second email within the minute");
    // The vendor sends no documents of the seller's; a buyer connection has none; others see a 404.
    assert_error(&w.env.call("POST", &resend, Some(&w.vendor.key), None).await, 409, "conflict");
    let to_buyer = format!("/connections/{}/submission-docs/resend", w.connection_id);
    assert_error(&w.env.call("POST", &to_buyer, Some(&w.seller.key), None).await, 409, "conflict");
    assert_error(&w.env.call("POST", &resend, Some(&w.buyer.key), None).await, 404, "not found");

    // Revoked: the vendor's list is empty and nothing more is sent.
    w.env.call("DELETE", &format!("/connections/{}", w.vendor_connection_id), Some(&w.seller.key), None).await.expect::<Value>(200);
    let after: Value = w.env.get(&uri, &w.vendor).await.expect(200);
    assert_eq!(after["flows"], json!([]));
    assert_error(&w.env.call("POST", &resend, Some(&w.seller.key), None).await, 409, "conflict");
}
