//! Inbound integrations: an account's registration of one provider's webhooks, and how each
//! provider's deliveries are authenticated. Pure: the receiver passes headers and raw body in.

use serde::{Deserialize, Serialize};

use crate::platform::validate;
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::secret;
use crate::platform::signature::{self, SignatureError, StandardHeaders};
use crate::platform::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provider {
    /// Seed 001: `X-360onboard-Signature: sha256=<hex>` and `X-360onboard-Event`.
    #[serde(rename = "360onboard")]
    Onboard360,
    /// Seed 003: `Authorization: Bearer <token>`.
    #[serde(rename = "incode")]
    Incode,
    /// Seed 004: partner-hub events; no signature scheme of its own, so the token travels in
    /// `X-Webhook-Token` (see docs/decisions.md).
    #[serde(rename = "360dialog")]
    Dialog360,
}

/// The header a 360dialog partner hub is configured to send with the integration's token.
pub const DIALOG360_TOKEN_HEADER: &str = "x-webhook-token";
pub const ONBOARD_SIGNATURE_HEADER: &str = "x-360onboard-signature";
pub const ONBOARD_EVENT_HEADER: &str = "x-360onboard-event";
/// Account-supplied secrets must be at least this long.
pub const MIN_SECRET_LEN: usize = 24;

/// Secret material: only on the item the receiver reads, never in a response or a log line.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// SHA-256 of the secret: enough to check a bearer token.
    pub secret_hash: String,
    /// The secret itself, kept only where an HMAC must be computed with it (360onboard
    /// signatures, Standard Webhooks); DynamoDB encrypts it at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// 360dialog Partner API key, for generating channel API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_api_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(redacted)")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: Id,
    pub account_id: Id,
    pub provider: Provider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Standard Webhooks headers are accepted as well as the provider's own scheme.
    pub standard_webhooks: bool,
    /// 360dialog: where the redirect endpoint sends the client's browser onward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
}

/// `POST /integrations`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationBody {
    pub provider: Option<Provider>,
    pub name: Option<String>,
    /// Supplied by the account (a token the provider already uses); generated when absent.
    pub secret: Option<String>,
    #[serde(default)]
    pub standard_webhooks: bool,
    pub redirect_url: Option<String>,
    pub partner_id: Option<String>,
    pub partner_api_key: Option<String>,
}

impl IntegrationBody {
    /// The integration and the secret to show once.
    pub fn into_integration(self, id: Id, account_id: Id, now: Timestamp) -> Result<(Integration, String), Refusal> {
        let provider = self.provider.ok_or_else(|| Refusal::invalid("provider", "is required: 360onboard, incode or 360dialog"))?;
        let name = self.name.as_deref().map(|n| validate::name("name", n)).transpose()?;
        let dialog_only = |field: &str, present: bool| {
            if present && provider != Provider::Dialog360 { Err(Refusal::invalid(field, "applies to 360dialog integrations only")) } else { Ok(()) }
        };
        dialog_only("redirect_url", self.redirect_url.is_some())?;
        dialog_only("partner_id", self.partner_id.is_some())?;
        dialog_only("partner_api_key", self.partner_api_key.is_some())?;
        if let Some(url) = &self.redirect_url {
            if !url.starts_with("https://") || url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Refusal::invalid("redirect_url", "must be an https:// URL"));
            }
        }
        if self.partner_id.is_some() != self.partner_api_key.is_some() {
            return Err(Refusal::invalid("partner_api_key", "partner_id and partner_api_key go together"));
        }
        if let Some(partner) = &self.partner_id {
            validate::external_id(partner).ok_or_else(|| Refusal::invalid("partner_id", validate::EXTERNAL_ID_RULE))?;
        }
        let secret = match self.secret {
            Some(s) if s.len() < MIN_SECRET_LEN || s.len() > 256 || s.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(Refusal::invalid("secret", format!("must be {MIN_SECRET_LEN}-256 characters without spaces")));
            }
            Some(s) => s,
            None => signature::new_standard_secret(),
        };
        let needs_hmac = provider == Provider::Onboard360 || self.standard_webhooks;
        let credentials = Credentials {
            secret_hash: secret::hash(&secret),
            signing_secret: needs_hmac.then(|| secret.clone()),
            partner_api_key: self.partner_api_key,
        };
        let integration = Integration {
            id,
            account_id,
            provider,
            name,
            standard_webhooks: self.standard_webhooks,
            redirect_url: self.redirect_url,
            partner_id: self.partner_id,
            created_at: now,
            credentials: Some(credentials),
        };
        Ok((integration, secret))
    }
}

/// What an integration looks like to its account: no secret material, plus how to use it.
#[derive(Debug, Serialize)]
pub struct IntegrationView {
    #[serde(flatten)]
    pub integration: Integration,
    pub receive_url: String,
    /// How deliveries must authenticate.
    pub authentication: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_registration_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Integration {
    /// `base` is the API's public origin (`https://host`).
    pub fn view(mut self, base: &str, secret: Option<String>) -> IntegrationView {
        self.credentials = None;
        let scheme = match self.provider {
            Provider::Onboard360 => "X-360onboard-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>",
            Provider::Incode => "Authorization: Bearer <secret>",
            Provider::Dialog360 => "X-Webhook-Token: <secret>",
        };
        let authentication = if self.standard_webhooks {
            "Standard Webhooks: webhook-id, webhook-timestamp (within 5 minutes) and webhook-signature: v1,<base64 HMAC-SHA256> with the secret".to_string()
        } else {
            scheme.to_string()
        };
        let redirect_registration_url = (self.provider == Provider::Dialog360).then(|| format!("{base}/integrations/{}/redirect", self.id));
        IntegrationView { receive_url: format!("{base}/webhooks/{}", self.id), authentication, redirect_registration_url, secret, integration: self }
    }

    /// Authenticates a delivery: with Standard Webhooks only, when the integration uses them (so
    /// their replay window cannot be sidestepped with the provider's own header, and a delivery
    /// keeps its `webhook-id` as its one dedupe key however it is resent); with the provider's
    /// own scheme otherwise. `Ok` holds the Standard Webhooks message id when there is one.
    pub fn authenticate<'a>(&self, header: impl Fn(&str) -> Option<&'a str>, body: &[u8], now: u64) -> Result<Option<String>, SignatureError> {
        let credentials = self.credentials.as_ref().ok_or(SignatureError::Mismatch)?;
        if self.standard_webhooks {
            let headers = StandardHeaders {
                id: header("webhook-id").ok_or(SignatureError::Missing)?,
                timestamp: header("webhook-timestamp").ok_or(SignatureError::Missing)?,
                signature: header("webhook-signature").ok_or(SignatureError::Missing)?,
            };
            let secret = credentials.signing_secret.as_deref().ok_or(SignatureError::Mismatch)?;
            signature::verify_standard(secret, headers, body, now)?;
            return Ok(Some(headers.id.to_string()));
        }
        let token_matches = |token: Option<&str>| {
            let token = token.ok_or(SignatureError::Missing)?;
            if secret::hashes_match(&secret::hash(token), &credentials.secret_hash) { Ok(None) } else { Err(SignatureError::Mismatch) }
        };
        match self.provider {
            Provider::Onboard360 => {
                let secret = credentials.signing_secret.as_deref().ok_or(SignatureError::Mismatch)?;
                signature::verify_onboard(secret, body, header(ONBOARD_SIGNATURE_HEADER)).map(|()| None)
            }
            Provider::Incode => {
                let value = header("authorization").ok_or(SignatureError::Missing)?;
                let (scheme, token) = value.trim().split_once(' ').ok_or(SignatureError::Malformed)?;
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return Err(SignatureError::Malformed);
                }
                token_matches(Some(token.trim()))
            }
            Provider::Dialog360 => token_matches(header(DIALOG360_TOKEN_HEADER).map(str::trim)),
        }
    }
}

/// What an accepted delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It changed what it is about (a session's or a channel's status).
    Applied,
    /// Kept for the record only: an unknown or stale status, an event about nothing we track.
    Recorded,
    /// A redirect's unauthenticated claim of channel permissions.
    Claimed,
}

/// An accepted delivery, readable at `GET /integrations/{id}/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub id: Id,
    pub integration_id: Id,
    pub provider: Provider,
    pub event_type: String,
    /// What it is about: an interview id, a channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub outcome: Outcome,
    pub received_at: Timestamp,
    /// The body as JSON text: stored as received, since not every JSON document is a valid
    /// DynamoDB map (empty keys, say).
    pub payload: String,
}

impl WebhookEvent {
    /// The API shape: `payload` as the JSON it is.
    pub fn view(self) -> serde_json::Value {
        let payload = serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null);
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["payload"] = payload;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn integration(provider: Provider, standard_webhooks: bool, secret: &str) -> Integration {
        let body = IntegrationBody { provider: Some(provider), secret: Some(secret.into()), standard_webhooks, ..Default::default() };
        body.into_integration(Id::generate(), Id::generate(), "2026-01-01T00:00:00Z".into()).unwrap().0
    }

    fn check(i: &Integration, headers: &[(&str, &str)], body: &[u8], now: u64) -> Result<Option<String>, SignatureError> {
        let map: HashMap<String, String> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        i.authenticate(|name| map.get(name).map(String::as_str), body, now)
    }

    const SECRET: &str = "a-long-enough-shared-secret-1234";

    #[test]
    fn bearer_tokens_compare_against_the_stored_hash() {
        let i = integration(Provider::Incode, false, SECRET);
        assert!(i.credentials.as_ref().unwrap().signing_secret.is_none(), "a token-only integration keeps just the hash");
        assert_eq!(check(&i, &[("authorization", &format!("Bearer {SECRET}"))], b"{}", 0), Ok(None));
        assert_eq!(check(&i, &[("authorization", "Bearer wrong")], b"{}", 0), Err(SignatureError::Mismatch));
        assert_eq!(check(&i, &[("authorization", &format!("Basic {SECRET}"))], b"{}", 0), Err(SignatureError::Malformed));
        assert_eq!(check(&i, &[], b"{}", 0), Err(SignatureError::Missing));
        let d = integration(Provider::Dialog360, false, SECRET);
        assert_eq!(check(&d, &[(DIALOG360_TOKEN_HEADER, SECRET)], b"{}", 0), Ok(None));
        assert_eq!(check(&d, &[("authorization", &format!("Bearer {SECRET}"))], b"{}", 0), Err(SignatureError::Missing));
    }

    #[test]
    fn onboard_signatures_use_the_stored_secret() {
        let i = integration(Provider::Onboard360, false, SECRET);
        let sig = signature::sign_onboard(SECRET, b"{\"a\":1}");
        assert_eq!(check(&i, &[(ONBOARD_SIGNATURE_HEADER, &sig)], b"{\"a\":1}", 0), Ok(None));
        assert_eq!(check(&i, &[(ONBOARD_SIGNATURE_HEADER, &sig)], b"{\"a\":2}", 0), Err(SignatureError::Mismatch));
    }

    #[test]
    fn standard_webhooks_only_where_configured() {
        let now = 1_700_000_000;
        let sig = signature::sign_standard(SECRET, "msg_1", now, b"{}");
        let headers = [("webhook-id", "msg_1"), ("webhook-timestamp", "1700000000"), ("webhook-signature", sig.as_str())];
        let on = integration(Provider::Incode, true, SECRET);
        assert_eq!(check(&on, &headers, b"{}", now), Ok(Some("msg_1".into())));
        assert_eq!(check(&on, &headers, b"{}", now + 600), Err(SignatureError::Stale));
        assert_eq!(check(&on, &[("authorization", &format!("Bearer {SECRET}"))], b"{}", now), Err(SignatureError::Missing), "only Standard Webhooks");
        let both = [headers[0], headers[1], ("authorization", &format!("Bearer {SECRET}"))];
        assert_eq!(check(&on, &both, b"{}", now), Err(SignatureError::Missing), "the provider's token does not stand in for the signature");
        let off = integration(Provider::Incode, false, SECRET);
        assert_eq!(check(&off, &headers, b"{}", now), Err(SignatureError::Missing), "ignored where not configured");
    }

    #[test]
    fn bodies_are_validated() {
        let make = |body: IntegrationBody| body.into_integration(Id::generate(), Id::generate(), "t".into());
        assert!(make(IntegrationBody::default()).is_err(), "provider required");
        assert!(make(IntegrationBody { provider: Some(Provider::Incode), secret: Some("short".into()), ..Default::default() }).is_err());
        assert!(make(IntegrationBody { provider: Some(Provider::Incode), redirect_url: Some("https://x.io".into()), ..Default::default() }).is_err());
        assert!(make(IntegrationBody { provider: Some(Provider::Dialog360), redirect_url: Some("http://x.io".into()), ..Default::default() }).is_err());
        assert!(make(IntegrationBody { provider: Some(Provider::Dialog360), partner_id: Some("p1".into()), ..Default::default() }).is_err());
        let (i, secret) = make(IntegrationBody { provider: Some(Provider::Onboard360), ..Default::default() }).unwrap();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(i.credentials.unwrap().secret_hash, secret::hash(&secret));
    }

    #[test]
    fn views_carry_no_secret_material() {
        let i = integration(Provider::Dialog360, false, SECRET);
        let json = serde_json::to_string(&i.view("https://api.example.com", None)).unwrap();
        assert!(!json.contains(&secret::hash(SECRET)) && !json.contains("credentials"), "{json}");
        assert!(json.contains("https://api.example.com/webhooks/") && json.contains("/redirect"));
        assert_eq!(format!("{:?}", integration(Provider::Onboard360, false, SECRET).credentials), "Some(Credentials(redacted))");
    }
}
