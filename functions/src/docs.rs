//! The API's own documentation, public.

use lambda_http::{Body, Request, Response};
use lambda_http::http::StatusCode;
use shared::ApiError;
use shared::platform::http::{Caching, HandlerResult, html};

const PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/docs.html"));

/// `GET /docs`: the API's reference as a page, rendered from openapi.yaml when built (build.rs).
pub async fn page(_: &(), _: Request) -> HandlerResult {
    // Static, self-contained: no script, no outside resource.
    html(PAGE.to_string(), "default-src 'none'; style-src 'unsafe-inline'", Caching::Public)
}

/// Compiled in: the document is the one this build was tested against.
pub const DOCUMENT: &str = include_str!("../../openapi.yaml");

/// `GET /openapi.yaml`: the API's contract, public, exactly the file the tests check the API against.
pub async fn openapi(_: &(), _: Request) -> HandlerResult {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/yaml")
        .header("cache-control", "public, max-age=300")
        .body(Body::Text(DOCUMENT.to_string()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}
