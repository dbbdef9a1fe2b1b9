//! The pages people click (the invitation, the buyer onboarding, the client onboarding): each one
//! self-contained document, made at build time (build/pages.rs), with the data it shows in a JSON
//! island that its script reads.

use lambda_http::Request;
use serde::Serialize;
use shared::{ApiError, Db};
use shared::platform::http::{Caching, HandlerResult, html};

pub struct Page {
    html: &'static str,
    /// Allows the page's own inlined style and script, by hash, and calls to its own origin
    /// (`html` adds what every page's policy says).
    csp: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/pages/pages.rs"));

impl Page {
    /// The page showing `data`. Always a 200: what became of a link is the page's content, not
    /// an error (every non-2xx answer of the API is JSON).
    pub fn respond(&self, data: &impl Serialize) -> HandlerResult {
        let json = serde_json::to_string(data).map_err(|e| ApiError::Internal(format!("page data: {e}")))?;
        // Inside a script element only `</script` could end the island: JSON may spell < > & as
        // escapes, and then no text from the data can close it.
        let island = json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
        html(self.html.replacen("{{data}}", &island, 1), self.csp, Caching::NoStore)
    }
}

/// The signed-in person a page acts as: who, for which account, and the CSRF token the page's
/// calls send back (`X-CSRF-Token`).
#[derive(Serialize)]
pub struct Person {
    email: String,
    account: String,
    csrf: String,
}

/// The person signed in on this request, if any (a session whose account is gone counts as none:
/// the page offers the sign-in).
pub async fn person(db: &Db, req: &Request) -> Result<Option<Person>, ApiError> {
    let Some(session) = shared::platform::auth::signed_in(db, req).await? else { return Ok(None) };
    let account = db.accounts().account(&session.account_id).await?;
    Ok(account.map(|account| Person { email: session.email, account: account.name, csrf: session.csrf }))
}
