//! Partner reports: what an account's leads did over time — as a whole, per flow, per source and
//! per connection — by the hour or the day, in JSON or CSV (`Accept: text/csv`). Figures come
//! from the table's stream (`lead-figures`), a few seconds behind the leads.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::collections::BTreeMap;

use shared::leads::domain::reports::{Bucket, Dimension, Figures, Report, ReportRange};
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
/// the same for both: the leads that went over it); `?direction=sent|received|both` (the default):
/// the leads the caller sent over it, those its partner sent, or all.
pub async fn connection(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    let from = match query_param(&req, "direction").as_deref() {
        None | Some("both") => vec![Side::Mine, Side::Theirs],
        Some("sent") => vec![Side::Mine],
        Some("received") => vec![Side::Theirs],
        Some(_) => return Err(ApiError::BadRequest("direction: must be sent, received or both".into())),
    };
    let connection = db.partners().connection(&caller.account_id, &id).await?.ok_or(ApiError::NotFound("connection"))?;
    let dimensions = from.into_iter().map(|side| Dimension::Connection {
        connection: connection.id.clone(),
        from: match side {
            Side::Mine => connection.account_id.clone(),
            Side::Theirs => connection.connected_account.id.clone(),
        },
    });
    report_of(db, &req, &dimensions.collect::<Vec<_>>()).await
}

enum Side {
    Mine,
    Theirs,
}

async fn report(db: &Db, req: &Request, dimension: Dimension) -> HandlerResult {
    report_of(db, req, &[dimension]).await
}

/// The sum of `dimensions`' reports over the range the request asks for.
async fn report_of(db: &Db, req: &Request, dimensions: &[Dimension]) -> HandlerResult {
    let range = ReportRange::parse(query_param(req, "granularity").as_deref(), query_param(req, "from").as_deref(), query_param(req, "to").as_deref(), &time::now()[..10])?;
    let leads = db.leads();
    let mut buckets: BTreeMap<Bucket, Figures> = BTreeMap::new();
    for dimension in dimensions {
        for (bucket, figures) in leads.report(dimension, &range).await? {
            buckets.entry(bucket).or_default().add(&figures);
        }
    }
    let report = Report::new(&range, &buckets);
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
