//! The hot-item report (issue 26): which items and partitions a busy partner writes, and how hot
//! they get at the target rates. Drives LEADS leads from one vendor key through one flow with two
//! buyer steps (submission with an Idempotency-Key, delivery, figures), then BUYERS buyers
//! onboarding onto one seller flow; an SDK interceptor (`WriteLedger`) records every item written
//! with its write units. Prints, per phase, the hottest items (writes per lead or per onboarding)
//! and partitions (write units), projected to 1,000 leads/s and 1,000 onboardings a minute, with
//! DynamoDB's per-partition limit beside them. Figures, not assertions. Run with `infra/bench`.

use std::collections::BTreeMap;

use api_tests::{ItemWrite, SetupDone, TestAccount, TestEnv, connect};
use serde_json::json;
use shared::onboards::buyer_setup::Mode;
use shared::onboards::domain::buyer_setup::SetupRequest;
use shared::platform::ratelimit::RateLimit;

const LEADS: usize = 500;
const BUYERS: usize = 30;
/// The targets: one vendor's leads per second, and onboardings per second onto one seller flow.
const LEADS_PER_SECOND: f64 = 1000.0;
const ONBOARDINGS_PER_SECOND: f64 = 1000.0 / 60.0;
/// What one partition serves (DynamoDB's documented limit).
const PARTITION_WCU: f64 = 1000.0;

/// An item or partition name with its ids replaced by their kind, so that the report reads.
fn shape(key: &str) -> String {
    key.split('#').map(|part| if part.len() == 24 && part.bytes().all(|b| b.is_ascii_hexdigit()) { "<id>" } else if part.len() == 64 { "<hash>" } else { part }).collect::<Vec<_>>().join("#")
}

fn report(phase: &str, writes: &[ItemWrite], per: usize, unit: &str, rate: f64) {
    let mut items: BTreeMap<(String, String), (usize, f64)> = BTreeMap::new();
    let mut partitions: BTreeMap<String, f64> = BTreeMap::new();
    for w in writes {
        let entry = items.entry((w.pk.clone(), w.sk.clone())).or_default();
        entry.0 += 1;
        entry.1 += w.units;
        *partitions.entry(w.pk.clone()).or_default() += w.units;
    }
    let mut hottest: Vec<_> = items.into_iter().collect();
    hottest.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    let mut hot_partitions: Vec<_> = partitions.into_iter().collect();
    hot_partitions.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = writes.iter().map(|w| w.units).sum();
    println!("\n{phase}: {per} {unit}s, {} item writes, {total:.0} write units ({:.1} per {unit})", writes.len(), total / per as f64);
    println!("  hottest items                                                  writes/{unit}  WCU/{unit}  WCU/s at target  (limit {PARTITION_WCU:.0}/partition)");
    for ((pk, sk), (count, units)) in hottest.iter().take(5) {
        let per_unit = units / per as f64;
        println!("  {:<62} {:>10.3}  {:>8.3}  {:>15.1}", format!("{} / {}", shape(pk), shape(sk)), *count as f64 / per as f64, per_unit, per_unit * rate);
    }
    println!("  hottest partitions                                             WCU/{unit}  WCU/s at target  share of the limit");
    for (pk, units) in hot_partitions.iter().take(5) {
        let per_second = units / per as f64 * rate;
        println!("  {:<62} {:>8.3}  {:>15.1}  {:>6.1} %", shape(pk), units / per as f64, per_second, 100.0 * per_second / PARTITION_WCU);
    }
}

/// What the partner reports cost a lead: the write units of each kind of report (an account's, a
/// flow's, a source's, a connection's) and of the batches' markers, per lead of the vendor's.
/// The target: under 0.2 WRU per lead per kind of report, by batching.
fn report_costs(writes: &[ItemWrite], batch: usize) {
    let mut units: BTreeMap<&str, f64> = BTreeMap::new();
    for w in writes {
        let kind = match w.pk.split('#').collect::<Vec<_>>().as_slice() {
            ["REPORTED", ..] => "batch markers",
            ["REPORT", "CONNECTION", ..] => "connection",
            ["REPORT", _, "FLOW", ..] => "flow",
            ["REPORT", _, "SOURCE", ..] => "source",
            ["REPORT", _] => "account",
            _ => continue,
        };
        *units.entry(kind).or_default() += w.units;
    }
    let total: f64 = units.values().sum();
    println!("
Partner reports, lead-figures batches of {batch} records: {total:.0} write units for {LEADS} leads ({:.3} per lead, each lead also counting in both buyers' reports)", total / LEADS as f64);
    for (kind, u) in &units {
        println!("  {kind:<14} {:>7.3} WRU per lead{}", u / LEADS as f64, if *kind == "batch markers" { "" } else { "   (target < 0.2)" });
    }
}

#[tokio::main]
async fn main() {
    // The vendor's key is allowed its 1,000 requests a second (a busy partner's plan).
    let env = TestEnv::with_rate_limit(RateLimit { requests: 60_000, window: std::time::Duration::from_secs(60), shards: None }).await;
    let seller = env.account("seller").await;
    let vendor = env.account("vendor").await;
    let (buyer_a, buyer_b) = (env.account("buyer-a").await, env.account("buyer-b").await);

    // One flow, the vendor its source, two buyer steps; both buyers set up.
    let invited: api_tests::InvitationSent = env.call("POST", "/invitations/source", Some(&seller.key), Some(json!({ "email": vendor.email }))).await.expect(201);
    env.call("POST", &format!("/invitations/{}/accept", invited.invitation.id), Some(&vendor.key), None).await.expect::<api_tests::Accepted>(200);
    let (_, connection_a) = connect(&env, &seller, &buyer_a).await;
    let (_, connection_b) = connect(&env, &seller, &buyer_b).await;
    let entities: Vec<api_tests::Entity> = env.get("/entities", &seller).await.expect(200);
    let entity_of = |account: &TestAccount| entities.iter().find(|e| e.connected_account_id.as_deref() == Some(account.id.to_string().as_str())).unwrap().id.clone();
    let steps = [&buyer_a, &buyer_b].map(|b| json!({ "type": "recipient", "entity": { "id": entity_of(b) } }));
    let flow: api_tests::Flow = env.call("POST", "/flows", Some(&seller.key), Some(json!({ "name": "Busy", "enabled": true, "sources": [{ "entity": { "id": entity_of(&vendor) } }], "steps": steps }))).await.expect(201);
    for (buyer, connection) in [(&buyer_a, &connection_a), (&buyer_b, &connection_b)] {
        env.call("POST", "/onboard/buyer", Some(&buyer.key), Some(json!({ "connection_id": connection }))).await.expect::<SetupDone>(200);
    }
    let mut pipeline = env.pipeline().await;
    // lead-figures gets the stream in batches as its event source is configured.
    pipeline.figures_batch = infra::template::Template::load().expect("template").stream_batch_size("LeadFiguresFunction").expect("lead-figures' batch size");
    let submit = format!("/flows/{}/sources/{}/submit", flow.id, flow.sources[0].id);
    env.writes.take();

    // LEADS leads, each with its Idempotency-Key, delivered to both buyers, counted.
    for n in 0..LEADS {
        let headers = [("authorization", format!("Bearer {}", vendor.key)), ("content-type", "application/json".into()), ("idempotency-key", format!("lead-{n}"))];
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.post_raw(&submit, &headers, format!(r#"{{"email":"lead{n}@example.com"}}"#).as_bytes()).await.expect::<api_tests::SubmissionResult>(200);
    }
    let mut delivered = 0;
    while delivered < LEADS {
        let messages = pipeline.queued_leads(1).await;
        delivered += messages.records.len();
        pipeline.deliver_leads(&messages).await;
    }
    pipeline.count_figures(2 * LEADS).await;
    let writes = env.writes.take();
    report_costs(&writes, pipeline.figures_batch);
    report("Leads from one vendor key into one flow with two buyer steps", &writes, LEADS, "lead", LEADS_PER_SECOND);

    // What a person's chart asks for: a month of a flow by the hour, and a year by the day.
    for (granularity, days) in [("hour", 30), ("day", 366)] {
        let today = shared::platform::time::now()[..10].to_string();
        let from = shared::platform::time::format(std::time::SystemTime::now() - std::time::Duration::from_secs((days - 1) * 86_400))[..10].to_string();
        env.calls.take();
        let report: serde_json::Value = env.get(&format!("/reports/flows/{}?granularity={granularity}&from={from}&to={today}", flow.id), &seller).await.expect(200);
        let calls = env.calls.take();
        println!(
            "a flow's report, {days} days by the {granularity}: {} buckets in {} DynamoDB calls ({})",
            report["buckets"].as_array().map_or(0, Vec::len),
            calls.len(),
            calls.join(", ")
        );
    }

    // BUYERS buyers onboarding onto one seller flow.
    let launch = env.account("launch").await;
    let mut buyers = vec![];
    for i in 0..BUYERS {
        let buyer = env.account(&format!("onboarding-{i}")).await;
        let (_, connection) = connect(&env, &launch, &buyer).await;
        buyers.push((buyer, connection));
    }
    let launch_entities: Vec<api_tests::Entity> = env.get("/entities?limit=100", &launch).await.expect(200);
    let launch_steps: Vec<_> = launch_entities.iter().map(|e| json!({ "type": "recipient", "entity": { "id": e.id } })).collect();
    env.call("POST", "/flows", Some(&launch.key), Some(json!({ "name": "Launch", "enabled": true, "steps": launch_steps }))).await.expect::<api_tests::Flow>(201);
    env.writes.take();
    for (buyer, connection) in &buyers {
        let request = SetupRequest { account_id: buyer.id.clone(), connection_id: shared::Id::parse(connection).unwrap(), flow_id: None, onboard_id: None, actor: "system".into() };
        pipeline.setup.run(&request, Mode::Async).await.expect("set up");
    }
    report("Buyers onboarding onto one seller flow", &env.writes.take(), BUYERS, "onboarding", ONBOARDINGS_PER_SECOND);
}
