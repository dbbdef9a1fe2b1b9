//! The Lambda entry point every function shares: tracing set up once, the function's clients
//! built once per cold start (`FromEnv`) and lent to every invocation. A function's `main` is
//! one line: `serve(its_handler)`.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::header::{HOST, SET_COOKIE};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::platform::config::{Env, FromEnv};
use crate::platform::error::ApiError;
use crate::platform::http::{ConfiguredOrigin, HandlerResult, respond};

/// What a function's `main` returns.
pub type Exit = Result<(), lambda_http::Error>;

/// Serves an HTTP `handler` in Lambda, with its state built from the environment.
pub fn serve<S, F, Fut>(handler: F) -> Exit
where
    S: FromEnv,
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = HandlerResult> + Send,
{
    let env = Env::lambda();
    let origin = ConfiguredOrigin::from_env(&env);
    runtime()?.block_on(async { run(S::from_env(&env)?, origin, handler).await })
}

/// Serves a queue or stream `handler` in Lambda, like `serve`.
pub fn serve_events<S, E, R, F, Fut>(handler: F) -> Exit
where
    S: FromEnv,
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(&'static S, E) -> Fut,
    Fut: Future<Output = Result<R, lambda_http::Error>> + Send,
{
    runtime()?.block_on(async { run_events(S::from_env(&Env::lambda())?, handler).await })
}

/// The runtime `#[tokio::main]` builds.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

/// JSON logs for CloudWatch (which timestamps them). `RUST_LOG` sets the level (`error` …
/// `trace`); a plain level rather than directives keeps the regex engine out of every binary.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing::Level::INFO);
    tracing::subscriber::set_global_default(json_logs(level, std::io::stdout)).ok();
}

/// The log format: one JSON object per line, with the current span's fields (`request_span`).
fn json_logs<W>(level: tracing::Level, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt().json().with_max_level(level).with_target(false).without_time().with_writer(writer).finish()
}

/// Serves `handler` with `state` (its SDK clients and settings) until the runtime stops.
///
/// API Gateway's event is turned into a request here rather than by `lambda_http::run`, which
/// panics on forwarding headers that do not form a URL (see `api_request`).
async fn run<S, F, Fut>(state: S, origin: ConfiguredOrigin, handler: F) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = HandlerResult> + Send,
{
    init_tracing();
    // Lives as long as the process: built once at cold start, shared by every invocation.
    let state: &'static S = Box::leak(Box::new(state));
    lambda_runtime::run(lambda_runtime::service_fn(|event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let path_ids = event.payload.path_parameters.iter().map(|(name, value)| (name.as_str(), value.as_str()));
        let span = request_span(&event.context.request_id, event.payload.route_key.as_deref().unwrap_or_default(), subject(path_ids));
        // Boxed, as lambda_http boxes it: the handler's future nests deep enough in the
        // runtime's types to overflow the compiler's query depth otherwise.
        let response = api_request(event.payload).map(|req| Box::pin(handler(state, origin.attach(req.with_lambda_context(event.context)))));
        async move {
            let result = match response {
                Ok(response) => response.await,
                Err(err) => Err(err),
            };
            Ok::<_, Infallible>(api_response(respond(result)))
        }
        .instrument(span)
    }))
    .await
}

/// The span every log line of one request is in: its id, its route (`GET /onboards/{id}`, never
/// the raw path, which can hold link tokens) and, once authenticated, the calling account.
pub fn request_span(request_id: &str, route: &str, subject: Option<&str>) -> tracing::Span {
    tracing::info_span!("request", request_id, route, subject, account = tracing::field::Empty)
}

/// What a request is about, from its path: the id of the onboard, connection, invitation,
/// delivery… the route names (the most specific when there are two). Only ids: a link's token,
/// also a path parameter, is never logged.
pub fn subject<'a>(path_parameters: impl Iterator<Item = (&'a str, &'a str)>) -> Option<&'a str> {
    let ids: Vec<(&str, &str)> = path_parameters.filter(|(name, value)| (*name == "id" || name.ends_with("_id")) && crate::platform::id::Id::parse(value).is_some()).collect();
    ids.iter().find(|(name, _)| *name != "id" && *name != "integration_id").or(ids.iter().find(|(name, _)| *name == "id")).or(ids.first()).map(|(_, value)| *value)
}

/// Names the calling account on the current request's span.
pub fn record_account(account_id: &crate::platform::id::Id) {
    tracing::Span::current().record("account", tracing::field::display(account_id));
}

/// The request API Gateway's event describes, or a 400 when its `Host` or `X-Forwarded-Proto`
/// header cannot form a URL (`Host: a:99999`, `X-Forwarded-Proto: x/y`): lambda_http builds the
/// request URI from them and panics on such input, which would abort the process.
pub fn api_request(event: ApiGatewayV2httpRequest) -> Result<Request, ApiError> {
    check_request_uri(&event)?;
    Ok(Request::from(LambdaRequest::ApiGatewayV2(event)))
}

/// The URI lambda_http will build (scheme, host, path, query), checked the way it builds it.
fn check_request_uri(event: &ApiGatewayV2httpRequest) -> Result<(), ApiError> {
    let header = |name| event.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(host) = header(HOST.as_str()).or(event.request_context.domain_name.as_deref()) else { return Ok(()) };
    let scheme = header("x-forwarded-proto").unwrap_or("https");
    let path = event.raw_path.as_deref().unwrap_or_default();
    let bad = || ApiError::BadRequest("the Host and X-Forwarded-Proto headers do not form a valid URL".into());
    let mut uri = url::Url::parse(&format!("{scheme}://{host}{path}")).map_err(|_| bad())?.to_string();
    if let Some(query) = event.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    lambda_http::http::Uri::try_from(uri).map(drop).map_err(|_| bad())
}

/// The payload format 2.0 response: `Set-Cookie` headers go in `cookies`, as API Gateway expects.
fn api_response(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (mut parts, body) = response.into_parts();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.cookies = parts.headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
    parts.headers.remove(SET_COOKIE);
    out.headers = parts.headers;
    out.is_base64_encoded = matches!(body, Body::Binary(_));
    out.body = match body {
        Body::Empty => None,
        body => Some(body),
    };
    out
}

/// Serves an event handler (a queue or a stream) with `state`, like `run` does for HTTP.
async fn run_events<S, E, R, F, Fut>(state: S, handler: F) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(&'static S, E) -> Fut,
    Fut: Future<Output = Result<R, lambda_http::Error>> + Send,
{
    init_tracing();
    let state: &'static S = Box::leak(Box::new(state));
    lambda_runtime::run(lambda_runtime::service_fn(|event: LambdaEvent<E>| handler(state, event.payload))).await
}

/// What became of one queue message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done with: processed, or failed for good (recorded, or a malformed message logged).
    Settled,
    /// Failed for now: the queue delivers it again (after `maxReceiveCount` receives, to the
    /// dead-letter queue).
    Retry,
}

/// An SQS batch processed concurrently, for `ReportBatchItemFailures`: the messages whose
/// `process` answers `Outcome::Retry` are reported failed, so SQS redelivers only those.
#[cfg(feature = "events")]
pub async fn sqs_batch<F, Fut>(
    event: aws_lambda_events::event::sqs::SqsEvent,
    process: F,
) -> Result<aws_lambda_events::event::sqs::SqsBatchResponse, lambda_http::Error>
where
    F: Fn(aws_lambda_events::event::sqs::SqsMessage) -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
    let mut tasks = tokio::task::JoinSet::new();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let done = process(message);
        tasks.spawn(async move { (done.await == Outcome::Retry).then_some(id) });
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_is_about_the_most_specific_id_in_its_path_and_never_a_token() {
        let id = "64b8f0f5e4b0c3a1d5e6f7a8";
        let delivery = "64b8f0f5e4b0c3a1d5e6f7a9";
        assert_eq!(subject([("id", id)].into_iter()), Some(id));
        assert_eq!(subject([("id", id), ("delivery_id", delivery)].into_iter()), Some(delivery));
        assert_eq!(subject([("integration_id", id)].into_iter()), Some(id));
        assert_eq!(subject([("token", "q3Zb0m2r8Jx1V5nYwK7sT4eL9uH6aP0dF3gC2iB8kMo")].into_iter()), None);
        assert_eq!(subject([("id", "not-an-id")].into_iter()), None);
    }

    #[test]
    fn every_line_of_a_request_names_its_id_route_and_account() {
        let captured = Captured::default();
        let writer = captured.clone();
        let account = crate::platform::id::Id::generate();
        tracing::subscriber::with_default(json_logs(tracing::Level::INFO, move || writer.clone()), || {
            let _request = request_span("req-1", "GET /onboards/{id}", Some("o1")).entered();
            tracing::info!("before authentication");
            record_account(&account);
            tracing::info!(onboard = "o1", "after authentication");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert_eq!(line["span"]["request_id"], "req-1", "{line}");
            assert_eq!(line["span"]["route"], "GET /onboards/{id}", "{line}");
            assert_eq!(line["span"]["subject"], "o1", "{line}");
        }
        assert!(lines[0]["span"].get("account").is_none(), "no account before the key is checked: {}", lines[0]);
        assert_eq!(lines[1]["span"]["account"], account.to_string());
        assert_eq!(lines[1]["fields"]["onboard"], "o1");
    }
}
