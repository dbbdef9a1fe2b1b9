//! `GET /api/v1/clients`: the account's clients, optionally `?campaign_id=`.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, named_page, page_request, query_param};
use shared::{Db, Id};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let campaign = query_param(&req, "campaign_id").map(|id| Id::from_path(&id)).transpose()?;
    if let Some(id) = &campaign {
        db.campaign(&caller.account_id, id).await?;
    }
    named_page(&req, "clients", &db.clients(&caller.account_id, campaign.as_ref(), &page_request(&req)?).await?)
}
