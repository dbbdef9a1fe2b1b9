//! Outbound webhooks (seed 001): an account's endpoints, the deliveries of each event to them,
//! and the rules deliveries follow (where they may go, when they are retried). Pure.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client_onboarding::campaign::EventType;
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::public_url::UrlPolicy;
use crate::platform::time::Timestamp;

/// Endpoints per account: every event is fanned out in one transaction with the change.
pub const MAX_ENDPOINTS: usize = 10;
/// Attempts per delivery before it is given up (the first one included).
pub const MAX_ATTEMPTS: usize = 8;
/// SQS delays a message at most 15 minutes; longer waits (a far `Retry-After`) are capped.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// A rotated-out secret keeps signing (beside the new one) this long.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    Active,
    /// The receiver answered 410 Gone: nothing more is sent.
    Disabled,
}

/// A signing secret; during a rotation several are active and each signs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningSecret {
    pub secret: String,
    pub created_at: Timestamp,
    /// When a newer secret replaced it; absent for the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningSecret(redacted, created {})", self.created_at)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: Id,
    pub url: String,
    pub events: Vec<EventType>,
    pub status: EndpointStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    /// Never in a response after creation (`EndpointView`).
    pub secrets: Vec<SigningSecret>,
}

/// What an account sees of an endpoint: everything but the secrets (the one just made aside).
#[derive(Debug, Serialize)]
pub struct EndpointView {
    pub id: Id,
    pub url: String,
    pub events: Vec<EventType>,
    pub status: EndpointStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    /// How many secrets sign deliveries now (two during a rotation).
    pub active_secrets: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Endpoint {
    pub fn view(&self, now: &str, secret: Option<String>) -> EndpointView {
        EndpointView {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            status: self.status,
            disabled_reason: self.disabled_reason.clone(),
            created_at: self.created_at.clone(),
            active_secrets: self.active_secrets(now).len(),
            secret,
        }
    }

    /// The secrets that sign at `now`, newest first.
    pub fn active_secrets(&self, now: &str) -> Vec<&str> {
        let mut active: Vec<&SigningSecret> = self.secrets.iter().filter(|s| s.expires_at.as_deref().is_none_or(|e| e > now)).collect();
        // The current secret (no expiry) first, then the rotated-out ones, newest first.
        active.sort_by(|a, b| a.expires_at.is_some().cmp(&b.expires_at.is_some()).then(b.created_at.cmp(&a.created_at)));
        active.into_iter().map(|s| s.secret.as_str()).collect()
    }

    pub fn subscribes_to(&self, event: EventType) -> bool {
        self.status == EndpointStatus::Active && self.events.contains(&event)
    }
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    pub url: String,
    /// Absent: every event type.
    pub events: Option<Vec<EventType>>,
}

impl EndpointBody {
    pub fn into_endpoint(self, id: Id, secret: String, policy: UrlPolicy, now: Timestamp) -> Result<Endpoint, Refusal> {
        policy.check(&self.url).map_err(|why| Refusal::invalid("url", why))?;
        let mut events = self.events.unwrap_or_else(|| EventType::ALL.to_vec());
        events.dedup();
        if events.is_empty() {
            return Err(Refusal::invalid("events", "must name at least one event type"));
        }
        Ok(Endpoint {
            id,
            url: self.url,
            events,
            status: EndpointStatus::Active,
            disabled_reason: None,
            created_at: now.clone(),
            secrets: vec![SigningSecret { secret, created_at: now, expires_at: None }],
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: Timestamp,
    /// The receiver's status; absent when there was no answer (timeout, refused connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One event for one endpoint, with every attempt to deliver it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: Id,
    pub endpoint_id: Id,
    pub event: EventType,
    /// The event as it is kept and listed: the exact bytes sent (and signed), unless the event
    /// carries a secret (a client's onboarding link), which is left out here.
    pub body: String,
    /// The exact bytes to send when they carry a secret, sealed under the stack's secret, until
    /// the delivery settles; then removed (the link is shown once: a replay sends `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_body: Option<String>,
    /// Standard Webhooks `webhook-id`: the same on every attempt, so receivers can dedupe.
    pub message_id: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<Id>,
}

impl Delivery {
    /// The delivery as the API lists it: never the sealed body.
    pub fn shown(self) -> Delivery {
        Delivery { sealed_body: None, ..self }
    }
}

/// The queue message naming a delivery (sent by the stream router, and again for each retry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub account_id: Id,
    pub endpoint_id: Id,
    pub delivery_id: Id,
}

/// What one attempt's result means for the delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Try again after this long.
    Retry(Duration),
    /// Give up (a 4xx other than 410/429, or the attempts are used up).
    Failed,
    /// 410 Gone: give up and disable the endpoint.
    Gone,
}

/// Exponential backoff with full jitter: a random delay up to `base × 2^(attempt-1)`, at least a
/// second, at most `MAX_DELAY`; a `Retry-After` (seconds) wins when given.
pub fn verdict(status: Option<u16>, attempts_made: usize, retry_after: Option<u64>, base: Duration, jitter: f64) -> Verdict {
    let retryable = match status {
        Some(200..=299) => return Verdict::Delivered,
        Some(410) => return Verdict::Gone,
        Some(429) | Some(500..=599) | None => true,
        Some(_) => false,
    };
    if !retryable || attempts_made >= MAX_ATTEMPTS {
        return Verdict::Failed;
    }
    let delay = match retry_after {
        Some(seconds) => Duration::from_secs(seconds),
        None => {
            let ceiling = base.saturating_mul(1u32 << (attempts_made.saturating_sub(1)).min(16) as u32);
            ceiling.mul_f64(jitter.clamp(0.0, 1.0))
        }
    };
    Verdict::Retry(delay.clamp(Duration::from_secs(1), MAX_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_with_jitter_and_honour_retry_after() {
        let base = Duration::from_secs(10);
        assert_eq!(verdict(Some(204), 1, None, base, 0.5), Verdict::Delivered);
        assert_eq!(verdict(Some(410), 1, None, base, 0.5), Verdict::Gone);
        assert_eq!(verdict(Some(400), 1, None, base, 0.5), Verdict::Failed);
        assert_eq!(verdict(Some(500), 1, None, base, 1.0), Verdict::Retry(Duration::from_secs(10)));
        assert_eq!(verdict(Some(503), 3, None, base, 1.0), Verdict::Retry(Duration::from_secs(40)));
        assert_eq!(verdict(None, 3, None, base, 0.5), Verdict::Retry(Duration::from_secs(20)));
        assert_eq!(verdict(Some(500), 2, None, base, 0.0), Verdict::Retry(Duration::from_secs(1)), "never sooner than a second");
        assert_eq!(verdict(Some(429), 1, Some(120), base, 0.1), Verdict::Retry(Duration::from_secs(120)));
        assert_eq!(verdict(Some(429), 1, Some(7200), base, 0.1), Verdict::Retry(MAX_DELAY));
        assert_eq!(verdict(Some(500), 7, None, base, 1.0), Verdict::Retry(Duration::from_secs(640)));
        assert_eq!(verdict(Some(500), MAX_ATTEMPTS, None, base, 1.0), Verdict::Failed);
    }

    #[test]
    fn rotated_secrets_sign_until_they_expire() {
        let endpoint = Endpoint {
            id: Id::generate(),
            url: "https://x.com".into(),
            events: vec![EventType::ClientCreated],
            status: EndpointStatus::Active,
            disabled_reason: None,
            created_at: "2026-01-01T00:00:00Z".into(),
            secrets: vec![
                SigningSecret { secret: "old".into(), created_at: "2026-01-01T00:00:00Z".into(), expires_at: Some("2026-01-02T00:00:00Z".into()) },
                SigningSecret { secret: "new".into(), created_at: "2026-01-01T12:00:00Z".into(), expires_at: None },
            ],
        };
        assert_eq!(endpoint.active_secrets("2026-01-01T13:00:00Z"), ["new", "old"]);
        assert_eq!(endpoint.active_secrets("2026-01-02T00:00:01Z"), ["new"]);
        assert!(endpoint.subscribes_to(EventType::ClientCreated) && !endpoint.subscribes_to(EventType::FlowCreated));
        assert!(!format!("{endpoint:?}").contains("old\""));
    }
}
