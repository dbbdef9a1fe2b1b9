//! The webhook receiver: authenticate, deduplicate, record, apply — the last three in one
//! transaction, so a delivery is either taken whole (once) or not at all, and a retry of a
//! taken delivery changes nothing.

use std::time::{Duration, SystemTime};

use super::ProviderWebhooksTable;
use crate::store::tx::{Part, TxError, Write, busy};
use crate::provider_webhooks::domain::channel::{Channel, ChannelStatus};
use crate::provider_webhooks::domain::delivery::{Effect, read_delivery};
use crate::provider_webhooks::domain::integration::{Integration, Outcome, WebhookEvent};
use crate::provider_webhooks::domain::verification::VerificationSession;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, TTL};
use crate::platform::time::{self, Timestamp};
use crate::platform::secret;

/// Providers retry for hours to days; a week covers every documented retry policy.
pub const DEDUPE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long accepted events stay readable.
pub const EVENT_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// Re-reads after a concurrent delivery changed the same session or channel.
const ATTEMPTS: usize = 4;

/// What happened to a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    Accepted(Id),
    /// Taken before (same dedupe key): nothing done again.
    Duplicate,
}

/// The one answer to a delivery that is not taken.
const REFUSED: &str = "the delivery's signature or token did not verify for this integration";

impl ProviderWebhooksTable<'_> {
    /// Takes one delivery to `POST /webhooks/{integration_id}`: its headers (by name) and raw body.
    pub async fn receive_webhook<'a>(&self, integration_id: &Id, header: impl Fn(&str) -> Option<&'a str>, body: &[u8]) -> Result<Receipt, ApiError> {
        // Every refusal answers alike, an unknown integration included, so that a caller cannot
        // probe which ids exist or why a forgery failed; the reason is logged for operators.
        let refuse = |reason: &str| {
            tracing::warn!(integration = %integration_id, reason, "webhook delivery refused");
            ApiError::Unauthenticated(REFUSED)
        };
        let integration = match self.integration_for_delivery(integration_id).await {
            Err(ApiError::NotFound(_)) => return Err(refuse("no such integration")),
            other => other?,
        };
        let now = time::epoch_seconds(SystemTime::now());
        let message_id = integration.authenticate(&header, body, now).map_err(|err| refuse(err.reason()))?;
        let delivery = read_delivery(integration.provider, &header, body, message_id)?;
        let body_text = String::from_utf8_lossy(body).into_owned();
        for _ in 0..ATTEMPTS {
            let received_at = time::now();
            let (effect_writes, outcome) = self.effect_writes(&integration, &delivery.effect, &received_at).await?;
            let event = WebhookEvent {
                id: Id::generate(),
                integration_id: integration.id.clone(),
                provider: integration.provider,
                event_type: delivery.event_type.clone(),
                subject: delivery.subject.clone(),
                outcome,
                received_at,
                payload: body_text.clone(),
            };
            let dedupe = keys::webhook_dedupe(&integration.id, &secret::hash(&delivery.dedupe_key));
            let mut dedupe_item = keys::item(&dedupe, ItemType::WebhookDedupe, &serde_json::json!({ "event_id": event.id }))?;
            dedupe_item.insert(TTL.into(), keys::expires_after(DEDUPE_TTL));
            let event_key = keys::webhook_event(&integration.id, &event.id);
            let mut event_item = keys::item(&event_key, ItemType::WebhookEvent, &event)?;
            event_item.insert(TTL.into(), keys::expires_after(EVENT_TTL));
            let mut writes = vec![
                Write::put(Part::Dedupe, dedupe, dedupe_item).only_if("attribute_not_exists(#pk)"),
                Write::put(Part::Event, event_key, event_item),
            ];
            writes.extend(effect_writes);
            match self.db.transact(writes).await {
                Ok(()) => return Ok(Receipt::Accepted(event.id)),
                Err(TxError::Condition(Part::Dedupe)) => return Ok(Receipt::Duplicate),
                // The session or channel changed since it was read: read it again.
                Err(TxError::Condition(_)) => continue,
                Err(TxError::Busy) => return Err(busy()),
                Err(TxError::Other(err)) => return Err(err),
            }
        }
        Err(ApiError::Conflict("the subject of this event is changing concurrently; retry".into()))
    }

    /// The writes that apply a delivery, read-compute-write with a version condition.
    async fn effect_writes(&self, integration: &Integration, effect: &Effect, now: &Timestamp) -> Result<(Vec<Write>, Outcome), ApiError> {
        let account = &integration.account_id;
        match effect {
            Effect::None => Ok((vec![], Outcome::Recorded)),
            Effect::Session { interview_id, external_customer_id, status } => {
                let key = keys::verification_session(account, interview_id);
                let current: Option<VerificationSession> = self.db.get_as(&key).await?;
                let read_version = current.as_ref().map(|s| s.version);
                let session = current
                    .unwrap_or_else(|| VerificationSession::new(interview_id.clone(), false, now.clone()))
                    .receive(status, external_customer_id.as_deref(), now.clone());
                let applied = session.history.last().is_some_and(|h| h.applied);
                let write = Write::put(Part::Session, key.clone(), keys::item(&key, ItemType::VerificationSession, &session)?);
                let write = match read_version {
                    Some(version) => write.only_if("#version = :version").value(":version", keys::value(&version)?),
                    None => write.only_if("attribute_not_exists(#pk)"),
                };
                Ok((vec![write], if applied { Outcome::Applied } else { Outcome::Recorded }))
            }
            Effect::Channel(event) => {
                let key = keys::channel(account, &event.channel_id);
                let current: Option<Channel> = self.db.get_as(&key).await?;
                let (status_now, version) = current.as_ref().map_or((&ChannelStatus::Pending, 0), |c| (&c.status, c.version));
                let Some(status) = event.status.as_ref().filter(|s| status_now.moved_by(s)) else {
                    return Ok((vec![], Outcome::Recorded));
                };
                let mut write = Write::update(Part::Channel, key)
                    .set("id", keys::string(&event.channel_id))
                    .set("integration_id", keys::value(&integration.id)?)
                    .set("status", keys::value(status)?)
                    .set("status_updated_at", keys::string(now.as_str()))
                    .set("version", keys::value(&(version + 1))?)
                    .set(keys::TYPE, keys::string(ItemType::Channel.as_str()))
                    // Confirmed by the hub: no longer an expiring claim.
                    .remove(keys::TTL);
                for (attribute, value) in [("client_id", &event.client_id), ("phone_number", &event.phone_number)] {
                    if let Some(value) = value {
                        write = write.set(attribute, keys::string(value));
                    }
                }
                // Unchanged since read: a claimed channel has version 0, an unknown one none.
                let write = write.only_if("attribute_not_exists(#version) OR #version = :version").value(":version", keys::value(&version)?);
                Ok((vec![write], Outcome::Applied))
            }
        }
    }
}
