//! The API's own documentation, public.

use lambda_http::{Body, Request, Response};
use lambda_http::http::StatusCode;
use shared::ApiError;
use shared::platform::http::{Caching, HandlerResult, html, wants_page};

const PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/docs.html"));

/// `GET /docs`: the API's reference as a page, rendered from openapi.yaml when built (build.rs).
pub async fn page(_: &(), _: Request) -> HandlerResult {
    // Static, self-contained: no script, no outside resource.
    html(PAGE.to_string(), "default-src 'none'; style-src 'unsafe-inline'", Caching::Public)
}

/// Compiled in: the document is the one this build was tested against.
pub const DOCUMENT: &str = include_str!("../../openapi.yaml");

/// `GET /openapi.yaml`: the API's contract, public, exactly the file the tests check the API
/// against. A browser gets it as text, to read, rather than a download.
pub async fn openapi(_: &(), req: Request) -> HandlerResult {
    let content_type = if wants_page(&req) { "text/plain; charset=utf-8" } else { "application/yaml" };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "public, max-age=300")
        .body(Body::Text(DOCUMENT.to_string()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}
