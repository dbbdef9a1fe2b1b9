//! Partner reports: what an account's leads did over time — as a whole, per flow, per source and
//! per connection — by the hour or the day, in JSON or CSV (`Accept: text/csv`). Figures come
//! from the table's stream (`lead-figures`), a few seconds behind the leads.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::leads::domain::reports::{Dimension, Report, ReportRange};
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, path_id, query_param};
use shared::platform::time;
use shared::{ApiError, Db};

/// `GET /reports/account`: the caller's account.
pub async fn account(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    report(db, &req, Dimension::Account(caller.account_id)).await
}

/// `GET /reports/flows/{id}`: one of the caller's flows (another account's is a 404).
pub async fn flow(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    db.onboards().flow(&caller.account_id, &id).await?.ok_or(ApiError::NotFound("flow"))?;
    report(db, &req, Dimension::Flow { account: caller.account_id, flow: id }).await
}

/// `GET /reports/sources/{id}`: one of the caller's partners (an entity) as a source of any of
/// its flows.
pub async fn source(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    db.partners().entity(&caller.account_id, &id).await?.ok_or(ApiError::NotFound("entity"))?;
    report(db, &req, Dimension::Source { account: caller.account_id, entity: id }).await
}

/// `GET /reports/connections/{id}`: one of the caller's connections, either side (the report is
/// the same for both: the leads that went over it).
pub async fn connection(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    let connection = db.partners().connection(&caller.account_id, &id).await?.ok_or(ApiError::NotFound("connection"))?;
    report(db, &req, Dimension::Connection(connection.id)).await
}

async fn report(db: &Db, req: &Request, dimension: Dimension) -> HandlerResult {
    let range = ReportRange::parse(query_param(req, "granularity").as_deref(), query_param(req, "from").as_deref(), query_param(req, "to").as_deref(), &time::now()[..10])?;
    let report = Report::new(&range, &db.leads().report(&dimension, &range).await?);
    let wants_csv = req.headers().get("accept").and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return json(StatusCode::OK, &report);
    }
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", format!("attachment; filename=\"report-{}-{}.csv\"", report.from, report.to))
        .body(Body::Text(report.to_csv()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}
