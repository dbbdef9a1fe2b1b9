//! `GET /integrations/{id}/redirect`: where 360dialog sends the client's browser after it grants channels.
//!
//! Public and unauthenticated, so what it records are claims; only partner-hub events set a
//! channel's status. Answers with a small page, or sends the browser on to the integration's
//! `redirect_url` with the same query.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::channel::Redirect;
use shared::http::{HandlerResult, path_id, query_param};
use shared::{ApiError, Db};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let id = path_id(&req, "id")?;
    let param = |name| query_param(&req, name);
    let redirect = Redirect::parse(param("client").as_deref(), param("channels").as_deref(), param("revoked").as_deref())?;
    let integration = db.dialog_integration(&id).await?;
    db.record_redirect(&integration, &redirect).await?;
    let response = match integration.redirect_url {
        Some(onward) => {
            let separator = if onward.contains('?') { '&' } else { '?' };
            let query = req.uri().query().unwrap_or_default();
            Response::builder().status(StatusCode::FOUND).header("location", format!("{onward}{separator}{query}")).body(Body::Empty)
        }
        None => Response::builder().status(StatusCode::OK).header("content-type", "text/html; charset=utf-8").body(Body::Text(page(&redirect))),
    };
    response.map_err(|e| ApiError::Internal(e.to_string()))
}

/// Ids are validated to `[A-Za-z0-9_-]`, so they need no escaping.
fn page(redirect: &Redirect) -> String {
    let granted = redirect.granted.len();
    let revoked = if redirect.revoked.is_empty() { String::new() } else { format!(" Permission was removed from {} number(s).", redirect.revoked.len()) };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Channels connected</title></head>\
         <body><h1>Thank you</h1><p>{granted} WhatsApp number(s) connected.{revoked} \
         Setup finishes in the background; you can close this window.</p></body></html>"
    )
}
