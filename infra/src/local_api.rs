//! Serves template.yaml's routes like API Gateway's HTTP API: each request becomes a payload
//! v2.0 event, is decoded by lambda_http exactly as in Lambda, and goes to the function's handler.

use std::collections::HashMap;

use base64::Engine;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::{Body, Response};
use shared::ApiError;
use shared::platform::http::respond;

use functions::registry::Handler;
use crate::template::{Route, Template};

pub struct LocalApi {
    routes: Vec<(Route, Handler)>,
    /// The `$default` route: what answers a request no route takes.
    fallback: Option<(Route, Handler)>,
}

/// An HTTP request as it reaches API Gateway.
#[derive(Clone, Debug, Default)]
pub struct HttpRequest {
    pub method: String,
    /// Path and optional query string, e.g. `/invitations?status=pending`.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl LocalApi {
    /// Every template route needs a handler and every handler a route (a function may serve
    /// several: a page's GET and HEAD).
    pub fn new(template: &Template, handlers: HashMap<&'static str, Handler>) -> Result<LocalApi, String> {
        let mut unused: std::collections::HashSet<&str> = handlers.keys().copied().collect();
        let mut handler_of = |route: Route| {
            let handler = handlers.get(route.binary.as_str()).ok_or(format!("no handler for function {}", route.binary))?.clone();
            unused.remove(route.binary.as_str());
            Ok::<_, String>((route, handler))
        };
        let routes = template.routes()?.into_iter().map(&mut handler_of).collect::<Result<Vec<_>, _>>()?;
        let fallback = template.default_route()?.map(&mut handler_of).transpose()?;
        if let Some(name) = unused.iter().next() {
            return Err(format!("function {name} has a handler but no route in template.yaml"));
        }
        Ok(LocalApi { routes, fallback })
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().map(|(r, _)| r)
    }

    /// The route API Gateway would pick for `method path`.
    pub fn route_for(&self, method: &str, path: &str) -> Option<&Route> {
        self.route(method, path).map(|(route, _, _)| route)
    }

    /// API Gateway's choice: the matching route with the most literal segments.
    fn route(&self, method: &str, path: &str) -> Option<(&Route, &Handler, HashMap<String, String>)> {
        self.routes
            .iter()
            .filter(|(r, _)| r.method == method || r.method == "ANY")
            .filter_map(|(r, h)| match_path(&r.path, path).map(|params| (r, h, params)))
            .max_by_key(|(r, _, _)| r.path.split('/').filter(|s| !s.starts_with('{')).count())
    }

    /// Answers `request` as API Gateway and the route's function would, and writes one JSON
    /// access-log line: request id, method, route (never the raw path: it can hold a link's
    /// token), status and duration. The request id is also the `apigw-requestid` header, as API
    /// Gateway sends it.
    pub async fn dispatch(&self, request: HttpRequest) -> Response<Body> {
        use tracing::Instrument;
        let started = std::time::Instant::now();
        let request_id = shared::Id::generate().to_string();
        let (path, query) = request.uri.split_once('?').unwrap_or((&request.uri, ""));
        let (route_key, mut response) = if request.method == "GET" && path == HEALTH_PATH {
            // The local stack's readiness: it answers once the stack exists and the API listens.
            (format!("GET {HEALTH_PATH}"), json_response(200, serde_json::json!({ "status": "ok" })))
        } else if let Some((route, handler, params)) = self.route(&request.method, path).or_else(|| self.fallback.as_ref().map(|(r, h)| (r, h, HashMap::new()))) {
            let route_key = route_key(route);
            let event = api_gateway_event(route, &request, path, query, &params, &request_id);
            let request = serde_json::from_value::<ApiGatewayV2httpRequest>(event)
                .map_err(|err| ApiError::BadRequest(err.to_string()))
                .and_then(shared::platform::lambda::api_request);
            let response = match request {
                Ok(request) => {
                    let subject = shared::platform::lambda::subject(params.iter().map(|(name, value)| (name.as_str(), value.as_str())));
                    let span = shared::platform::lambda::request_span(&request_id, &route_key, subject);
                    handler(request).instrument(span).await
                }
                Err(err) => respond(Err(err)),
            };
            (route_key, response)
        } else {
            let details = format!("no route for {} {path}", request.method);
            ("-".to_string(), json_response(404, serde_json::json!({ "error": "not found", "details": details })))
        };
        if let Ok(value) = lambda_http::http::HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("apigw-requestid", value);
        }
        tracing::info!(
            request_id = %request_id,
            method = %request.method,
            route = %route_key,
            status = response.status().as_u16(),
            duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
            "request"
        );
        response
    }
}

/// API Gateway's `routeKey`: `METHOD /path`, or `$default`.
fn route_key(route: &Route) -> String {
    if route.path == crate::template::DEFAULT_ROUTE { route.path.clone() } else { format!("{} {}", route.method, route.path) }
}

/// The local stack's readiness route (not a function of the template: nothing to deploy).
pub const HEALTH_PATH: &str = "/health";

fn json_response(status: u16, body: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(status).unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert("content-type", lambda_http::http::HeaderValue::from_static("application/json"));
    response
}

/// Path parameters if `template` (`/a/{id}/b`) matches `path`.
fn match_path(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    if t.len() != p.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (t, p) in t.iter().zip(&p) {
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) if !p.is_empty() => {
                params.insert(name.to_string(), percent_decode(p));
            }
            Some(_) => return None,
            None if t == p => {}
            None => return None,
        }
    }
    Some(params)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex()) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The payload format 2.0 event API Gateway would send for this request.
pub fn api_gateway_event(route: &Route, request: &HttpRequest, path: &str, query: &str, params: &HashMap<String, String>, request_id: &str) -> serde_json::Value {
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &request.headers {
        headers.entry(name.to_ascii_lowercase()).and_modify(|v| *v = format!("{v},{value}")).or_insert_with(|| value.clone());
    }
    // API Gateway tells functions the scheme the client used; locally that is plain HTTP.
    headers.entry("x-forwarded-proto".into()).or_insert_with(|| "http".into());
    let mut query_params: HashMap<String, String> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.entry(percent_decode(name)).and_modify(|v| *v = format!("{v},{}", percent_decode(value))).or_insert_with(|| percent_decode(value));
    }
    let (body, is_base64) = match std::str::from_utf8(&request.body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(&request.body), true),
    };
    let route_key = route_key(route);
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": shared::platform::time::now(),
            "timeEpoch": 0,
        },
        "isBase64Encoded": is_base64,
    });
    if !query_params.is_empty() {
        event["queryStringParameters"] = serde_json::json!(query_params);
    }
    if !params.is_empty() {
        event["pathParameters"] = serde_json::json!(params);
    }
    if !request.body.is_empty() {
        event["body"] = serde_json::Value::String(body);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_templates_and_decode_parameters() {
        assert_eq!(match_path("/invitations/{id}", "/invitations/a%20b").unwrap()["id"], "a b");
        assert!(match_path("/invitations/{id}", "/invitations/").is_none());
        assert!(match_path("/invitations/{id}", "/invitations/a/accept").is_none());
        assert!(match_path("/invitations/claim", "/invitations/claim").unwrap().is_empty());
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%2Fb+c%zz%"), "a/b c%zz%");
    }
}

/// Serves `api` over HTTP/1.1 on `listener` until the process ends.
pub async fn serve(api: std::sync::Arc<LocalApi>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;

    loop {
        let (stream, _) = listener.accept().await?;
        let api = api.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let api = api.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
                    let request = HttpRequest {
                        method: parts.method.to_string(),
                        uri: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| parts.uri.path().to_string()),
                        headers: parts.headers.iter().filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_string()))).collect(),
                        body,
                    };
                    // Lambda runs an invocation to completion whether or not the caller is still
                    // there; hyper drops this future when the client disconnects, so the
                    // handler runs on a task of its own, as it would in Lambda.
                    let response = match tokio::spawn(async move { api.dispatch(request).await }).await {
                        Ok(response) => response,
                        Err(err) => respond(Err(ApiError::Internal(format!("handler task: {err}")))),
                    };
                    let (parts, body) = response.into_parts();
                    let bytes = match body {
                        Body::Text(text) => Bytes::from(text),
                        Body::Binary(bytes) => Bytes::from(bytes),
                        _ => Bytes::new(),
                    };
                    Ok::<_, std::convert::Infallible>(hyper::Response::from_parts(parts, Full::new(bytes)))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(err) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                tracing::debug!(error = %err, "connection closed");
            }
        });
    }
}
