//! Onboards: the record of a buyer's setup after accepting an invitation (seed 000).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::{ApiError, Db, Id};
use shared::platform::auth::authenticate;
use shared::onboards::domain::onboard::{OnboardStatus, OnboardUpdate};
use shared::platform::http::{HandlerResult, if_match, json_body, page, page_request, path_id, query_param, with_etag};
use shared::store::lists::Page;
use shared::platform::idempotency::once;

use crate::pages;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOnboard {
    invitation_id: Id,
    flow_id: Option<Id>,
}

/// `POST /onboards`: an onboard for one of the caller's accepted invitations (seed 000).
pub async fn create(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let body: CreateOnboard = json_body(&req)?;
        let onboard = db.onboards().create_onboard(&caller, &body.invitation_id, body.flow_id).await?;
        with_etag(StatusCode::CREATED, &onboard, onboard.version)
    })
    .await
}

/// `GET /onboards/{id}`: one of the caller's onboards, with its version as `ETag`.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let onboard = db.onboards().onboard(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("onboard"))?;
    with_etag(StatusCode::OK, &onboard, onboard.version)
}

/// `GET /onboards`: the account's onboards, newest first (seed 000), paged with `?limit=` and
/// `?cursor=`; `?invitation_id=` gives the one made for that invitation, if any (how the buyer
/// onboarding page resumes).
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    // Every list validates its paging first, whatever else the query asks.
    let paging = page_request(&req)?;
    if let Some(raw) = query_param(&req, "invitation_id") {
        let invitation = Id::from_path(&raw)?;
        if paging.cursor.is_some() {
            return Err(ApiError::BadRequest("cursor pages the whole list; with invitation_id there is one onboard at most".into()));
        }
        let found = db.onboards().onboard_of_invitation(&caller.account_id, &invitation).await?;
        return page(&req, &Page { items: found.into_iter().collect(), next_cursor: None });
    }
    let listed = db.onboards().onboards(&caller.account_id, &paging).await?;
    page(&req, &listed)
}

/// `GET /buyer-onboarding?invitation_id=…`: the page a buyer sets up lead delivery on, after
/// accepting (seed 000's modal). Public: everything it shows comes from the API, called with the
/// person's session when they are signed in (the page carries its CSRF token), else with the
/// account's API key, which the page asks for.
pub async fn buyer_onboarding_page(db: &Db, req: Request) -> HandlerResult {
    pages::BUYER_ONBOARDING.respond(&serde_json::json!({ "person": pages::person(db, &req).await? }))
}

/// The seed's PUT body. It lists no 422, so every body problem here is a 400.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateOnboard {
    account_id: Option<Id>,
    invitation_id: Id,
    connection_id: Option<Id>,
    flow_id: Option<Id>,
    status: Option<String>,
}

/// `PUT /onboards/{id}`: status and flow changes (seed 000); `completed` hands the onboard to the buyer setup.
pub async fn update(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    let body: UpdateOnboard = json_body(&req).map_err(|e| e.as_bad_request())?;
    let update = OnboardUpdate {
        account_id: body.account_id,
        invitation_id: body.invitation_id,
        connection_id: body.connection_id,
        flow_id: body.flow_id,
        status: body.status.as_deref().map(OnboardStatus::parse).transpose()?,
        expected_version: if_match(&req)?,
    };
    let onboard = db.onboards().update_onboard(&caller, &id, &update).await?;
    with_etag(StatusCode::OK, &onboard, onboard.version)
}
