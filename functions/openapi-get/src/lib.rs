//! `GET /openapi.yaml`: the API's contract, public, exactly the file the tests check the API against.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::ApiError;
use shared::http::HandlerResult;

/// Compiled in: the document is the one this build was tested against.
pub const DOCUMENT: &str = include_str!("../../../openapi.yaml");

pub async fn handle(_: &(), _: Request) -> HandlerResult {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/yaml")
        .header("cache-control", "public, max-age=300")
        .body(Body::Text(DOCUMENT.to_string()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}
