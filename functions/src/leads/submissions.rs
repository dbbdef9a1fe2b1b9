//! Submissions: a source sends a lead to a partner's flow with its own API key, and reads how
//! to do that (the submission documents).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::leads::domain::lead::parse_fields;
use shared::leads::docs_mail::SubmissionDocsMail;
use shared::leads::service::Leads;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, api_origin, bounded_body, json, path_id, wants_page};
use shared::platform::idempotency::{keep_with_effect, once};

use crate::pages;

/// `POST /flows/{id}/sources/{source_id}/submit`: a lead, as JSON or a form; the answer is its
/// outcome (`success` or `failure` with the `reason`) and id, LeadConduit's shape.
pub async fn submit(leads: &Leads, req: Request) -> HandlerResult {
    let caller = authenticate(&leads.db, &req).await?;
    once(&leads.db, &caller.account_id, &req, async {
        let form = req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let fields = parse_fields(form, bounded_body(&req)?)?;
        let lead = leads.receive(&caller.account_id, &path_id(&req, "id")?, &path_id(&req, "source_id")?, fields).await?;
        // The receipt is known before the lead is stored: a retry with the key replays it, the
        // lead and its receipt being written in one transaction.
        let receipt = json(StatusCode::OK, &lead.receipt())?;
        keep_with_effect(&receipt)?;
        leads.store(&lead).await?;
        Ok(receipt)
    })
    .await
}

/// `GET /flows/{id}/sources/{source_id}/docs`: the submission documents for a source that may
/// submit there, as JSON; a browser (`Accept: text/html`) gets the page, which asks for the
/// source's API key (or, for a signed-in person, uses the session) and shows the same documents
/// (the page itself holds no data of the flow).
pub async fn docs(leads: &Leads, req: Request) -> HandlerResult {
    if wants_page(&req) {
        return pages::SUBMISSION_DOCS.respond(&serde_json::json!({ "person": pages::person(&leads.db, &req).await? }));
    }
    let caller = authenticate(&leads.db, &req).await?;
    json(StatusCode::OK, &leads.docs(&caller.account_id, &path_id(&req, "id")?, &path_id(&req, "source_id")?, &api_origin(&req)).await?)
}

/// `GET /connections/{id}/submission-docs`: for a connected source, the partner's flows it may
/// send leads to, each with its submission documents' link.
pub async fn flows(leads: &Leads, req: Request) -> HandlerResult {
    let caller = authenticate(&leads.db, &req).await?;
    json(StatusCode::OK, &leads.submission_flows(&caller.account_id, &path_id(&req, "id")?, &api_origin(&req)).await?)
}

/// `POST /connections/{id}/submission-docs/resend`: the seller emails a source partner the
/// flows it may send to, again (at most once a minute per connection; Idempotency-Key makes a
/// retry answer the first send's result).
pub async fn resend(mail: &SubmissionDocsMail, req: Request) -> HandlerResult {
    let db = &mail.leads.db;
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let sent = mail.resend(&caller.account_id, &path_id(&req, "id")?, &api_origin(&req)).await?;
        json(StatusCode::OK, &serde_json::json!({ "status": "sent", "flows": sent.flows, "recipients": sent.recipients }))
    })
    .await
}
