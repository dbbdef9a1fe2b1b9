//! `DELETE /api/v1/webhooks/{id}`: stop sending to an endpoint.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, no_content, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    db.delete_endpoint(&caller.account_id, &path_id(&req, "id")?).await?;
    no_content()
}
