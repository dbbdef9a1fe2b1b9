//! The leads a flow's account received: its own sources' and those its partners delivered.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, page, page_request, path_id};

/// `GET /flows/{id}/leads`: the flow's leads, newest first (another account's flow is a 404).
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let (flow, paging) = (path_id(&req, "id")?, page_request(&req)?);
    db.onboards().flow(&caller.account_id, &flow).await?.ok_or(ApiError::NotFound("flow"))?;
    page(&req, &db.leads().leads_of_flow(&caller.account_id, &flow, &paging).await?)
}

/// `GET /leads/{id}`: one of the account's leads, with each buyer step's outcome.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.leads().lead(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("lead"))?)
}
