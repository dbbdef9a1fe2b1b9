//! People signing in (issue 28): an emailed one-time link, then a session held in a cookie. The
//! API keys stay the programs' credential; a session is a person's, for the pages.
//!
//! - A link is asked for with an address only, and the answer is the same whether an account
//!   uses it or not (no enumeration): a known address gets the link, an unknown one an email
//!   saying no account uses it. At most one email per address a minute.
//! - Following the link shows a page with a button: mail scanners that fetch links do not sign
//!   anyone in. The button's POST uses the link once and sets the session cookie.
//! - A session is stored by the hash of its token, with a CSRF token that every state-changing
//!   request made with the cookie must carry in `X-CSRF-Token`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::platform::email::{Email, escape_html};
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// `__Host-`: the browser keeps it only if it is `Secure`, has `Path=/` and no `Domain`, so no
/// other host (a sibling subdomain) can set or shadow it.
pub const SESSION_COOKIE: &str = "__Host-session";
/// The header a state-changing request made with the session cookie carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long an emailed link may be used.
pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a session lasts (then the person asks for a new link).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// A second request for the same address within this time sends nothing (a retried or
/// double-clicked request; a flood at someone's inbox).
pub const RESEND_AFTER: Duration = Duration::from_secs(60);

/// An emailed sign-in link's record (stored by the hash of its token, used once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInLink {
    pub email: String,
    pub account_id: Id,
    pub expires_at: Timestamp,
}

/// A person's session (stored by the hash of its token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Names the session without revealing its token (for signing out elsewhere, logs).
    pub id: Id,
    pub email: String,
    pub account_id: Id,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Sent back by the page on every state-changing request (`X-CSRF-Token`).
    pub csrf: String,
}

/// The session token in a `Cookie` header, if it carries ours.
pub fn session_token(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(name, _)| *name == SESSION_COOKIE).map(|(_, value)| value.trim()).filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value that starts a session: HttpOnly (no script reads it), Secure,
/// SameSite=Lax (not sent on cross-site POSTs), for the whole site, as long as the session.
pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax", SESSION_TTL.as_secs())
}

/// The `Set-Cookie` value that ends it in the browser.
pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// Whether a request with this method changes something (and so must carry the CSRF token).
pub fn changes_state(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The sign-in email to a user of `account`.
pub fn sign_in_email(to: &str, account: &str, link: &str) -> Email {
    let minutes = LINK_TTL.as_secs() / 60;
    let subject = format!("Sign in to {account}");
    let text = format!(
        "Someone asked to sign in to {account} as {to}.\n\n\
         Sign in: {link}\n\n\
         The link works once, for {minutes} minutes. If it was not you, ignore this email: nothing happens without the link.\n"
    );
    let recipient = vec![to.to_string()];
    let (account, to, link) = (escape_html(account), escape_html(to), escape_html(link));
    let html = format!(
        "<p>Someone asked to sign in to {account} as {to}.</p>\
         <p><a href=\"{link}\">Sign in</a></p>\
         <p>The link works once, for {minutes} minutes. If it was not you, ignore this email: nothing happens without the link.</p>"
    );
    Email { to: recipient, subject, text, html }
}

/// The email to an address no account uses: the same request, told honestly, in its inbox only.
pub fn no_account_email(to: &str) -> Email {
    let subject = "Sign-in request: no account uses this address".to_string();
    let text = format!(
        "Someone asked to sign in as {to}, but no account uses this address.\n\n\
         If you expected one, ask a colleague who has access to add you, or use the address you were invited with. \
         If it was not you, ignore this email.\n"
    );
    let escaped = escape_html(to);
    let html = format!(
        "<p>Someone asked to sign in as {escaped}, but no account uses this address.</p>\
         <p>If you expected one, ask a colleague who has access to add you, or use the address you were invited with. \
         If it was not you, ignore this email.</p>"
    );
    Email { to: vec![to.to_string()], subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_read_from_among_other_cookies() {
        assert_eq!(session_token("a=1; __Host-session=tok; b=2"), Some("tok"));
        assert_eq!(session_token("__Host-session=tok"), Some("tok"));
        assert_eq!(session_token("session=tok; __Host-sessionx=no"), None);
        assert_eq!(session_token("__Host-session="), None);
        assert_eq!(session_token(""), None);
    }

    #[test]
    fn the_cookie_is_host_only_http_only_secure_and_lax() {
        let cookie = session_cookie("tok");
        for part in ["__Host-session=tok", "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=43200"] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
        assert!(!cookie.contains("Domain"));
        assert!(cleared_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn only_reads_need_no_csrf_token() {
        assert!(!changes_state("GET") && !changes_state("HEAD") && !changes_state("OPTIONS"));
        assert!(changes_state("POST") && changes_state("PUT") && changes_state("DELETE") && changes_state("PATCH"));
    }

    #[test]
    fn the_emails_name_the_account_and_escape_what_they_quote() {
        let email = sign_in_email("a+b@example.com", "Acme <Leads>", "https://x/sign-in/link?token=t&y=1");
        assert_eq!(email.to, vec!["a+b@example.com".to_string()]);
        assert!(email.subject.contains("Acme <Leads>"));
        assert!(email.text.contains("https://x/sign-in/link?token=t&y=1") && email.text.contains("15 minutes"));
        assert!(email.html.contains("Acme &lt;Leads&gt;") && email.html.contains("token=t&amp;y=1"));
        let none = no_account_email("who@example.com");
        assert!(none.text.contains("no account uses this address") && !none.text.contains("http"));
    }
}
