//! `GET /docs`: the API's reference as a page, rendered from openapi.yaml when built (build.rs).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::ApiError;
use shared::http::HandlerResult;

const PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/docs.html"));

pub async fn handle(_: &(), _: Request) -> HandlerResult {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        // Static, self-contained: no script, no outside resource.
        .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
        .body(Body::Text(PAGE.to_string()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}
