//! The Lambda entry point every HTTP function shares: tracing set up once, the function's
//! clients built once per cold start and lent to every invocation.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Request, service_fn};

use crate::http::{HandlerResult, respond};

/// JSON logs for CloudWatch (which timestamps them). `RUST_LOG` sets the level (`error` …
/// `trace`); a plain level rather than directives keeps the regex engine out of every binary.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt().json().with_max_level(level).with_target(false).without_time().init();
}

/// Serves `handler` with `state` (its SDK clients and settings) until the runtime stops.
pub async fn run<S, F, Fut>(state: S, handler: F) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = HandlerResult> + Send,
{
    init_tracing();
    // Lives as long as the process: built once at cold start, shared by every invocation.
    let state: &'static S = Box::leak(Box::new(state));
    lambda_http::run(service_fn(|req| {
        let response = handler(state, req);
        async move { Ok::<_, Infallible>(respond(response.await)) }
    }))
    .await
}

/// Serves an event handler (a queue or a stream) with `state`, like `run` does for HTTP.
pub async fn run_events<S, E, R, F, Fut>(state: S, handler: F) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(&'static S, E) -> Fut,
    Fut: Future<Output = Result<R, lambda_http::Error>> + Send,
{
    use lambda_http::lambda_runtime::{self, LambdaEvent};
    init_tracing();
    let state: &'static S = Box::leak(Box::new(state));
    lambda_runtime::run(lambda_runtime::service_fn(|event: LambdaEvent<E>| handler(state, event.payload))).await
}

/// An SQS batch processed concurrently, for `ReportBatchItemFailures`: the messages whose
/// `process` answers `false` are reported failed, so SQS redelivers only those.
#[cfg(feature = "events")]
pub async fn sqs_batch<F, Fut>(
    event: aws_lambda_events::event::sqs::SqsEvent,
    process: F,
) -> Result<aws_lambda_events::event::sqs::SqsBatchResponse, lambda_http::Error>
where
    F: Fn(aws_lambda_events::event::sqs::SqsMessage) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
    let mut tasks = tokio::task::JoinSet::new();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let done = process(message);
        tasks.spawn(async move { (!done.await).then_some(id) });
    }
    let mut response = SqsBatchResponse::default();
    while let Some(result) = tasks.join_next().await {
        if let Some(item_identifier) = result? {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = item_identifier;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}
