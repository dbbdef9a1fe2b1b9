//! Who is calling: a program with an API key (`Authorization: Bearer sk_live_...`, or HTTP Basic
//! with the key as the password and any username, LeadConduit's scheme), or a person signed in
//! on the pages (the session cookie; a request that changes something also carries the session's
//! CSRF token in `X-CSRF-Token`). An `Authorization` header, when present, decides.

use base64::Engine;
use lambda_http::Request;
use lambda_http::http::HeaderMap;

use crate::people::domain::{CSRF_HEADER, changes_state, session_token};
use crate::platform::accounts::Caller;
use crate::platform::error::ApiError;
use crate::platform::secret::{self, API_KEY_PREFIX};
use crate::store::Db;

/// The API key in the request's `Authorization` header, without looking it up.
pub fn presented_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get("authorization").ok_or(ApiError::Unauthenticated("missing Authorization header"))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated("malformed Authorization header"))?;
    let (scheme, credentials) = value.trim().split_once(' ').ok_or(ApiError::Unauthenticated("malformed Authorization header"))?;
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        credentials.trim().to_string()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .map_err(|_| ApiError::Unauthenticated("malformed Basic credentials"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| ApiError::Unauthenticated("malformed Basic credentials"))?;
        let (_username, password) = decoded.split_once(':').ok_or(ApiError::Unauthenticated("malformed Basic credentials"))?;
        password.to_string()
    } else {
        return Err(ApiError::Unauthenticated("unsupported authorization scheme; use Bearer or Basic"));
    };
    let well_formed = key.strip_prefix(API_KEY_PREFIX).is_some_and(|rest| rest.len() >= 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if well_formed { Ok(key) } else { Err(ApiError::Unauthenticated("malformed API key")) }
}

/// The session token in the request's cookies, if no `Authorization` header speaks instead.
fn presented_session(headers: &HeaderMap) -> Option<&str> {
    if headers.contains_key("authorization") {
        return None;
    }
    presented_cookie(headers)
}

/// The session token in the request's cookies, whatever else it carries.
pub fn presented_cookie(headers: &HeaderMap) -> Option<&str> {
    headers.get_all("cookie").iter().filter_map(|v| v.to_str().ok()).find_map(session_token)
}

/// A signed-in person's request (what `authenticate` does with a session; signing out asks for
/// the session alone, whatever else the request carries): one GetItem on the session's hash and, at the same time, the
/// request counted against the session's rate limit (as a key's). A state-changing request must
/// carry the session's CSRF token, compared in constant time: another site can make a browser
/// send the cookie (where SameSite allows), never read the token.
pub async fn session_caller(db: &Db, req: &Request, token: &str) -> Result<Caller, ApiError> {
    let hash = secret::hash(token);
    let people = db.people();
    let (session, counted) = tokio::join!(people.session(token), db.count_request(&hash));
    let session = session?.ok_or(ApiError::Unauthenticated("the session has ended: sign in again"))?;
    if changes_state(req.method().as_str()) {
        let presented = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !secret::hashes_match(&secret::hash(presented), &secret::hash(&session.csrf)) {
            return Err(ApiError::Unauthenticated("a signed-in request that changes something must carry its page's X-CSRF-Token"));
        }
    }
    counted?;
    crate::platform::lambda::record_account(&session.account_id);
    Ok(Caller { account_id: session.account_id, user_email: session.email, key_id: session.id })
}

/// The person signed in on a page, if the request carries a live session (a page is answered
/// either way: signed out, it offers the sign-in).
pub async fn signed_in(db: &Db, req: &Request) -> Result<Option<crate::people::domain::Session>, ApiError> {
    match presented_cookie(req.headers()) {
        Some(token) => db.people().session(token).await,
        None => Ok(None),
    }
}

/// The caller, by API key or by session. For a key: one GetItem on the key's hash and, at the
/// same time, one UpdateItem counting the request against the key's rate limit (429 beyond it):
/// one round trip of latency. Unknown and revoked keys are told apart only in the logs; they get
/// a 401 whatever their count.
pub async fn authenticate(db: &Db, req: &Request) -> Result<Caller, ApiError> {
    if let Some(token) = presented_session(req.headers()) {
        return session_caller(db, req, token).await;
    }
    let key = presented_key(req.headers())?;
    let hash = secret::hash(&key);
    let accounts = db.accounts();
    let (record, counted) = tokio::join!(accounts.api_key(&hash), db.count_request(&hash));
    let record = record?.ok_or(ApiError::Unauthenticated("invalid API key"))?;
    if record.revoked_at.is_some() {
        tracing::info!(key_id = %record.key_id, "revoked API key presented");
        return Err(ApiError::Unauthenticated("invalid API key"));
    }
    counted?;
    crate::platform::lambda::record_account(&record.account_id);
    Ok(Caller { account_id: record.account_id, user_email: record.user_email, key_id: record.key_id })
}

/// For endpoints that also serve anonymous callers: no `Authorization` header and no session
/// cookie → `None`; a credential that does not authenticate is still a 401.
pub async fn authenticate_if_present(db: &Db, req: &Request) -> Result<Option<Caller>, ApiError> {
    if req.headers().contains_key("authorization") || presented_session(req.headers()).is_some() { authenticate(db, req).await.map(Some) } else { Ok(None) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", value.parse().unwrap());
        headers
    }

    const KEY: &str = "sk_live_0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn bearer_and_basic_carry_the_same_key() {
        assert_eq!(presented_key(&headers(&format!("Bearer {KEY}"))).unwrap(), KEY);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("API:{KEY}"));
        assert_eq!(presented_key(&headers(&format!("Basic {basic}"))).unwrap(), KEY);
        let no_user = base64::engine::general_purpose::STANDARD.encode(format!(":{KEY}"));
        assert_eq!(presented_key(&headers(&format!("basic {no_user}"))).unwrap(), KEY);
    }

    #[test]
    fn malformed_credentials_are_rejected_before_any_lookup() {
        assert!(presented_key(&HeaderMap::new()).is_err());
        for bad in [
            "Bearer",
            "Bearer sk_live_short",
            "Bearer pk_live_0123456789abcdef0123456789abcdef01234567",
            "Token sk_live_0123456789abcdef0123456789abcdef01234567",
            "Basic !!!",
            "Basic QVBJ",
            "Bearer sk_live_0123456789abcdef0123456789abcdef0123456/",
        ] {
            let err = presented_key(&headers(bad)).unwrap_err();
            assert_eq!(err.status().as_u16(), 401, "{bad}");
        }
    }
}
