//! The leads a flow's account received: its own sources' and those its partners delivered.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::auth::authenticate;
use shared::leads::domain::lead::Outcome;
use shared::platform::http::{HandlerResult, json, page, page_request, path_id, query_param};
use shared::platform::id::Id;
use shared::store::leads::LeadFilter;

/// `GET /flows/{id}/leads`: the flow's leads, newest first, optionally only one source's or one
/// outcome's (another account's flow is a 404).
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let (flow, paging, only) = (path_id(&req, "id")?, page_request(&req)?, lead_filter(&req)?);
    db.onboards().flow(&caller.account_id, &flow).await?.ok_or(ApiError::NotFound("flow"))?;
    page(&req, &db.leads().leads_of_flow(&caller.account_id, &flow, &paging, &only).await?)
}

/// `?source=` (one of the flow's sources, by its id) and `?outcome=` (`success`, `failure`).
fn lead_filter(req: &Request) -> Result<LeadFilter, ApiError> {
    let source = query_param(req, "source").map(|s| Id::parse(&s).ok_or_else(|| ApiError::BadRequest("source: must be a source id of the flow".into()))).transpose()?;
    let outcome = match query_param(req, "outcome").as_deref() {
        None => None,
        Some("success") => Some(Outcome::Success),
        Some("failure") => Some(Outcome::Failure),
        Some(_) => return Err(ApiError::BadRequest("outcome: must be success or failure".into())),
    };
    Ok(LeadFilter { source, outcome })
}

/// `GET /leads/{id}`: one of the account's leads, with each buyer step's outcome.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.leads().lead(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("lead"))?)
}
