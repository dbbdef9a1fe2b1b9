//! Client onboarding (seed 001): campaigns, clients with onboarding links, and the bodies of the
//! outbound events they cause.

use serde::{Deserialize, Serialize};

use crate::platform::validate;
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Draft,
    Published,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: Id,
    pub name: String,
    pub status: CampaignStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
}

/// `POST /api/v1/campaigns`, `PUT /api/v1/campaigns/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    pub name: String,
}

impl CampaignBody {
    pub fn name(&self) -> Result<String, Refusal> {
        validate::name("name", &self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientStatus {
    Invited,
    Completed,
}

/// Seed 001's client, plus its onboarding status. The link's token is kept only as a hash, so
/// the link itself appears once: in the creation response and the `client.created` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub id: Id,
    pub campaign_id: Id,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub company_name: Option<String>,
    pub phone: Option<String>,
    pub status: ClientStatus,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
}

/// `POST /api/v1/clients` (seed 001: `campaign_id` and `email` required).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    pub campaign_id: Id,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub phone: Option<String>,
}

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    value.map(|v| validate::name(field, &v)).transpose()
}

impl ClientBody {
    pub fn into_client(self, id: Id, now: Timestamp) -> Result<Client, Refusal> {
        Ok(Client {
            id,
            campaign_id: self.campaign_id,
            email: validate::email("email", &self.email)?,
            first_name: optional_text("first_name", self.first_name)?,
            last_name: optional_text("last_name", self.last_name)?,
            company_name: optional_text("company_name", self.company_name)?,
            phone: phone(self.phone)?,
            status: ClientStatus::Invited,
            created_at: now,
            completed_at: None,
        })
    }
}

fn phone(value: Option<String>) -> Result<Option<String>, Refusal> {
    value.map(|p| validate::phone("phone", &p)).transpose()
}

/// `POST /c/{token}/complete`: the details the client confirmed or completed on the onboarding
/// page. A field left out keeps what the client was invited with; a blank one is cleared (the
/// client emptied it); the email is who was invited and does not change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDetails {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub phone: Option<String>,
}

impl ClientDetails {
    /// The client with these details, validated as at creation, now completed.
    pub fn complete(self, client: Client, now: &Timestamp) -> Result<Client, Refusal> {
        Ok(Client {
            first_name: confirmed(self.first_name, client.first_name, |v| optional_text("first_name", v))?,
            last_name: confirmed(self.last_name, client.last_name, |v| optional_text("last_name", v))?,
            company_name: confirmed(self.company_name, client.company_name, |v| optional_text("company_name", v))?,
            phone: confirmed(self.phone, client.phone, phone)?,
            status: ClientStatus::Completed,
            completed_at: Some(now.clone()),
            ..client
        })
    }
}

/// A field as confirmed: `kept` when left out, cleared when blank, else checked.
fn confirmed(sent: Option<String>, kept: Option<String>, check: impl FnOnce(Option<String>) -> Result<Option<String>, Refusal>) -> Result<Option<String>, Refusal> {
    match sent {
        None => Ok(kept),
        Some(blank) if blank.trim().is_empty() => Ok(None),
        given => check(given),
    }
}

/// The outbound event types (seed 001).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
pub enum EventType {
    #[serde(rename = "client.created")]
    #[strum(serialize = "client.created")]
    ClientCreated,
    #[serde(rename = "flow.created")]
    #[strum(serialize = "flow.created")]
    FlowCreated,
    #[serde(rename = "client.completed")]
    #[strum(serialize = "client.completed")]
    ClientCompleted,
}

impl EventType {
    pub const ALL: [EventType; 3] = [EventType::ClientCreated, EventType::FlowCreated, EventType::ClientCompleted];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Seed 001's `data` of a client event, fields in the seed's order.
#[derive(Serialize)]
struct ClientData<'a> {
    client_id: &'a Id,
    campaign_id: &'a Id,
    campaign_name: &'a str,
    first_name: &'a Option<String>,
    last_name: &'a Option<String>,
    email: &'a str,
    company_name: &'a Option<String>,
    phone: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    created_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<&'a str>,
}

#[derive(Serialize)]
struct CampaignData<'a> {
    campaign_id: &'a Id,
    campaign_name: &'a str,
    created_at: &'a str,
    published_at: &'a str,
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    event: &'a str,
    data: T,
    timestamp: &'a str,
}

/// The exact bytes of an event body: `{"event","data","timestamp"}`, compact, keys in this
/// order, non-ASCII escaped as `\uXXXX` (UTF-16, lowercase hex). That is what Python's
/// `json.dumps(payload, separators=(',', ':'))` gives for the parsed payload, so the seed's Python
/// verifier reproduces these bytes; Node's `JSON.stringify` reproduces them for ASCII data.
pub fn event_body(event: EventType, data: &impl Serialize, timestamp: &str) -> Result<String, Refusal> {
    let text = serde_json::to_string(&Envelope { event: event.as_str(), data, timestamp }).map_err(|e| Refusal::Broken(e.to_string()))?;
    Ok(escape_non_ascii(&text))
}

fn escape_non_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

pub fn client_event(event: EventType, client: &Client, campaign_name: &str, link: Option<&str>, timestamp: &str) -> Result<String, Refusal> {
    let data = ClientData {
        client_id: &client.id,
        campaign_id: &client.campaign_id,
        campaign_name,
        first_name: &client.first_name,
        last_name: &client.last_name,
        email: &client.email,
        company_name: &client.company_name,
        phone: &client.phone,
        link,
        created_at: &client.created_at,
        completed_at: client.completed_at.as_deref(),
    };
    event_body(event, &data, timestamp)
}

pub fn campaign_published_event(campaign: &Campaign, timestamp: &str) -> Result<String, Refusal> {
    let data = CampaignData {
        campaign_id: &campaign.id,
        campaign_name: &campaign.name,
        created_at: &campaign.created_at,
        published_at: campaign.published_at.as_deref().unwrap_or(timestamp),
    };
    event_body(EventType::FlowCreated, &data, timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_the_ones_serde_writes() {
        for event in EventType::ALL {
            assert_eq!(serde_json::to_value(event).unwrap(), event.as_str());
        }
        assert_eq!(EventType::ClientCreated.as_str(), "client.created");
    }

    #[test]
    fn completing_keeps_what_the_client_leaves_out_and_validates_what_it_gives() {
        let body = ClientBody { campaign_id: Id::generate(), email: "c@example.com".into(), first_name: Some("Ann".into()), last_name: None, company_name: None, phone: None };
        let client = body.into_client(Id::generate(), "t0".into()).unwrap();
        let details = ClientDetails { last_name: Some("Lee".into()), phone: Some("+1 555 0100".into()), ..Default::default() };
        let completed = details.complete(client.clone(), &"t1".into()).unwrap();
        assert_eq!((completed.first_name.as_deref(), completed.last_name.as_deref(), completed.phone.as_deref()), (Some("Ann"), Some("Lee"), Some("+1 555 0100")));
        assert_eq!((completed.status, completed.completed_at.as_deref(), completed.email.as_str()), (ClientStatus::Completed, Some("t1"), "c@example.com"));
        let cleared = ClientDetails { first_name: Some(" ".into()), ..Default::default() }.complete(client.clone(), &"t1".into()).unwrap();
        assert_eq!(cleared.first_name, None, "a field the client emptied is cleared, not kept");
        let bad = ClientDetails { phone: Some("call me".into()), ..Default::default() }.complete(client, &"t1".into());
        assert!(matches!(bad, Err(Refusal::Invalid { .. })), "{bad:?}");
    }

    fn client() -> Client {
        let body = ClientBody {
            campaign_id: Id::generate(),
            email: "John@Example.com".into(),
            first_name: Some("Jöhn 😀".into()),
            last_name: None,
            company_name: Some("Acme \"Corp\"".into()),
            phone: Some("+1234567890".into()),
        };
        body.into_client(Id::generate(), "2024-01-15T09:00:00Z".into()).unwrap()
    }

    #[test]
    fn event_bodies_are_compact_ordered_and_ascii() {
        let body = client_event(EventType::ClientCreated, &client(), "Flow", Some("https://x/c/t"), "2024-01-15T09:00:00Z").unwrap();
        assert!(body.starts_with(r#"{"event":"client.created","data":{"client_id":""#), "{body}");
        assert!(body.ends_with(r#""created_at":"2024-01-15T09:00:00Z"},"timestamp":"2024-01-15T09:00:00Z"}"#), "{body}");
        assert!(body.is_ascii());
        assert!(body.contains(r#""first_name":"J\u00f6hn \ud83d\ude00""#), "{body}");
        assert!(body.contains(r#""last_name":null"#) && body.contains(r#"Acme \"Corp\""#));
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"]["first_name"], "Jöhn 😀");
    }

    #[test]
    fn clients_need_a_valid_email_and_phone() {
        let bad = |email: &str, phone: Option<&str>| {
            ClientBody { campaign_id: Id::generate(), email: email.into(), first_name: None, last_name: None, company_name: None, phone: phone.map(Into::into) }
                .into_client(Id::generate(), "t".into())
        };
        assert!(bad("nope", None).is_err());
        assert!(bad("a@b.co", Some("call me")).is_err());
        assert_eq!(bad("A@B.co", Some("+1 (234) 567-890")).unwrap().email, "a@b.co");
    }
}
