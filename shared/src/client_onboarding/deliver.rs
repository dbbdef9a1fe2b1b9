//! One delivery attempt of an outbound webhook: sign, POST, record, and say when to try again.

use std::time::{Duration, Instant, SystemTime};

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::client_onboarding::domain::webhook_endpoint::{self, Attempt, DeliveryMessage, DeliveryStatus, Endpoint, EndpointStatus, Verdict};
use crate::platform::public_url::UrlPolicy;
use crate::platform::error::ApiError;
use crate::platform::outbound::HttpClient;
use crate::platform::signature;
use crate::store::Db;
use crate::platform::time;

/// What the queue should do next with the message.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Done,
    RetryIn(Duration),
}

/// The clients the `webhook-deliver` function builds at cold start.
#[derive(Debug)]
pub struct Deliverer {
    pub db: Db,
    pub http: HttpClient,
    pub policy: UrlPolicy,
    /// Backoff base: the first retry comes within this, the n-th within base × 2^(n-1).
    pub retry_base: Duration,
}

/// A receiver gets this long to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `WEBHOOK_LOCAL_MODE` and `WEBHOOK_RETRY_BASE_SECONDS` (default 30) from the environment.
impl FromEnv for Deliverer {
    fn from_env(env: &Env) -> Result<Deliverer, ConfigError> {
        let base = env.optional("WEBHOOK_RETRY_BASE_SECONDS").and_then(|v| v.parse().ok()).unwrap_or(30);
        Ok(Deliverer::new(Db::from_env(env)?, UrlPolicy::from_env(env)?, Duration::from_secs(base)))
    }
}

impl Deliverer {
    pub fn new(db: Db, policy: UrlPolicy, retry_base: Duration) -> Deliverer {
        Deliverer { db, http: HttpClient::guarded(TIMEOUT, policy.allow_private), policy, retry_base }
    }

    /// The headers of one attempt: seed 001's and Standard Webhooks', signed by every active
    /// secret (the 360onboard header by the newest).
    pub fn headers(endpoint: &Endpoint, event: &str, message_id: &str, body: &str, now: SystemTime) -> Vec<(&'static str, String)> {
        let timestamp = time::epoch_seconds(now);
        let secrets = endpoint.active_secrets(&time::format(now));
        let standard: Vec<String> = secrets.iter().map(|s| signature::sign_standard(s, message_id, timestamp, body.as_bytes())).collect();
        vec![
            ("content-type", "application/json".to_string()),
            ("user-agent", "onboarding-backend-webhooks/1".to_string()),
            ("x-360onboard-event", event.to_string()),
            ("x-360onboard-signature", secrets.first().map(|s| signature::sign_onboard(s, body.as_bytes())).unwrap_or_default()),
            ("webhook-id", message_id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", standard.join(" ")),
        ]
    }

    pub async fn attempt(&self, message: &DeliveryMessage) -> Result<Next, ApiError> {
        let account = &message.account_id;
        let (delivery, endpoint) = self.db.client_onboarding().delivery_to_send(account, &message.endpoint_id, &message.delivery_id).await?;
        let delivery = match delivery {
            Some(d) if d.status == DeliveryStatus::Pending => d,
            // Settled already (a redelivered message) or gone with its account.
            _ => return Ok(Next::Done),
        };
        let now = SystemTime::now();
        let refusal = match &endpoint {
            None => Some("the endpoint was deleted".to_string()),
            Some(e) if e.status == EndpointStatus::Disabled => Some(format!("the endpoint is disabled: {}", e.disabled_reason.clone().unwrap_or_default())),
            Some(e) => self.policy.check(&e.url).err().map(|why| format!("the endpoint URL {why}")),
        };
        let (Some(endpoint), None) = (endpoint, refusal.clone()) else {
            let attempt = Attempt { at: time::format(now), status_code: None, error: refusal, duration_ms: 0 };
            self.db.client_onboarding().record_attempt(account, &delivery, attempt, DeliveryStatus::Failed, None).await?;
            return Ok(Next::Done);
        };
        let body = self.db.client_onboarding().body_to_send(account, &delivery);
        let headers = Deliverer::headers(&endpoint, delivery.event.as_str(), &delivery.message_id, &body, now);
        let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let started = Instant::now();
        let result = self.http.send("POST", &endpoint.url, &header_refs, body.into_bytes()).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (status_code, error, retry_after) = match &result {
            Ok(response) => {
                let retry_after = response.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
                (Some(response.status), None, retry_after)
            }
            Err(err) => (None, Some(err.to_string()), None),
        };
        let attempt = Attempt { at: time::format(now), status_code, error, duration_ms };
        let jitter = f64::from(u32::from_be_bytes(crate::platform::secret::random_bytes::<4>())) / f64::from(u32::MAX);
        let next = match webhook_endpoint::verdict(status_code, delivery.attempts.len() + 1, retry_after, self.retry_base, jitter) {
            Verdict::Delivered => {
                self.db.client_onboarding().record_attempt(account, &delivery, attempt, DeliveryStatus::Delivered, None).await?;
                Next::Done
            }
            Verdict::Failed => {
                self.db.client_onboarding().record_attempt(account, &delivery, attempt, DeliveryStatus::Failed, None).await?;
                Next::Done
            }
            Verdict::Gone => {
                self.db.client_onboarding().record_attempt(account, &delivery, attempt, DeliveryStatus::Failed, None).await?;
                self.db.client_onboarding().disable_endpoint(account, &endpoint.id, "the receiver answered 410 Gone").await?;
                tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled after 410 Gone");
                Next::Done
            }
            Verdict::Retry(delay) => {
                let at = time::format(now + delay);
                let recorded = self.db.client_onboarding().record_attempt(account, &delivery, attempt, DeliveryStatus::Pending, Some(at)).await?;
                if recorded { Next::RetryIn(delay) } else { Next::Done }
            }
        };
        tracing::info!(delivery = %delivery.id, status = ?status_code, next = ?next, "webhook attempt");
        Ok(next)
    }
}
