//! Requests the tests make in bulk or in races, and the assertions on their replies.

use std::sync::Arc;

use serde_json::Value;

use crate::environment::{Reply, TestAccount, TestEnv};
use crate::responses::{Accepted, ErrorBody, InvitationSent};

/// Two identical requests as separate tasks, so one can be held at its transaction (see
/// `TransactionGate`) while the other runs to completion.
pub async fn race(env: &Arc<TestEnv>, request: impl Fn() -> (&'static str, String, Option<String>, Option<Value>)) -> (Reply, Reply) {
    let spawn = || {
        let (env, (method, path, key, body)) = (env.clone(), request());
        tokio::spawn(async move { env.call(method, &path, key.as_deref(), body).await })
    };
    let (a, b) = (spawn(), spawn());
    (a.await.expect("request task"), b.await.expect("request task"))
}

/// How many copies of a request the race tests send at once.
pub const RACERS: usize = 8;

/// `RACERS` futures made by `make` (given their index), each on its own task, released together:
/// truly concurrent on a multi-thread runtime. Their results, in index order.
pub async fn concurrently<T, Fut>(make: impl Fn(usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    concurrently_n(RACERS, make).await
}

/// `n` futures made by `make`, released together (as `concurrently`).
pub async fn concurrently_n<T, Fut>(n: usize, make: impl Fn(usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (start, work) = (start.clone(), make(i));
            tokio::spawn(async move {
                start.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = vec![];
    for task in tasks {
        results.push(task.await.expect("racing task"));
    }
    results
}

/// `RACERS` copies of one request, sent at once.
pub async fn all_at_once(env: &Arc<TestEnv>, method: &'static str, path: &str, key: Option<&str>, body: Option<Value>) -> Vec<Reply> {
    concurrently(|_| {
        let (env, path, key, body) = (env.clone(), path.to_string(), key.map(str::to_string), body.clone());
        async move { env.call(method, &path, key.as_deref(), body).await }
    })
    .await
}

/// The statuses of `replies`, sorted.
pub fn statuses(replies: &[Reply]) -> Vec<u16> {
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    statuses
}

/// `seller` invites `buyer` (by email) as a buyer and `buyer` accepts: (invitation id, connection id).
pub async fn connect(env: &TestEnv, seller: &TestAccount, buyer: &TestAccount) -> (String, String) {
    let sent: InvitationSent = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(serde_json::json!({ "email": buyer.email }))).await.expect(201);
    let accepted: Accepted = env.call("POST", &format!("/invitations/{}/accept", sent.invitation.id), Some(&buyer.key), None).await.expect(200);
    (sent.invitation.id, accepted.connection.id)
}

/// Asserts the error body shape every non-2xx response has, and returns `details`.
pub fn assert_error(reply: &Reply, status: u16, error: &str) -> String {
    let body: ErrorBody = reply.expect(status);
    assert_eq!(body.error, error, "{:?}", reply.body);
    assert!(!body.details.is_empty());
    body.details
}
