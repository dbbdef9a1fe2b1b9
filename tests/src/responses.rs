//! What the API answers, as the tests read it: openapi.yaml's schemas written out as types, so a
//! test names the fields it checks (`onboard.status`) instead of indexing JSON by strings. They are
//! the client's view, written from the document, not the backend's types: a renamed field in the
//! backend fails here (and in the schema check every reply passes through) instead of being
//! renamed on both sides at once. Statuses stay strings: a test compares them with the document's
//! words.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::environment::Reply;

impl Reply {
    /// The body as `T`, or a failure that shows the body.
    pub fn read<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone()).unwrap_or_else(|e| panic!("a {} body: {e}\n{:?}", std::any::type_name::<T>(), self.body))
    }

    /// The body as `T` after checking the status.
    pub fn expect<T: DeserializeOwned>(&self, status: u16) -> T {
        assert_eq!(self.status, status, "{:?}", self.body);
        self.read()
    }
}

/// Every non-2xx body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: String,
    pub details: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct AccountRef {
    pub id: String,
    pub name: String,
}

/// A reference to one of the account's partner entities.
pub type EntityRef = AccountRef;

#[derive(Debug, Deserialize, PartialEq)]
pub struct Invitation {
    pub id: String,
    pub direction: String,
    pub inviter: AccountRef,
    pub invitee_account: Option<AccountRef>,
    pub invitee_email: Option<String>,
    pub relationship_type: String,
    pub status: String,
    pub expires_at: String,
    pub entity_id: String,
    pub connection_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub responded_by: Option<String>,
    pub responded_at: Option<String>,
}

/// A partner as the account sees it.
#[derive(Debug, Deserialize, PartialEq)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub pending: bool,
    pub connected: Option<String>,
    pub connected_account_id: Option<String>,
    pub connection_id: Option<String>,
    pub former_connection_id: Option<String>,
    pub invitation_id: Option<String>,
    pub invitation_expires_at: Option<String>,
    pub expired: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// The answer to sending (or resending) an invitation.
#[derive(Debug, Deserialize)]
pub struct InvitationSent {
    pub message: String,
    pub entity: Entity,
    pub invitation: Invitation,
    pub email_sent: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Connection {
    pub id: String,
    pub account_id: String,
    pub connected_account: AccountRef,
    pub invitation_id: String,
    pub relationship_type: String,
    pub status: String,
    pub buyer_delivery_configured: bool,
    pub buyer_delivery_configured_at: Option<String>,
    pub buyer_flow_id: Option<String>,
    pub created_by: String,
    pub entity_id: String,
    pub partner_entity_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    #[serde(default)]
    pub leads_delivered: u64,
    #[serde(default)]
    pub leads_rejected: u64,
    #[serde(default)]
    pub leads_failed: u64,
    pub last_delivery_at: Option<String>,
    pub documentation: Option<serde_json::Value>,
}

/// The answer to accepting an invitation.
#[derive(Debug, Deserialize)]
pub struct Accepted {
    pub message: String,
    pub connection: Connection,
    pub invitation: Invitation,
}

/// An API key as `GET /api-keys` lists it (never the key itself).
#[derive(Debug, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub prefix: String,
    pub user_email: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// `POST /api-keys`: the new key, shown this once, and how it is listed.
#[derive(Debug, Deserialize)]
pub struct NewApiKey {
    pub api_key: String,
    pub key: ApiKey,
}

/// The answer to a link claimed by someone without an account: accepted, and the new account's
/// key shown this once.
#[derive(Debug, Deserialize)]
pub struct SignedUp {
    #[serde(flatten)]
    pub accepted: Accepted,
    pub account: Account,
    pub user: User,
    pub api_key: String,
}

/// The answer to a link that declined.
#[derive(Debug, Deserialize)]
pub struct Answered {
    pub message: String,
    pub invitation: Invitation,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct User {
    pub email: String,
    pub name: String,
    pub account_id: String,
    pub created_at: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Onboard {
    pub id: String,
    pub account_id: String,
    pub invitation_id: String,
    pub connection_id: String,
    pub flow_id: Option<String>,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    pub setup_status: Option<String>,
    pub setup_error: Option<String>,
    pub redirect: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct FlowSource {
    pub id: String,
    pub entity: EntityRef,
    pub active: bool,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct FlowStep {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub entity: Option<EntityRef>,
    pub integration: Option<Integration>,
    pub active: bool,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Integration {
    pub module_id: String,
    #[serde(default)]
    pub mappings: Vec<Mapping>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Mapping {
    pub property: String,
    pub value: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Flow {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub fields: Vec<String>,
    pub sources: Vec<FlowSource>,
    pub steps: Vec<FlowStep>,
    pub acceptance_criteria: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// The answer to a submitted lead.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionResult {
    pub outcome: String,
    pub reason: Option<String>,
    pub lead: LeadRef,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct LeadRef {
    pub id: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct LeadStep {
    pub step_id: String,
    pub entity: EntityRef,
    pub outcome: String,
    pub reason: Option<String>,
    pub buyer_flow_id: Option<String>,
    pub delivered_lead_id: Option<String>,
    pub at: Option<String>,
    pub connection_id: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct LeadOrigin {
    pub account_id: String,
    pub connection_id: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Lead {
    pub id: String,
    pub account_id: String,
    pub flow_id: String,
    pub source: FlowSourceRef,
    pub submitted_by: String,
    pub fields: BTreeMap<String, String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub steps: Vec<LeadStep>,
    pub hops: u32,
    pub onward_budget: Option<u32>,
    pub origin: Option<LeadOrigin>,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    pub version: u64,
}

/// The flow source a lead came through.
#[derive(Debug, Deserialize, PartialEq)]
pub struct FlowSourceRef {
    pub id: String,
    pub entity: EntityRef,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct Client {
    pub id: String,
    pub campaign_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub company_name: Option<String>,
    pub phone: Option<String>,
    pub status: String,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub link: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub active_secrets: u32,
    pub secret: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct AuditEvent {
    pub id: String,
    pub account_id: String,
    pub event: String,
    pub actor: String,
    pub subject_type: String,
    pub subject_id: String,
    pub partner_account_id: Option<String>,
    pub at: String,
}

/// The answer to a buyer's delivery setup: where its receiving flow is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupDone {
    pub redirect: String,
}

impl SetupDone {
    /// The receiving flow's id.
    pub fn flow_id(&self) -> &str {
        self.redirect.strip_prefix("/flows/").unwrap_or_else(|| panic!("a flow path: {}", self.redirect))
    }
}

#[derive(Debug, Deserialize)]
pub struct SubmissionDocs {
    pub flow: EntityRef,
    pub source: EntityRef,
    pub submit_url: String,
    pub method: String,
    pub authentication: String,
    pub content_types: Vec<String>,
    pub fields: Vec<DocField>,
    pub acceptance_criteria: Option<serde_json::Value>,
    pub response: String,
    pub example: DocExample,
}

#[derive(Debug, Deserialize)]
pub struct DocField {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
}

#[derive(Debug, Deserialize)]
pub struct DocExample {
    pub body: serde_json::Value,
    pub curl: String,
}

/// Seed 001 wraps each answer in an object named after what it holds.
#[derive(Debug, Deserialize)]
pub struct CampaignReply {
    pub campaign: Campaign,
}

#[derive(Debug, Deserialize)]
pub struct Campaigns {
    pub campaigns: Vec<Campaign>,
}

/// A client, with its campaign where the answer names it (the onboarding link's JSON).
#[derive(Debug, Deserialize)]
pub struct ClientReply {
    pub client: Client,
    pub campaign: Option<EntityRef>,
}

#[derive(Debug, Deserialize)]
pub struct Clients {
    pub clients: Vec<Client>,
}

#[derive(Debug, Deserialize)]
pub struct WebhookReply {
    pub webhook: WebhookEndpoint,
}

#[derive(Debug, Deserialize)]
pub struct Webhooks {
    pub webhooks: Vec<WebhookEndpoint>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event: String,
    pub body: String,
    pub message_id: String,
    pub status: String,
    pub attempts: Vec<Attempt>,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub replay_of: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct Attempt {
    pub at: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Deserialize)]
pub struct DeliveryReply {
    pub delivery: Delivery,
}

#[derive(Debug, Deserialize)]
pub struct Deliveries {
    pub deliveries: Vec<Delivery>,
}

/// An identity-verification session (seed 003).
#[derive(Debug, Deserialize)]
pub struct VerificationSession {
    pub id: String,
    pub external_customer_id: Option<String>,
    pub onboard_id: Option<String>,
    pub client_id: Option<String>,
    pub status: String,
    pub history: Vec<StatusSeen>,
    pub registered: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// One status a provider reported, and whether it changed the record.
#[derive(Debug, Deserialize)]
pub struct StatusSeen {
    pub status: String,
    pub received_at: String,
    pub applied: bool,
}

/// An integration a provider delivers webhooks to.
#[derive(Debug, Deserialize)]
pub struct InboundIntegration {
    pub id: String,
    pub account_id: String,
    pub provider: String,
    pub name: Option<String>,
    pub standard_webhooks: bool,
    pub redirect_url: Option<String>,
    pub partner_id: Option<String>,
    pub created_at: String,
    pub receive_url: String,
    pub authentication: String,
    pub redirect_registration_url: Option<String>,
    pub secret: Option<String>,
}

/// One delivery a provider made, as recorded.
#[derive(Debug, Deserialize)]
pub struct WebhookEvent {
    pub id: String,
    pub integration_id: String,
    pub provider: String,
    pub event_type: String,
    pub subject: Option<String>,
    pub outcome: String,
    pub received_at: String,
    pub payload: serde_json::Value,
}

/// A WhatsApp channel (seed 004).
#[derive(Debug, Deserialize, PartialEq)]
pub struct Channel {
    pub id: String,
    pub integration_id: String,
    pub client_id: Option<String>,
    pub status: String,
    pub status_updated_at: Option<String>,
    pub phone_number: Option<String>,
    pub permission: Option<String>,
    pub claimed_by_client: Option<String>,
    pub claimed_at: Option<String>,
    pub api_key_created_at: Option<String>,
    pub version: u64,
}

/// A channel's API key from the partner hub, shown once.
#[derive(Debug, Deserialize)]
pub struct ChannelKey {
    pub channel_id: String,
    pub api_key: String,
    pub address: Option<String>,
    pub app_id: Option<String>,
}
