//! HTTP in and out: request bodies, path and query parameters, JSON responses, pages.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::lists::{Page, PageRequest};

/// Bodies here are small JSON documents; anything larger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub type HandlerResult = Result<Response<Body>, ApiError>;

/// The raw body bytes, as the client sent them (what signatures are computed over).
pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The raw body bytes, up to `MAX_BODY_BYTES` (over the limit → 413).
pub fn bounded_body(req: &Request) -> Result<&[u8], ApiError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY_BYTES { Err(ApiError::PayloadTooLarge { size: bytes.len(), limit: MAX_BODY_BYTES }) } else { Ok(bytes) }
}

/// Parses a JSON object body: over the limit → 413, not JSON → 400, wrong shape → 422 naming the
/// field (`serde_path_to_error` gives the path for nested fields).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = bounded_body(req)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidJson("a JSON object body is required".into()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::validation("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        ApiError::validation(field_name(&path, &message), message)
    })
}

/// For endpoints whose body is optional: absent or empty is the default.
pub fn optional_json_body<T: DeserializeOwned + Default>(req: &Request) -> Result<T, ApiError> {
    if body_bytes(req).iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { json_body(req) }
}

/// serde reports a missing field on the parent object (the path of an unknown or mistyped field
/// already ends with it); name the field itself.
fn field_name(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(field)) => field.to_string(),
        (parent, Some(field)) => format!("{parent}.{field}"),
        (".", None) => "body".to_string(),
        (path, None) => path.to_string(),
    }
}

pub fn path_id(req: &Request, name: &str) -> Result<Id, ApiError> {
    let params = req.path_parameters();
    let raw = params.first(name).ok_or_else(|| ApiError::BadRequest(format!("missing path parameter {name}")))?;
    Ok(Id::from_path(raw)?)
}

/// A path parameter that is not one of our ids (a provider's id, validated by the caller).
pub fn path_text(req: &Request, name: &str) -> Result<String, ApiError> {
    let params = req.path_parameters();
    params.first(name).map(str::to_string).ok_or_else(|| ApiError::BadRequest(format!("missing path parameter {name}")))
}

/// The API's public origin as the stack configures it (`API_URL`: a custom domain, or the local
/// API's address), read from the function's `Env` and attached to each request by the glue that
/// serves the function (`platform::lambda::serve`, the local API's registry).
#[derive(Clone, Debug, Default)]
pub struct ConfiguredOrigin(Option<String>);

impl ConfiguredOrigin {
    pub fn from_env(env: &crate::platform::config::Env) -> ConfiguredOrigin {
        ConfiguredOrigin(env.optional("API_URL").map(|url| url.trim_end_matches('/').to_string()))
    }

    /// `req`, knowing it.
    pub fn attach(&self, mut req: Request) -> Request {
        req.extensions_mut().insert(self.clone());
        req
    }
}

/// The API's public origin (`https://host`), for the absolute URLs we hand out: the configured
/// one (`ConfiguredOrigin`), else the domain API Gateway served the request on. Never a request
/// header: `Host` and `X-Forwarded-*` are the client's to choose, and a link built from them
/// would point wherever the caller likes.
pub fn api_origin(req: &Request) -> String {
    if let Some(ConfiguredOrigin(Some(url))) = req.extensions().get::<ConfiguredOrigin>() {
        return url.clone();
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => format!("https://{}", context.domain_name.as_deref().unwrap_or("localhost")),
        _ => "https://localhost".to_string(),
    }
}

/// Whether a browser asks (`Accept: text/html`): such routes answer it with a page.
pub fn wants_page(req: &Request) -> bool {
    // A HEAD asks about what a link opens in a browser: the page.
    req.method() == lambda_http::http::Method::HEAD
        || req.headers().get("accept").and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
}

pub fn page_request(req: &Request) -> Result<PageRequest, ApiError> {
    PageRequest::from_query(query_param(req, "limit").as_deref(), query_param(req, "cursor").as_deref())
}

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HandlerResult {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Internal(format!("serializing response: {e}")))?;
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(text))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// How long a browser or proxy may keep a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caching {
    /// A page showing one person's data, or reached by a URL with a token: never kept.
    NoStore,
    /// The same page for everyone (the API's reference), kept five minutes.
    Public,
}

/// Every HTML response the API gives, with one header set: `policy` (the page's own
/// Content-Security-Policy sources) plus what every page gets — no forms posted, no `<base>`,
/// never framed (also `X-Frame-Options` for old browsers), no MIME sniffing, no referrer (a URL
/// may carry a token).
pub fn html(body: String, policy: &str, caching: Caching) -> HandlerResult {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", format!("{policy}; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"))
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("cache-control", match caching {
            Caching::NoStore => "no-store",
            Caching::Public => "public, max-age=300",
        })
        .body(Body::Text(body))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn no_content() -> HandlerResult {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A single resource with its version as a strong `ETag`, for `If-Match` on updates.
pub fn with_etag<T: Serialize>(status: StatusCode, body: &T, version: u64) -> HandlerResult {
    let mut response = json(status, body)?;
    response.headers_mut().insert("etag", header(&format!("\"{version}\""))?);
    Ok(response)
}

/// The version in `If-Match` (`"3"` or `3`), if the client sent one. A tag that is none of our
/// versions can match no version: the precondition fails (409, as a stale version does).
pub fn if_match(req: &Request) -> Result<Option<u64>, ApiError> {
    // An empty header states no version, and `*` any version (RFC 9110): the same as none.
    let Some(value) = req.headers().get("if-match").filter(|v| !matches!(v.as_bytes().trim_ascii(), b"" | b"*")) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim().trim_start_matches("W/").trim_matches('"');
    text.parse().map(Some).map_err(|_| ApiError::Conflict("not updated: If-Match names no version of this resource (its ETag is a version, like \"3\")".into()))
}

/// A list is a JSON array (the seeds' list shape); the next page is named by `X-Next-Cursor`
/// and an RFC 8288 `Link: <...>; rel="next"` header.
pub fn page<T: Serialize>(req: &Request, page: &Page<T>) -> HandlerResult {
    with_next_page(req, json(StatusCode::OK, &page.items)?, page.next_cursor.as_deref())
}

/// Seed 001's list shape, `{"<name>": [...]}`, paged the same way.
pub fn named_page<T: Serialize>(req: &Request, name: &str, page: &Page<T>) -> HandlerResult {
    with_next_page(req, named(StatusCode::OK, name, &page.items)?, page.next_cursor.as_deref())
}

fn with_next_page(req: &Request, mut response: Response<Body>, cursor: Option<&str>) -> HandlerResult {
    if let Some(cursor) = cursor {
        let mut query: Vec<String> = vec![format!("cursor={cursor}")];
        if let Some(limit) = query_param(req, "limit") {
            query.push(format!("limit={}", percent_encode(&limit)));
        }
        for (name, value) in req.query_string_parameters().iter() {
            if name != "cursor" && name != "limit" {
                query.push(format!("{}={}", percent_encode(name), percent_encode(value)));
            }
        }
        let link = format!("<{}?{}>; rel=\"next\"", req.raw_http_path(), query.join("&"));
        let headers = response.headers_mut();
        headers.insert("x-next-cursor", header(cursor)?);
        headers.insert("link", header(&link)?);
    }
    Ok(response)
}

/// Seed 001's single-resource shape, `{"<name>": {...}}`.
pub fn named<T: Serialize + ?Sized>(status: StatusCode, name: &str, value: &T) -> HandlerResult {
    json(status, &std::collections::BTreeMap::from([(name, value)]))
}

/// RFC 3986 unreserved characters stay, every other byte is %XX: safe in a header and a URL.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn header(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(|e| ApiError::Internal(format!("header value: {e}")))
}

/// The response for a handler's result: errors become `{"error", "details"}` with their status.
/// Internal errors are logged here, once, with what the client is not told.
pub fn respond(result: HandlerResult) -> Response<Body> {
    result.unwrap_or_else(|err| {
        if let ApiError::Internal(_) | ApiError::BadGateway { .. } | ApiError::Unavailable(_) = &err {
            tracing::error!(error = %err, "request failed");
        }
        let mut response = Response::new(Body::Text(err.body().to_string()));
        *response.status_mut() = err.status();
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        match &err {
            ApiError::TooManyRequests { retry_after, .. } => {
                response.headers_mut().insert("retry-after", HeaderValue::from(*retry_after));
            }
            ApiError::Unavailable(_) => {
                response.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                if let Ok(allow) = HeaderValue::from_str(allow) {
                    response.headers_mut().insert("allow", allow);
                }
            }
            _ => {}
        }
        response
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Invite {
        email: String,
        nested: Option<Nested>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    fn request(body: &str) -> Request {
        Request::new(Body::Text(body.to_string()))
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Validation { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn body_errors_have_the_right_status_and_field() {
        assert_eq!(json_body::<Invite>(&request("{")).unwrap_err().status().as_u16(), 400);
        assert_eq!(json_body::<Invite>(&request("")).unwrap_err().status().as_u16(), 400);
        assert_eq!(field_of(json_body::<Invite>(&request("{}")).unwrap_err()), "email");
        assert_eq!(field_of(json_body::<Invite>(&request(r#"{"email": 5}"#)).unwrap_err()), "email");
        assert_eq!(field_of(json_body::<Invite>(&request(r#"{"email":"a","emial":"b"}"#)).unwrap_err()), "emial");
        assert_eq!(
            field_of(json_body::<Invite>(&request(r#"{"email":"a","nested":{"count":"x"}}"#)).unwrap_err()),
            "nested.count"
        );
        assert_eq!(field_of(json_body::<Invite>(&request("[]")).unwrap_err()), "body");
        let huge = format!(r#"{{"email":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert_eq!(json_body::<Invite>(&request(&huge)).unwrap_err().status().as_u16(), 413);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(percent_encode("pending"), "pending");
    }

    #[test]
    fn errors_render_as_json_with_their_status() {
        let response = respond(Err(ApiError::NotFound("invitation")));
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], "application/json");
        let Body::Text(text) = response.body() else { panic!("text body expected") };
        let body: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["error"], "not found");
        assert_eq!(body["details"], "invitation not found");
    }
}
