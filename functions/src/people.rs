//! People signing in: the sign-in page, the emailed link and its page, signing out, and the
//! dashboard a signed-in person lands on. The pages call the API with the session cookie.

use lambda_http::Request;
use lambda_http::http::{HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use shared::people::domain::{cleared_cookie, session_cookie};
use shared::people::sign_in::SignIn;
use shared::platform::auth::{presented_cookie, session_caller, signed_in};
use shared::platform::http::{HandlerResult, api_origin, json, json_body, optional_json_body, query_param};
use shared::platform::validate;
use shared::store::people::LinkRefused;
use shared::{ApiError, Db};

use crate::pages;

/// `response` with `cookie` set.
fn with_cookie(mut response: lambda_http::Response<lambda_http::Body>, cookie: &str) -> HandlerResult {
    let value = HeaderValue::from_str(cookie).map_err(|e| ApiError::Internal(format!("cookie: {e}")))?;
    response.headers_mut().append("set-cookie", value);
    Ok(response)
}

#[derive(Serialize)]
struct SignInPage<'a> {
    /// Who is signed in already, if anyone.
    signed_in_as: Option<&'a str>,
}

/// `GET /sign-in`: the form that asks for an address (or says who is signed in already).
pub async fn sign_in_page(db: &Db, req: Request) -> HandlerResult {
    let session = signed_in(db, &req).await?;
    pages::SIGN_IN.respond(&SignInPage { signed_in_as: session.as_ref().map(|s| s.email.as_str()) })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    email: String,
}

/// `POST /sign-in` (public): emails a sign-in link if an account uses the address. The answer
/// is the same either way.
pub async fn request_link(sign_in: &SignIn, req: Request) -> HandlerResult {
    let body: LinkRequest = json_body(&req)?;
    let address = validate::email("email", &body.email)?;
    sign_in.request_link(&address, &api_origin(&req)).await?;
    json(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "status": "sent",
            "message": "If an account uses this address, a sign-in link is on its way to it. The link works once, for 15 minutes."
        }),
    )
}

#[derive(Serialize)]
struct LinkPage<'a> {
    /// `valid`, `expired` or `unknown` (used already, or never issued).
    state: &'static str,
    email: Option<&'a str>,
}

/// `GET /sign-in/link?token=` (public): says whose link it is, with a button that signs in.
/// Opening it changes nothing: mail scanners that fetch links do not use them up.
pub async fn link_page(db: &Db, req: Request) -> HandlerResult {
    let token = query_param(&req, "token").unwrap_or_default();
    let link = if token.is_empty() { Err(LinkRefused::Unknown) } else { db.people().link(&token).await? };
    let (state, email) = match &link {
        Ok(link) => ("valid", Some(link.email.as_str())),
        Err(LinkRefused::Expired) => ("expired", None),
        Err(LinkRefused::Unknown) => ("unknown", None),
    };
    pages::SIGN_IN_LINK.respond(&LinkPage { state, email })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UseLink {
    token: String,
}

/// `POST /sign-in/link` (public): uses the link once and starts the session (its cookie).
pub async fn use_link(db: &Db, req: Request) -> HandlerResult {
    let body: UseLink = json_body(&req)?;
    match db.people().sign_in(&body.token).await? {
        Ok((token, session)) => {
            let response = json(StatusCode::OK, &serde_json::json!({ "signed_in_as": session.email, "next": "/dashboard" }))?;
            with_cookie(response, &session_cookie(&token))
        }
        Err(LinkRefused::Expired) => Err(ApiError::Gone("this sign-in link has expired: ask for a new one at /sign-in".into())),
        Err(LinkRefused::Unknown) => Err(ApiError::NotFound("sign-in link (it works once: ask for a new one at /sign-in)")),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SignOut {
    /// Every session of this person, on every device, not only this one.
    #[serde(default)]
    everywhere: bool,
}

/// `POST /sign-out`: ends this session (or, with `"everywhere": true`, all of the person's) and
/// clears the cookie. Needs the session and its CSRF token.
pub async fn sign_out(db: &Db, req: Request) -> HandlerResult {
    let body: SignOut = optional_json_body(&req)?;
    let token = presented_cookie(req.headers()).ok_or(ApiError::Unauthenticated("not signed in: sign-out needs the session cookie"))?.to_string();
    let caller = session_caller(db, &req, &token).await?;
    let ended = if body.everywhere { db.people().end_sessions_of(&caller.user_email).await? } else { db.people().end_session(&token).await.map(|()| 1)? };
    with_cookie(json(StatusCode::OK, &serde_json::json!({ "sessions_ended": ended }))?, &cleared_cookie())
}

#[derive(Serialize)]
struct PersonPage {
    /// `None`: not signed in (the page offers the sign-in).
    person: Option<pages::Person>,
}

/// `GET /settings/apis`: the account's API keys (listed, made, revoked through the API with the
/// session), for the signed-in person.
pub async fn api_settings_page(db: &Db, req: Request) -> HandlerResult {
    person_page(db, req, &pages::API_SETTINGS).await
}

/// `GET /settings/webhooks`: the endpoints the account's events are sent to and the provider
/// integrations it receives from (managed through the API with the session), for the
/// signed-in person.
pub async fn webhook_settings_page(db: &Db, req: Request) -> HandlerResult {
    person_page(db, req, &pages::WEBHOOK_SETTINGS).await
}

/// `GET /dashboard`: the signed-in person's account — connections and invitations, read and
/// changed through the API with the session.
pub async fn dashboard_page(db: &Db, req: Request) -> HandlerResult {
    person_page(db, req, &pages::DASHBOARD).await
}

/// A page of the signed-in person's (the page offers the sign-in to anyone else).
async fn person_page(db: &Db, req: Request, page: &pages::Page) -> HandlerResult {
    page.respond(&PersonPage { person: pages::person(db, &req).await? })
}
