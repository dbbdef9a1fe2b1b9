//! Invitations: sent to a partner by email or account, accepted, declined, revoked, resent, or
//! claimed through the emailed link.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::{ApiError, Db, Id};
use shared::platform::time;
use shared::platform::auth::{authenticate, authenticate_if_present};
use shared::partners::domain::Relationship;
use shared::platform::validate;
use shared::partners::domain::invitation::{Direction, InvitationStatus};
use shared::platform::http::{api_origin, HandlerResult, json, json_body, page, page_request, path_id, query_param};
use shared::platform::idempotency::once;
use shared::partners::inviter::Inviter;
use shared::partners::notices::{Notices, PartnerChanges};
use shared::leads::docs_mail::SubmissionDocsMail;
use shared::partners::domain::acceptance::Claimant;

use crate::pages;

/// `POST /invitations/{id}/accept`: the invited account accepts; the connection is created, and
/// the side that sends leads is emailed its submission documents.
pub async fn accept(mail: &SubmissionDocsMail, req: Request) -> HandlerResult {
    let db = &mail.leads.db;
    let caller = authenticate(db, &req).await?;
    let accepted = db.partners().accept_invitation(&caller, &path_id(&req, "id")?).await?;
    mail.after_acceptance(&accepted.connection, &api_origin(&req)).await;
    Notices { db, mailer: &mail.mailer }.invitation_answered(&accepted.invitation, Some(&accepted.connection), &api_origin(&req)).await;
    json(StatusCode::OK, &serde_json::json!({
        "message": "Invitation was accepted",
        "connection": accepted.connection,
        "invitation": accepted.invitation,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    token: String,
    #[serde(default)]
    answer: Answer,
    /// For an invited address without an account: the new account's name, and its first user's.
    account_name: Option<String>,
    name: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Answer {
    #[default]
    Accept,
    Decline,
}

/// `POST /invitations/claim`: answer through the emailed link's token. Accepting works with an
/// API key, for the account the link was emailed to, or by creating a free account for an
/// invited address that has none; declining needs only the link.
pub async fn claim(mail: &SubmissionDocsMail, req: Request) -> HandlerResult {
    let db = &mail.leads.db;
    let caller = authenticate_if_present(db, &req).await?;
    let body: ClaimBody = json_body(&req)?;
    if let Answer::Decline = body.answer {
        let invitation = db.partners().decline_by_link(&body.token).await?;
        Notices { db, mailer: &mail.mailer }.invitation_answered(&invitation, None, &api_origin(&req)).await;
        return json(StatusCode::OK, &serde_json::json!({ "message": "Invitation was declined", "invitation": invitation }));
    }
    let claimant = match caller {
        Some(caller) => Claimant::Account(caller),
        None => Claimant::Link { new_account: new_account(&body)? },
    };
    let accepted = db.partners().claim_invitation(&body.token, claimant).await?;
    mail.after_acceptance(&accepted.connection, &api_origin(&req)).await;
    Notices { db, mailer: &mail.mailer }.invitation_answered(&accepted.invitation, Some(&accepted.connection), &api_origin(&req)).await;
    let Some(new) = accepted.new_account else {
        return json(StatusCode::OK, &serde_json::json!({
            "message": "Invitation was accepted",
            "connection": accepted.connection,
            "invitation": accepted.invitation,
        }));
    };
    // The only time the new account's API key is shown.
    json(StatusCode::CREATED, &serde_json::json!({
        "message": "Invitation was accepted and your account was created",
        "connection": accepted.connection,
        "invitation": accepted.invitation,
        "account": new.account,
        "user": new.user,
        "api_key": new.api_key,
    }))
}

/// The names for a new account, when the body gives any (both are then required).
fn new_account(body: &ClaimBody) -> Result<Option<(String, String)>, ApiError> {
    if body.account_name.is_none() && body.name.is_none() {
        return Ok(None);
    }
    let missing = |field: &str| ApiError::validation(field, format!("missing field `{field}` (required to create an account)"));
    let account_name = validate::name("account_name", body.account_name.as_deref().ok_or_else(|| missing("account_name"))?)?;
    let user_name = validate::name("name", body.name.as_deref().ok_or_else(|| missing("name"))?)?;
    Ok(Some((account_name, user_name)))
}

/// `POST /invitations`: invite a partner as `buyer`, `seller` or `both` (`relationship_type`).
pub async fn create(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    once(&inviter.db, &caller.account_id, &req, async { inviter.send(&caller, json_body(&req)?, None, &api_origin(&req)).await }).await
}

/// `POST /invitations/recipient`: invite a buyer (LeadConduit's route).
pub async fn create_recipient(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    once(&inviter.db, &caller.account_id, &req, async { inviter.send(&caller, json_body(&req)?, Some(Relationship::Buyer), &api_origin(&req)).await }).await
}

/// `POST /invitations/source`: invite a seller, a source of leads (LeadConduit's route).
pub async fn create_source(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    once(&inviter.db, &caller.account_id, &req, async { inviter.send(&caller, json_body(&req)?, Some(Relationship::Seller), &api_origin(&req)).await }).await
}

/// `POST /invitations/{id}/decline`: the invited account declines; the inviter's people hear it.
pub async fn decline(changes: &PartnerChanges, req: Request) -> HandlerResult {
    let caller = authenticate(&changes.db, &req).await?;
    let declined = changes.db.partners().decline_invitation(&caller, &path_id(&req, "id")?).await?;
    changes.notices().invitation_answered(&declined, None, &api_origin(&req)).await;
    json(StatusCode::OK, &declined)
}

/// `GET /invitations/{id}`: one invitation, sent or received by the caller.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let invitation = db.partners().invitation(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("invitation"))?;
    json(StatusCode::OK, &invitation.as_seen_at(&time::now()))
}

/// `GET /invitations`: sent and received, newest first; `?status=`, `?direction=sent|received`, `?limit=`, `?cursor=`.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let status = enum_param::<InvitationStatus>(&req, "status")?;
    let direction = enum_param::<Direction>(&req, "direction")?;
    page(&req, &db.partners().invitations(&caller.account_id, status, direction, &page_request(&req)?).await?)
}

fn enum_param<T: serde::de::DeserializeOwned>(req: &Request, name: &str) -> Result<Option<T>, ApiError> {
    query_param(req, name)
        .map(|raw| serde_json::from_value(serde_json::Value::String(raw.clone())).map_err(|_| ApiError::BadRequest(format!("unknown {name} '{raw}'"))))
        .transpose()
}

/// `PUT /invitations/{id}/resend`: renew an open invitation (new expiry, new link, new email).
pub async fn resend(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    inviter.resend(&caller, &path_id(&req, "id")?, &api_origin(&req)).await
}

/// `DELETE /invitations/{id}`: the inviter withdraws an open invitation.
pub async fn revoke(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.partners().revoke_invitation(&caller, &path_id(&req, "id")?).await?)
}

/// What the invitation page shows: the invitation as its link's holder may see it.
#[derive(Serialize)]
struct InvitationPage<'a> {
    /// `pending`, `accepted`, `declined`, `revoked`, `expired`, or `unknown` for a link that
    /// names no invitation.
    state: &'a str,
    invitation: Option<PageInvitation<'a>>,
    /// The account the link answers for without an API key; none: accepting creates one.
    answers_for: Option<String>,
    /// The signed-in person, who may accept a link to an address without an account for their
    /// own account (as with its API key).
    person: Option<pages::Person>,
}

#[derive(Serialize)]
struct PageInvitation<'a> {
    /// For the link to the buyer onboarding once accepted (the id alone opens nothing).
    id: &'a Id,
    inviter: &'a shared::partners::domain::AccountRef,
    invitee_account: Option<&'a str>,
    invitee_email: Option<&'a str>,
    relationship_type: Relationship,
    expires_at: &'a str,
}

/// `GET /invitations/claim?token=…`: the page the invitation email links to (public: the token
/// is the credential; the page only reads).
pub async fn claim_page(db: &Db, req: Request) -> HandlerResult {
    let token = query_param(&req, "token").unwrap_or_default();
    let invitation = match db.partners().invitation_by_link(&token).await {
        Ok(invitation) => invitation,
        Err(ApiError::NotFound(_)) => return pages::INVITATION.respond(&InvitationPage { state: "unknown", invitation: None, answers_for: None, person: None }),
        Err(err) => return Err(err),
    };
    let state = invitation.effective_status(&time::now());
    let answers_for = match state {
        InvitationStatus::Pending => db.partners().addressee_account(&invitation).await?.map(|account| account.name),
        _ => None,
    };
    pages::INVITATION.respond(&InvitationPage {
        state: state.as_str(),
        invitation: Some(PageInvitation {
            id: &invitation.id,
            inviter: &invitation.inviter,
            invitee_account: invitation.invitee_account.as_ref().map(|a| a.name.as_str()),
            invitee_email: invitation.invitee_email.as_deref(),
            relationship_type: invitation.relationship_type,
            expires_at: &invitation.expires_at,
        }),
        answers_for,
        person: pages::person(db, &req).await?,
    })
}
