//! The Lambda entry point every HTTP function shares: tracing set up once, the function's
//! clients built once per cold start and lent to every invocation.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::header::{HOST, SET_COOKIE};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::error::ApiError;
use crate::http::{HandlerResult, respond};

/// JSON logs for CloudWatch (which timestamps them). `RUST_LOG` sets the level (`error` …
/// `trace`); a plain level rather than directives keeps the regex engine out of every binary.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt().json().with_max_level(level).with_target(false).without_time().init();
}

/// Serves `handler` with `state` (its SDK clients and settings) until the runtime stops.
///
/// API Gateway's event is turned into a request here rather than by `lambda_http::run`, which
/// panics on forwarding headers that do not form a URL (see `api_request`).
pub async fn run<S, F, Fut>(state: S, handler: F) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    F: Fn(&'static S, Request) -> Fut,
    Fut: Future<Output = HandlerResult> + Send,
{
    init_tracing();
    // Lives as long as the process: built once at cold start, shared by every invocation.
    let state: &'static S = Box::leak(Box::new(state));
    lambda_runtime::run(lambda_runtime::service_fn(|event: LambdaEvent<ApiGatewayV2httpRequest>| {
        // Boxed, as lambda_http boxes it: the handler's future nests deep enough in the
        // runtime's types to overflow the compiler's query depth otherwise.
        let response = api_request(event.payload).map(|req| Box::pin(handler(state, req.with_lambda_context(event.context))));
        async move {
            let result = match response {
                Ok(response) => response.await,
                Err(err) => Err(err),
            };
            Ok::<_, Infallible>(api_response(respond(result)))
        }
    }))
    .await
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
pub async fn run_events<S, E, R, F, Fut>(state: S, handler: F) -> Result<(), lambda_http::Error>
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
