//! Completes N onboards through the stream -> queue -> buyer-setup pipeline on the local stack and
//! prints the time from the PUT that completes each onboard to its setup being done (p50/p95),
//! and the DynamoDB, SQS and SES calls each completed onboarding makes, with the DynamoDB request
//! units of the whole journey (invite, accept, onboard, complete, setup: docs/cost.md). Run with
//! `infra/bench`.
//! The pipeline is driven as fast as it can go (no polling interval), so the times are the
//! processing cost on this machine, not Lambda's event-source latency.

use std::time::{Duration, Instant};

use api_tests::{TestEnv, connect};
use serde_json::json;

const ONBOARDS: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let env = TestEnv::new().await;
    let mut pipeline = env.pipeline().await;
    let (mut times, mut ddb, mut sqs, mut ses) = (vec![], vec![], vec![], vec![]);
    let (mut journey, mut setup) = (vec![], vec![]);
    for _ in 0..ONBOARDS {
        let seller = env.account("seller").await;
        let buyer = env.account("buyer").await;
        env.capacity.take();
        let (invitation, _) = connect(&env, &seller, &buyer).await;
        let invited_and_accepted = env.capacity.take();
        let entity = env.get("/entities", &seller).await.body[0]["id"].clone();
        let flow = json!({ "name": "Auto", "enabled": true, "steps": [{ "type": "recipient", "entity": { "id": entity } }] });
        assert_eq!(env.call("POST", "/flows", Some(&seller.key), Some(flow)).await.status, 201);
        env.capacity.take();
        let onboard = env.call("POST", "/onboards", Some(&buyer.key), Some(json!({ "invitation_id": invitation }))).await.body["id"].as_str().unwrap().to_string();
        let path = format!("/onboards/{onboard}");

        let started = Instant::now();
        let reply = env.call("PUT", &path, Some(&buyer.key), Some(json!({ "invitation_id": invitation, "status": "completed" }))).await;
        assert_eq!(reply.status, 200);
        env.calls.take();
        let onboarded = env.capacity.take();
        let messages = pipeline.queued_setups(1).await;
        pipeline.deliver(&messages).await;
        times.push(started.elapsed());
        ddb.push(env.calls.take().len());
        let set_up = env.capacity.take();
        setup.push(set_up);
        journey.push((invited_and_accepted.read + onboarded.read + set_up.read, invited_and_accepted.write + onboarded.write + set_up.write));
        assert_eq!(env.get(&path, &buyer).await.body["setup_status"], "succeeded");
        sqs.push(env.queue_calls.take().len());
        ses.push(env.mail_calls.take().len());
    }
    times.sort();
    let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len() as f64;
    println!("{ONBOARDS} onboards completed through stream -> queue -> buyer-setup (DynamoDB Local and moto on loopback)");
    println!("PUT completed -> setup done: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3, percentile(&times, 0.95).as_secs_f64() * 1e3, times[times.len() - 1].as_secs_f64() * 1e3);
    println!("per completed onboarding (after the PUT): DynamoDB {:.1} calls, SQS {:.1} calls (send, receive, delete), SES {:.1} calls",
        mean(&ddb), mean(&sqs), mean(&ses));
    let average = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    println!("DynamoDB request units: the setup {:.1} RRU + {:.1} WRU; the journey (invite, accept, POST /onboards, PUT completed, setup) {:.1} RRU + {:.1} WRU",
        average(setup.iter().map(|c| c.read).collect()), average(setup.iter().map(|c| c.write).collect()),
        average(journey.iter().map(|j| j.0).collect()), average(journey.iter().map(|j| j.1).collect()));
}
