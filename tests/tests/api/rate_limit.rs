//! Seed 001's limit: 100 requests a minute per API key, counted in DynamoDB (so it holds across
//! Lambda instances), 429 with `Retry-After` and the error body beyond it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api_tests::{TestEnv, assert_error};
use shared::platform::ratelimit::RateLimit;

fn seconds_into_minute() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() % 60
}

#[tokio::test]
async fn the_101st_request_in_a_minute_is_refused_for_that_key_only() {
    let env = TestEnv::new().await;
    let account = env.account("busy").await;
    let other_key = env.db.accounts().issue_api_key(&account.email).await.unwrap().0;
    let other_account = env.account("quiet").await;
    // 100 requests take a few seconds here; start them early in a minute so that they share one.
    if seconds_into_minute() > 40 {
        tokio::time::sleep(Duration::from_secs(61 - seconds_into_minute())).await;
    }
    for n in 1..=100 {
        let reply = env.get("/entities", &account).await;
        assert_eq!(reply.status, 200, "request {n}: {:?}", reply.body);
    }
    let refused = env.get("/entities", &account).await;
    let details = assert_error(&refused, 429, "rate limit exceeded");
    assert!(details.contains("100 requests per 60 s"), "{details}");
    let retry_after: u64 = refused.headers["retry-after"].parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    // Writes are refused the same way, before doing anything.
    let invite = env.call("POST", "/invitations/recipient", Some(&account.key), Some(serde_json::json!({ "email": "x@example.com" }))).await;
    assert_error(&invite, 429, "rate limit exceeded");
    assert_eq!(env.call("GET", "/entities", Some(&other_key), None).await.status, 200, "another key of the same account has its own count");
    assert_eq!(env.get("/entities", &other_account).await.status, 200);
}

#[tokio::test]
async fn the_limit_lifts_when_the_window_ends() {
    let window = 4;
    let env = TestEnv::with_rate_limit(RateLimit { requests: 3, window: Duration::from_secs(window), shards: None }).await;
    let account = env.account("patient").await;
    // Start at the beginning of a window, so that the four requests share it.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    tokio::time::sleep(Duration::from_secs(window - now % window)).await;
    let mut statuses = vec![];
    for _ in 0..4 {
        statuses.push(env.get("/connections", &account).await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let refused = env.get("/connections", &account).await;
    let retry_after: u64 = refused.headers["retry-after"].parse().unwrap();
    assert!(retry_after <= window);
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(env.get("/connections", &account).await.status, 200, "a new window");
}

/// A busy key's window spread over counters in partitions of their own (forced to 4 here; a
/// deployment spreads a limit over 250 requests a second): the key is still held to its limit —
/// at most `shards - 1` over, across concurrent requests — and no counter takes more than its
/// share.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sharded_limit_holds_across_concurrent_requests() {
    let limit = RateLimit { requests: 40, window: Duration::from_secs(60), shards: Some(4) };
    let env = std::sync::Arc::new(TestEnv::with_rate_limit(limit).await);
    let account = env.account("sharded").await;
    if seconds_into_minute() > 45 {
        tokio::time::sleep(Duration::from_secs(61 - seconds_into_minute())).await;
    }
    let mut statuses = vec![];
    for _ in 0..8 {
        statuses.extend(api_tests::all_at_once(&env, "GET", "/entities", Some(&account.key), None).await.iter().map(|r| r.status));
    }
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    assert!(statuses.iter().all(|s| matches!(s, 200 | 429)), "{statuses:?}");
    assert!((30..=43).contains(&admitted), "{admitted} of 64 admitted under a limit of 40 over 4 counters");
    let hash = shared::platform::secret::hash(&account.key);
    let (start, _) = limit.window_at(SystemTime::now());
    let mut used = 0;
    for shard in 0..4 {
        let pk = if shard == 0 { format!("RATELIMIT#{hash}") } else { format!("RATELIMIT#{hash}#{shard}") };
        if let Some(item) = env.stored_item(&pk, &start.to_string()).await {
            let count: u32 = item["count"].as_n().unwrap().parse().unwrap();
            assert!(count <= 10, "counter {shard} took {count}, over its share");
            used += 1;
        }
    }
    assert!(used > 1, "the requests were spread over the counters");
}
