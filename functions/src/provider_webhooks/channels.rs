//! WhatsApp channels granted through 360dialog: listed, read, their API key generated, and the
//! browser redirect after a client grants them.

use lambda_http::{Body, Request, Response};
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::auth::authenticate;
use shared::provider_webhooks::domain::channel::Redirect;
use shared::platform::http::{Caching, HandlerResult, html, json, page, page_request, path_id, path_text, query_param};
use shared::platform::idempotency::once;
use shared::provider_webhooks::partner_api::PartnerApi;

/// `GET /integrations/{id}/redirect`: where 360dialog sends the client's browser after it grants channels.
///
/// Public and unauthenticated, so what it records are claims; only partner-hub events set a
/// channel's status. Answers with a small page, or sends the browser on to the integration's
/// `redirect_url` with the same query.
pub async fn redirect(db: &Db, req: Request) -> HandlerResult {
    let id = path_id(&req, "id")?;
    let param = |name| query_param(&req, name);
    let redirect = Redirect::parse(param("client").as_deref(), param("channels").as_deref(), param("revoked").as_deref())?;
    let integration = db.provider_webhooks().dialog_integration(&id).await?;
    db.provider_webhooks().record_redirect(&integration, &redirect).await?;
    match integration.redirect_url {
        Some(onward) => {
            let separator = if onward.contains('?') { '&' } else { '?' };
            let query = req.uri().query().unwrap_or_default();
            Response::builder()
                .status(StatusCode::FOUND)
                .header("location", format!("{onward}{separator}{query}"))
                .header("cache-control", "no-store")
                .body(Body::Empty)
                .map_err(|e| ApiError::Internal(e.to_string()))
        }
        // No script, no style, nothing from elsewhere.
        None => html(thank_you_page(&redirect), "default-src 'none'", Caching::NoStore),
    }
}

/// Ids are validated to `[A-Za-z0-9_-]`, so they need no escaping.
fn thank_you_page(redirect: &Redirect) -> String {
    let granted = redirect.granted.len();
    let revoked = if redirect.revoked.is_empty() { String::new() } else { format!(" Permission was removed from {} number(s).", redirect.revoked.len()) };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Channels connected</title></head>\
         <body><h1>Thank you</h1><p>{granted} WhatsApp number(s) connected.{revoked} \
         Setup finishes in the background; you can close this window.</p></body></html>"
    )
}

/// `POST /channels/{id}/api-key`: generate a running channel's API key through 360dialog's Partner API.
pub async fn api_key(api: &PartnerApi, req: Request) -> HandlerResult {
    let caller = authenticate(&api.db, &req).await?;
    once(&api.db, &caller.account_id, &req, async {
        let (channel, key) = api.create_channel_api_key(&caller.account_id, &path_text(&req, "id")?).await?;
        json(StatusCode::CREATED, &serde_json::json!({ "channel_id": channel.id, "api_key": key.api_key, "address": key.address, "app_id": key.app_id }))
    })
    .await
}

/// `GET /channels/{id}`: one 360dialog channel.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.provider_webhooks().channel(&caller.account_id, &path_text(&req, "id")?).await?)
}

/// `GET /channels`: the account's 360dialog channels with status and claims.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    page(&req, &db.provider_webhooks().channels(&caller.account_id, &page_request(&req)?).await?)
}
