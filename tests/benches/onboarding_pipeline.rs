//! Completes N onboards through the stream -> queue -> buyer-setup pipeline on the local stack and
//! prints the time from the PUT that completes each onboard to its setup being done (p50/p95),
//! and the DynamoDB, SQS and SES calls each completed onboarding makes. Run with `infra/bench`.
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
    for _ in 0..ONBOARDS {
        let seller = env.account("seller").await;
        let buyer = env.account("buyer").await;
        let (invitation, _) = connect(&env, &seller, &buyer).await;
        let entity = env.get("/entities", &seller).await.body[0]["id"].clone();
        let flow = json!({ "name": "Auto", "enabled": true, "steps": [{ "type": "recipient", "entity": { "id": entity } }] });
        assert_eq!(env.call("POST", "/flows", Some(&seller.key), Some(flow)).await.status, 201);
        let onboard = env.call("POST", "/onboards", Some(&buyer.key), Some(json!({ "invitation_id": invitation }))).await.body["id"].as_str().unwrap().to_string();
        let path = format!("/onboards/{onboard}");

        let started = Instant::now();
        let reply = env.call("PUT", &path, Some(&buyer.key), Some(json!({ "invitation_id": invitation, "status": "completed" }))).await;
        assert_eq!(reply.status, 200);
        env.calls.take();
        let messages = pipeline.queued_setups(1).await;
        pipeline.deliver(&messages).await;
        times.push(started.elapsed());
        ddb.push(env.calls.take().len());
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
}
