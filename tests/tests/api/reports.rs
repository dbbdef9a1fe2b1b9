//! Partner reports (issue 29): what leads did, counted from the table's stream, read back per
//! account, flow, source and connection — by both sides of a connection, as JSON and CSV — and
//! each stream record counted once however the stream delivers it again.

use serde_json::Value;
use shared::leads::domain::reports::{Dimension, ReportEvent, ReportRange};
use shared::platform::accounts::Plan;
use shared::store::leads::reports::StreamedEvents;

use crate::leads::{entity_for, world};
use api_tests::assert_error;

fn total(report: &Value, figure: &str) -> u64 {
    report["total"][figure].as_u64().unwrap_or_else(|| panic!("{figure} in {report}"))
}

#[tokio::test]
async fn reports_count_what_the_leads_did_for_each_side_that_may_read_them() {
    let w = world(Plan::Free).await;
    let mut pipeline = w.env.pipeline().await;
    for email in ["a@example.com", "b@example.com"] {
        w.submitted(&w.vendor, serde_json::json!({ "email": email })).await;
    }
    // The seller submits as the vendor's source too: the vendor's connection did not carry it.
    w.submitted(&w.seller, serde_json::json!({ "email": "own@example.com" })).await;
    let messages = pipeline.queued_leads(3).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    pipeline.count_figures(3).await;

    let hour = |path: &str| format!("{path}?granularity=hour");
    let flow: Value = w.env.get(&hour(&format!("/reports/flows/{}", w.seller_flow)), &w.seller).await.expect(200);
    assert_eq!((total(&flow, "submitted"), total(&flow, "accepted"), total(&flow, "delivered"), total(&flow, "failed")), (3, 3, 3, 0), "{flow}");
    assert_eq!(flow["total"]["success_rate"], 1.0);
    let buckets = flow["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 7 * 24, "every hour of the default week");
    let now = shared::platform::time::now();
    let this_hour = buckets.iter().find(|b| b["start"].as_str().unwrap()[..13] == now[..13]).expect("this hour");
    assert_eq!(this_hour["submitted"], 3);
    assert!(this_hour["processing_p50_ms"].as_u64().is_some(), "{this_hour}");

    let vendor_entity = entity_for(&w.env, &w.seller, &w.vendor).await;
    let source: Value = w.env.get(&format!("/reports/sources/{vendor_entity}"), &w.seller).await.expect(200);
    assert_eq!((total(&source, "submitted"), total(&source, "delivered")), (3, 3));
    // The vendor's connection: its two submissions, the same report on both sides, each side
    // reading it by direction too.
    for side in [&w.seller, &w.vendor] {
        let connection: Value = w.env.get(&format!("/reports/connections/{}", w.vendor_connection_id), side).await.expect(200);
        assert_eq!((total(&connection, "submitted"), total(&connection, "delivered")), (2, 0), "{connection}");
    }
    let by = |side: &'static str, direction: &str| {
        let (env, uri) = (&w.env, format!("/reports/connections/{}?direction={direction}", w.vendor_connection_id));
        let side = if side == "seller" { &w.seller } else { &w.vendor };
        async move { total(&env.get(&uri, side).await.expect::<Value>(200), "submitted") }
    };
    assert_eq!((by("seller", "received").await, by("seller", "sent").await, by("vendor", "sent").await, by("vendor", "received").await), (2, 0, 2, 0));
    let refused = w.env.get(&format!("/reports/connections/{}?direction=up", w.vendor_connection_id), &w.seller).await;
    assert_error(&refused, 400, "bad request");
    assert_eq!(refused.body["details"], "direction: must be sent, received or both");
    // The buyer's connection: three delivered, and three that came into the buyer's flow.
    for side in [&w.seller, &w.buyer] {
        let connection: Value = w.env.get(&format!("/reports/connections/{}", w.connection_id), side).await.expect(200);
        assert_eq!((total(&connection, "submitted"), total(&connection, "accepted"), total(&connection, "delivered")), (3, 3, 3), "{connection}");
    }
    let seller: Value = w.env.get("/reports/account", &w.seller).await.expect(200);
    let buyer: Value = w.env.get("/reports/account", &w.buyer).await.expect(200);
    assert_eq!((total(&seller, "submitted"), total(&seller, "delivered"), total(&buyer, "submitted"), total(&buyer, "delivered")), (3, 3, 3, 0));

    // CSV: a header and a line per bucket.
    let csv = w.env.request(infra::local_api::HttpRequest {
        method: "GET".into(),
        uri: format!("/reports/flows/{}", w.seller_flow),
        headers: vec![("authorization".into(), format!("Bearer {}", w.seller.key)), ("accept".into(), "text/csv".into())],
        body: vec![],
    }).await;
    assert_eq!((csv.status, csv.headers.get("content-type").map(String::as_str)), (200, Some("text/csv; charset=utf-8")));
    let text = csv.body.as_str().expect("text");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert!(lines[0].starts_with("start,submitted,accepted,rejected,delivered"), "{text}");
    assert_eq!(lines.len(), 1 + 7);
    assert!(lines.iter().any(|l| l.starts_with(&format!("{}T00:00:00Z,3,3,0,3,0,0,0,1.0000", &now[..10]))), "{text}");

    // Not the caller's: the same 404 as for what does not exist.
    assert_error(&w.env.get(&format!("/reports/flows/{}", w.seller_flow), &w.vendor).await, 404, "not found");
    assert_error(&w.env.get(&format!("/reports/sources/{vendor_entity}"), &w.buyer).await, 404, "not found");
    assert_error(&w.env.get(&format!("/reports/connections/{}", w.vendor_connection_id), &w.buyer).await, 404, "not found");
    // Ranges are bounded and dates are dates.
    for (query, details) in [
        ("granularity=hour&from=2026-01-01&to=2026-12-31", "from: an hourly report covers at most 31 days; this range has 365"),
        ("from=2026-02-30", "from: must be a date, YYYY-MM-DD"),
        ("from=2026-12-06&to=2026-12-05", "from: must not be after to"),
        ("granularity=week", "granularity: must be hour or day"),
    ] {
        let refused = w.env.get(&format!("/reports/account?{query}"), &w.seller).await;
        assert_error(&refused, 400, "bad request");
        assert_eq!(refused.body["details"], details);
    }
}

/// The stream delivers at least once: a batch again, again with more records, a retry from
/// where a chunk began — each record counted once.
#[tokio::test]
async fn each_stream_record_is_counted_in_reports_once() {
    let env = api_tests::TestEnv::new().await;
    let account = shared::Id::generate();
    let record = |id: &str| StreamedEvents {
        record_id: format!("{id}-{account}"),
        events: vec![ReportEvent::Submitted {
            account: account.clone(),
            flow: shared::Id::generate(),
            source: shared::Id::generate(),
            origin: None,
            accepted: true,
            reason: None,
            at: shared::platform::time::now(),
        }],
    };
    let quiet = |id: &str| StreamedEvents { record_id: format!("{id}-{account}"), events: vec![] };
    let (r1, r2, r3, r4) = (record("1"), record("2"), record("3"), record("4"));
    let leads = env.db.leads();
    let range = ReportRange::parse(None, None, None, &shared::platform::time::now()[..10]).unwrap();
    let submitted = || async { leads.report(&Dimension::Account(account.clone()), &range).await.unwrap().values().map(|f| f.submitted).sum::<u64>() };

    leads.count_reports(&[r1.clone(), quiet("q"), r2.clone(), r3.clone()]).await.unwrap();
    assert_eq!(submitted().await, 3);
    leads.count_reports(&[r1.clone(), quiet("q"), r2.clone(), r3.clone()]).await.unwrap();
    assert_eq!(submitted().await, 3, "the same batch again");
    leads.count_reports(&[r1.clone(), quiet("q"), r2.clone(), r3.clone(), r4.clone()]).await.unwrap();
    assert_eq!(submitted().await, 4, "again with a record more: only the new one counts");
    leads.count_reports(&[r4.clone()]).await.unwrap();
    assert_eq!(submitted().await, 4, "the retry of what a chunk began with");
    // A batch shorter than what was counted from its start (Lambda bisecting a batch, which
    // lead-figures does not ask for) is refused, uncounted, rather than counted twice later.
    let refused = leads.count_reports(&[r1.clone(), quiet("q")]).await.expect_err("shorter than counted");
    assert_eq!(refused.from, 0);
    assert_eq!(submitted().await, 4);
}

/// A buyer step not attempted (the buyer never set up its delivery) is in the report with its
/// reason, outside the success rate.
#[tokio::test]
async fn a_buyer_step_not_attempted_is_reported_with_its_reason() {
    let w = world(Plan::Free).await;
    let late = w.env.account("late").await;
    api_tests::connect(&w.env, &w.seller, &late).await;
    let late_entity = entity_for(&w.env, &w.seller, &late).await;
    let flow: Value = w.env.get(&format!("/flows/{}", w.seller_flow), &w.seller).await.expect(200);
    let mut steps = flow["steps"].as_array().unwrap().clone();
    for step in &mut steps {
        step.as_object_mut().unwrap().remove("active");
    }
    steps.push(serde_json::json!({ "type": "recipient", "entity": { "id": late_entity } }));
    let sources = serde_json::json!([{ "id": flow["sources"][0]["id"], "entity": { "id": flow["sources"][0]["entity"]["id"] } }]);
    let body = serde_json::json!({ "name": flow["name"], "enabled": true, "fields": flow["fields"], "sources": sources, "steps": steps });
    w.env.call("PUT", &format!("/flows/{}", w.seller_flow), Some(&w.seller.key), Some(body)).await.expect::<Value>(200);
    let mut pipeline = w.env.pipeline().await;
    w.submitted(&w.vendor, serde_json::json!({ "email": "late@example.com" })).await;
    let messages = pipeline.queued_leads(1).await;
    assert!(pipeline.deliver_leads(&messages).await.batch_item_failures.is_empty());
    pipeline.count_figures(1).await;

    let report: Value = w.env.get(&format!("/reports/flows/{}", w.seller_flow), &w.seller).await.expect(200);
    let skipped = format!("buyer delivery to {} is not set up", late.name);
    assert_eq!((total(&report, "skipped"), total(&report, "delivered")), (1, 1), "{report}");
    assert_eq!(report["total"]["skipped_by_reason"], serde_json::json!({ skipped: 1 }));
    assert_eq!(report["total"]["success_rate"], 1.0, "what was not tried is not a failure");
}

/// Faults DynamoDB Local never produces, injected at the SDK: a conflict and a throttle are
/// retried inside the count; a commit whose answer was lost leaves the batch to be delivered
/// again, which then finds its marker — counted once either way.
#[tokio::test]
async fn a_report_count_that_meets_contention_or_a_lost_answer_counts_once() {
    use api_tests::Fault;
    let env = api_tests::TestEnv::new().await;
    let account = shared::Id::generate();
    let record = |id: &str| StreamedEvents {
        record_id: format!("{id}-{account}"),
        events: vec![ReportEvent::Submitted { account: account.clone(), flow: shared::Id::generate(), source: shared::Id::generate(), origin: None, accepted: true, reason: None, at: shared::platform::time::now() }],
    };
    let range = ReportRange::parse(None, None, None, &shared::platform::time::now()[..10]).unwrap();
    let leads = env.db.leads();
    let submitted = || async { leads.report(&Dimension::Account(account.clone()), &range).await.unwrap().values().map(|f| f.submitted).sum::<u64>() };
    let batch = [record("1"), record("2")];
    for fault in [Fault::TransactionConflict, Fault::Throttled] {
        env.faults.plan(fault, "TransactWriteItems", "REPORTED#");
    }
    leads.count_reports(&batch).await.unwrap();
    assert_eq!(env.faults.clear(), 0, "both were met");
    assert_eq!(submitted().await, 2);

    let next = [record("3")];
    env.faults.plan(Fault::ResponseLost, "TransactWriteItems", "REPORTED#");
    let lost = leads.count_reports(&next).await.expect_err("the answer was lost");
    assert_eq!((lost.from, env.faults.clear()), (0, 0));
    leads.count_reports(&next).await.unwrap();
    assert_eq!(submitted().await, 3, "committed once, redelivered, counted once");
}
