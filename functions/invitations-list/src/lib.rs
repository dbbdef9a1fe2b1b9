//! `GET /invitations`: sent and received, newest first; `?status=`, `?direction=sent|received`, `?limit=`, `?cursor=`.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::domain::invitation::{Direction, Invitation, InvitationStatus};
use shared::http::{HandlerResult, page, page_request, query_param};
use shared::keys::prefix;
use shared::store::invitations::invitation_filter;
use shared::{ApiError, Db, time};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let status = enum_param::<InvitationStatus>(&req, "status")?;
    let direction = enum_param::<Direction>(&req, "direction")?;
    let now = time::now();
    let filter = invitation_filter(status, direction, &now)?;
    let mut listed = db.list::<Invitation>(&caller.account_id, prefix::INVITATION, &page_request(&req)?, filter).await?;
    listed.items = listed.items.into_iter().map(|i| i.as_seen_at(&now)).collect();
    page(&req, &listed)
}

fn enum_param<T: serde::de::DeserializeOwned>(req: &Request, name: &str) -> Result<Option<T>, ApiError> {
    query_param(req, name)
        .map(|raw| serde_json::from_value(serde_json::Value::String(raw.clone())).map_err(|_| ApiError::BadRequest(format!("unknown {name} '{raw}'"))))
        .transpose()
}
