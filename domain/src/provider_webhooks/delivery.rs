//! What a provider's webhook delivery says: its event, its subject, what tells a retry from a
//! new delivery, and the change it asks for. Read after the delivery is authenticated
//! (`integration::Integration::authenticate`); the receiver's store records and applies it.

use crate::Refusal;
use crate::provider_webhooks::channel::{self, HubChannelEvent};
use crate::provider_webhooks::integration::{ONBOARD_EVENT_HEADER, Provider};
use crate::provider_webhooks::verification::{self, VerificationStatus};

/// What a delivery is about, read from its body.
pub enum Effect {
    None,
    Session { interview_id: String, external_customer_id: Option<String>, status: VerificationStatus },
    Channel(HubChannelEvent),
}

pub struct ReceivedEvent {
    pub event_type: String,
    pub subject: Option<String>,
    /// What tells a provider's retry from a new delivery (hashed before it is stored).
    pub dedupe_key: String,
    pub effect: Effect,
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::Malformed(message.into())
}

/// A short printable label (an event type, a status): 1–100 visible ASCII characters.
fn label(what: &str, raw: Option<&str>) -> Result<String, Refusal> {
    let raw = raw.ok_or_else(|| bad(format!("{what} is required")))?;
    let valid = !raw.is_empty() && raw.len() <= 100 && raw.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(raw.to_string()) } else { Err(bad(format!("{what} must be 1-100 visible ASCII characters"))) }
}

/// The event in an authenticated delivery's body, per provider; `message_id` is the Standard
/// Webhooks id, if any.
pub fn read_delivery<'a>(provider: Provider, header: &dyn Fn(&str) -> Option<&'a str>, body: &[u8], message_id: Option<String>) -> Result<ReceivedEvent, Refusal> {
    let payload: serde_json::Value = serde_json::from_slice(body).map_err(|e| Refusal::NotJson(e.to_string()))?;
    if !payload.is_object() {
        return Err(bad("the body must be a JSON object"));
    }
    let payload = &payload;
    let text = |name: &str| payload.get(name).and_then(|v| v.as_str());
    let body_key = || format!("body:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body)));
    let dedupe_or = |fallback: String| message_id.as_ref().map_or(fallback, |id| format!("webhook-id:{id}"));
    match provider {
        Provider::Onboard360 => {
            // The header names the event; a Standard Webhooks sender sends only `webhook-*`
            // headers, and the body's `event` says the same (seed 001's envelope).
            let event_type = match header(ONBOARD_EVENT_HEADER) {
                Some(named) => label(ONBOARD_EVENT_HEADER, Some(named))?,
                None => label("the X-360onboard-Event header or the body's event", text("event"))?,
            };
            Ok(ReceivedEvent { event_type, subject: None, dedupe_key: dedupe_or(body_key()), effect: Effect::None })
        }
        Provider::Incode => {
            let interview_id = verification::interview_id("interviewId", text("interviewId").ok_or_else(|| bad("interviewId (string) is required"))?)
                .map_err(Refusal::as_malformed)?;
            let status = label("onboardingStatus", text("onboardingStatus"))?;
            let external_customer_id = match payload.get("externalCustomerId") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) if s.len() <= 256 => Some(s.clone()),
                Some(_) => return Err(bad("externalCustomerId must be a string of at most 256 characters")),
            };
            Ok(ReceivedEvent {
                event_type: status.clone(),
                subject: Some(interview_id.clone()),
                dedupe_key: dedupe_or(format!("incode:{interview_id}:{status}")),
                effect: Effect::Session { interview_id, external_customer_id, status: VerificationStatus::named(&status) },
            })
        }
        Provider::Dialog360 => {
            let event_type = label("event", text("event"))?;
            let hub = channel::hub_channel_event(&event_type, payload);
            Ok(ReceivedEvent {
                subject: hub.as_ref().map(|h| h.channel_id.clone()),
                event_type,
                dedupe_key: dedupe_or(body_key()),
                effect: hub.map_or(Effect::None, Effect::Channel),
            })
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn no_headers(_: &str) -> Option<&'static str> {
        None
    }

    #[test]
    fn each_provider_names_its_event_subject_and_retry_key() {
        let incode = br#"{"interviewId": "iv-1", "onboardingStatus": "ONBOARDING_FINISHED", "externalCustomerId": "c-9"}"#;
        let read = read_delivery(Provider::Incode, &no_headers, incode, None).unwrap();
        assert_eq!((read.event_type.as_str(), read.subject.as_deref(), read.dedupe_key.as_str()), ("ONBOARDING_FINISHED", Some("iv-1"), "incode:iv-1:ONBOARDING_FINISHED"));
        assert!(matches!(read.effect, Effect::Session { ref interview_id, external_customer_id: Some(ref c), status: VerificationStatus::OnboardingFinished } if interview_id == "iv-1" && c == "c-9"));
        let standard = read_delivery(Provider::Incode, &no_headers, incode, Some("msg_1".into())).unwrap();
        assert_eq!(standard.dedupe_key, "webhook-id:msg_1", "a Standard Webhooks id names the delivery");

        let onboard = read_delivery(Provider::Onboard360, &|name| (name == ONBOARD_EVENT_HEADER).then_some("client.created"), br#"{"event": "other"}"#, None).unwrap();
        assert_eq!(onboard.event_type, "client.created", "the header names the event");
        assert!(onboard.dedupe_key.starts_with("body:") && matches!(onboard.effect, Effect::None));
        let by_body = read_delivery(Provider::Onboard360, &no_headers, br#"{"event": "client.created"}"#, None).unwrap();
        assert_eq!(by_body.event_type, "client.created");
    }

    #[test]
    fn malformed_deliveries_are_refused_with_the_reason() {
        let malformed = |provider, body: &[u8]| matches!(read_delivery(provider, &no_headers, body, None), Err(Refusal::Malformed(_)));
        assert!(matches!(read_delivery(Provider::Incode, &no_headers, b"not json", None), Err(Refusal::NotJson(_))));
        assert!(malformed(Provider::Incode, b"[1]"), "an object");
        assert!(malformed(Provider::Incode, br#"{"onboardingStatus": "X"}"#), "no interview");
        assert!(malformed(Provider::Incode, br#"{"interviewId": "iv", "onboardingStatus": "X", "externalCustomerId": 5}"#));
        assert!(malformed(Provider::Dialog360, br#"{"event": "has space"}"#), "a label is visible ASCII");
        assert!(malformed(Provider::Onboard360, br#"{}"#), "no event named");
    }
}
