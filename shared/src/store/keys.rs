//! The single table's keys and item shapes, all in one place. See docs/data-model.md for the
//! access patterns these serve.
//!
//! Every item has `pk`, `sk` and `type`; account-owned items live in the account's partition
//! (`ACCOUNT#<id>`), so a request can only reach what its own partition key names.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::partners::domain::invitation::Invitee;
use crate::platform::error::ApiError;
use crate::platform::id::Id;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TYPE: &str = "type";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// The sparse index of leads with a buyer step still pending (operators find stuck deliveries
/// across accounts: `LeadsTable::pending_leads`). Keys only.
pub const PENDING_LEADS: &str = "pending_leads";
pub const PENDING_LEADS_PK: &str = "pending_pk";
pub const PENDING_LEADS_SK: &str = "pending_sk";
/// DynamoDB TTL attribute (epoch seconds). Expiry is also checked in code: TTL deletes late.
pub const TTL: &str = "ttl";

pub type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn to_item(&self) -> Item {
        HashMap::from([
            (PK.to_string(), AttributeValue::S(self.pk.clone())),
            (SK.to_string(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

fn key(pk: String, sk: impl Into<String>) -> Key {
    Key { pk, sk: sk.into() }
}

pub fn account_partition(account: &Id) -> String {
    format!("ACCOUNT#{account}")
}

/// The account whose partition an item is in, read from the item's partition key.
pub fn account_of(item: &Item) -> Option<Id> {
    item.get(PK).and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("ACCOUNT#")).and_then(Id::parse)
}

/// Sort-key prefixes of the lists kept in an account's partition.
pub mod prefix {
    pub const INVITATION: &str = "INVITATION#";
    pub const ENTITY: &str = "ENTITY#";
    pub const CONNECTION: &str = "CONNECTION#";
    pub const AUDIT: &str = "AUDIT#";
    pub const USER: &str = "USER#";
    pub const API_KEY: &str = "APIKEY#";
    pub const ONBOARD: &str = "ONBOARD#";
    pub const FLOW: &str = "FLOW#";
    pub const INTEGRATION: &str = "INTEGRATION#";
    pub const VERIFICATION_SESSION: &str = "VSESSION#";
    pub const CHANNEL: &str = "CHANNEL#";
    pub const CAMPAIGN: &str = "CAMPAIGN#";
    pub const CLIENT: &str = "CLIENT#";
    pub const WEBHOOK_ENDPOINT: &str = "WEBHOOK#";
    pub const DELIVERY: &str = "DELIVERY#";
    pub const LEAD: &str = "LEAD#";
    /// A partition per API key: its request counters, one per window.
    pub const RATE_LIMIT: &str = "RATELIMIT#";
    /// In an integration's partition.
    pub const WEBHOOK_EVENT: &str = "EVENT#";
}

pub fn account(id: &Id) -> Key {
    key(account_partition(id), "ACCOUNT")
}

/// Users are keyed by email: one user per address across the whole system.
pub fn user(email: &str) -> Key {
    key(format!("USER#{email}"), "USER")
}

/// API keys are found by the hash of the presented key: authentication is one GetItem.
/// An API key's record, in a partition of its own named by the key's hash.
pub fn api_key(hash: &str) -> Key {
    key(format!("{}{hash}", prefix::API_KEY), API_KEY_SORT)
}

/// The counter of one API key's requests (named by the key's hash, known before the key is
/// looked up, so that counting and looking up run at once) in the window starting at `start`.
pub fn rate_limit_counter(key_hash: &str, shard: u32, start: u64) -> Key {
    // Shard 0 keeps the unsharded shape: one counter per window, as before.
    match shard {
        0 => key(format!("{}{key_hash}", prefix::RATE_LIMIT), start.to_string()),
        n => key(format!("{}{key_hash}#{n}", prefix::RATE_LIMIT), start.to_string()),
    }
}

/// The hash an API key record's partition key names.
pub fn api_key_hash(pk: &str) -> Option<&str> {
    pk.strip_prefix(prefix::API_KEY)
}

const API_KEY_SORT: &str = "APIKEY";

pub fn invitation(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::INVITATION))
}

/// The invitation link's token (hashed) → the invitation; expires with it.
pub fn invitation_token(hash: &str) -> Key {
    key(format!("INVITETOKEN#{hash}"), "INVITETOKEN")
}

pub fn entity(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::ENTITY))
}

pub fn connection(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::CONNECTION))
}

pub fn audit(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::AUDIT))
}

pub fn onboard(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::ONBOARD))
}

/// Exactly one onboard per invitation: created in the same transaction as the onboard.
pub fn onboard_of_invitation(owner: &Id, invitation: &Id) -> Key {
    key(account_partition(owner), format!("ONBOARDFOR#{invitation}"))
}

pub fn flow(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::FLOW))
}

/// The GSI1 entry that finds a flow by its id alone (a submission's URL names no account).
pub fn flow_index(id: &Id) -> [(String, AttributeValue); 2] {
    [(GSI1_PK.to_string(), AttributeValue::S(format!("{}{id}", prefix::FLOW))), (GSI1_SK.to_string(), AttributeValue::S("FLOW".into()))]
}

/// A flow's item, with its GSI1 entry.
pub fn flow_item(owner: &Id, flow: &crate::onboards::domain::flow::Flow) -> Result<Item, ApiError> {
    let mut item = self::item(&self::flow(owner, &flow.id), ItemType::Flow, flow)?;
    item.extend(flow_index(&flow.id));
    Ok(item)
}

/// Leads sort under their flow, so one Query lists a flow's, newest first.
/// How many partitions one flow's leads are spread over: a burst into one flow (1,000 leads a
/// second from one vendor, about 6 write units each with two buyer steps) is 32 partitions'
/// writes, about 190 units a second each, not one's. Listing a flow queries them all at once and
/// merges (`LeadsTable::leads_of_flow`).
pub const LEAD_SHARDS: u32 = 32;

/// The partition of one shard of a flow's leads.
pub fn lead_partition(owner: &Id, flow: &Id, shard: u32) -> String {
    format!("LEADS#{owner}#{flow}#{shard}")
}

/// A lead's shard: its id's last byte, which is random (the id's last four bytes are).
pub fn lead_shard(id: &Id) -> u32 {
    id.as_str().get(22..).and_then(|last| u32::from_str_radix(last, 16).ok()).unwrap_or(0) % LEAD_SHARDS
}

/// A lead, in its flow's shard; the sort key orders a shard newest-first (ids are time-ordered).
pub fn lead(owner: &Id, flow: &Id, id: &Id) -> Key {
    key(lead_partition(owner, flow, lead_shard(id)), format!("{}{id}", prefix::LEAD))
}

/// The GSI1 entry that finds a lead by its id alone (`GET /leads/{id}`; the owner is checked).
pub fn lead_index(id: &Id) -> [(String, AttributeValue); 2] {
    [(GSI1_PK.to_string(), AttributeValue::S(format!("{}{id}", prefix::LEAD))), (GSI1_SK.to_string(), AttributeValue::S("LEAD".into()))]
}

/// A pending lead's entry in `PENDING_LEADS`: spread over the lead shards' count of partitions
/// (a burst of leads is not one partition's), ordered by when the lead came in.
pub fn pending_lead_index(id: &Id, created_at: &str) -> [(String, AttributeValue); 2] {
    [(PENDING_LEADS_PK.to_string(), AttributeValue::S(format!("PENDING#{}", lead_shard(id)))), (PENDING_LEADS_SK.to_string(), AttributeValue::S(format!("{created_at}#{id}")))]
}

/// One per recipient (buyer) step, under the entity it delivers to, so that "every flow of
/// this account with a buyer step to entity E" is one Query on `buyer_steps_prefix(E)`.
pub fn buyer_step(owner: &Id, entity: &Id, flow: &Id, step: &Id) -> Key {
    key(account_partition(owner), format!("{}{flow}#{step}", buyer_steps_prefix(entity)))
}

pub fn buyer_steps_prefix(entity: &Id) -> String {
    format!("BUYERSTEP#{entity}#")
}

/// One per (account, partner): which entity stands for the partner, and the pending invitation
/// or active connection with it. Its conditions make "one pending invitation per partner" and
/// "one active connection per pair of accounts" hold under races.
pub fn partner(owner: &Id, invitee: &Invitee) -> Key {
    let target = match invitee {
        Invitee::Account(id) => format!("account:{id}"),
        Invitee::Email(email) => format!("email:{email}"),
    };
    key(account_partition(owner), format!("PARTNER#{target}"))
}

/// The account's copy of an integration (listed with the account's other items).
pub fn integration(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::INTEGRATION))
}

/// An integration's own partition: the receiver finds the integration (with its credentials) by
/// the id in the URL alone, and its events and dedupe records live beside it.
pub fn integration_partition(id: &Id) -> String {
    format!("{}{id}", prefix::INTEGRATION)
}

pub fn integration_lookup(id: &Id) -> Key {
    key(integration_partition(id), "INTEGRATION")
}

pub fn webhook_event(integration: &Id, event: &Id) -> Key {
    key(integration_partition(integration), format!("{}{event}", prefix::WEBHOOK_EVENT))
}

/// One per delivery already taken (by its dedupe key's hash); expires after `DEDUPE_TTL`.
pub fn webhook_dedupe(integration: &Id, dedupe_hash: &str) -> Key {
    key(integration_partition(integration), format!("DEDUPE#{dedupe_hash}"))
}

/// Keyed by Incode's `interviewId` within the account.
pub fn verification_session(owner: &Id, interview_id: &str) -> Key {
    key(account_partition(owner), format!("{}{interview_id}", prefix::VERIFICATION_SESSION))
}

/// Keyed by 360dialog's channel id within the account.
pub fn channel(owner: &Id, channel_id: &str) -> Key {
    key(account_partition(owner), format!("{}{channel_id}", prefix::CHANNEL))
}

pub fn campaign(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::CAMPAIGN))
}

pub fn client(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::CLIENT))
}

/// A client's onboarding link (its token hashed) → the client.
pub fn client_link(token_hash: &str) -> Key {
    key(format!("CLIENTLINK#{token_hash}"), "CLIENTLINK")
}

pub fn webhook_endpoint(owner: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", prefix::WEBHOOK_ENDPOINT))
}

/// Deliveries sort under their endpoint, so one Query lists an endpoint's, newest first.
pub fn delivery(owner: &Id, endpoint: &Id, id: &Id) -> Key {
    key(account_partition(owner), format!("{}{id}", deliveries_prefix(endpoint)))
}

pub fn deliveries_prefix(endpoint: &Id) -> String {
    format!("{}{endpoint}#", prefix::DELIVERY)
}

/// An `Idempotency-Key` of the account (by its hash), with the first response to it.
/// An Idempotency-Key's record, in a partition of its own: a busy key holder's keys (one per
/// request, each written twice) spread over partitions instead of filling its account's.
pub fn idempotency_key(owner: &Id, key_hash: &str) -> Key {
    key(format!("IDEMPOTENCY#{owner}#{key_hash}"), "KEY")
}

/// The GSI1 partition listing every completed onboard whose setup has not succeeded, across
/// accounts (a sparse index: an onboard is in it only while that holds), oldest completion first.
pub const UNFINISHED_SETUPS: &str = "SETUP#UNFINISHED";

/// An onboard's entry in `UNFINISHED_SETUPS`: sorted by when it was completed.
pub fn unfinished_setup_index(completed_at: &str, account: &Id, onboard: &Id) -> [(String, AttributeValue); 2] {
    [(GSI1_PK.to_string(), AttributeValue::S(UNFINISHED_SETUPS.into())), (GSI1_SK.to_string(), AttributeValue::S(format!("{completed_at}#{account}#{onboard}")))]
}

/// GSI1 entries that list an account's users and API keys.
/// An emailed sign-in link, by the hash of its token; used once, expires with TTL.
pub fn sign_in_link(token_hash: &str) -> Key {
    key(format!("SIGNIN#{token_hash}"), "SIGNIN")
}

/// When an address was last sent a sign-in email (by the hash of the address: no address is
/// stored for one that no account uses).
pub fn sign_in_throttle(address_hash: &str) -> Key {
    key(format!("SIGNINSENT#{address_hash}"), "SIGNINSENT")
}

/// When a connection's submission documents were last emailed to its source.
pub fn submission_docs_throttle(connection: &Id) -> Key {
    key(format!("DOCSSENT#{connection}"), "DOCSSENT")
}

/// A person's session, by the hash of its token.
pub fn session(token_hash: &str) -> Key {
    key(format!("SESSION#{token_hash}"), "SESSION")
}

/// The GSI1 entry listing a user's sessions, oldest first (signing out everywhere finds them).
pub fn user_sessions_index(email: &str, created_at: &str, id: &Id) -> [(String, AttributeValue); 2] {
    [(GSI1_PK.to_string(), AttributeValue::S(user_sessions(email))), (GSI1_SK.to_string(), AttributeValue::S(format!("{USER_SESSION}{created_at}#{id}")))]
}

/// The sort-key prefix of a user's sessions in GSI1.
pub const USER_SESSION: &str = "SESSION#";

pub fn user_sessions(email: &str) -> String {
    format!("USERSESSIONS#{email}")
}

pub fn account_index(account: &Id, sk: String) -> [(String, AttributeValue); 2] {
    [(GSI1_PK.to_string(), AttributeValue::S(account_partition(account))), (GSI1_SK.to_string(), AttributeValue::S(sk))]
}

/// Every item's `type` attribute: the variant's name in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum ItemType {
    Account,
    User,
    ApiKey,
    Invitation,
    InvitationToken,
    Entity,
    Connection,
    Partner,
    Audit,
    Onboard,
    OnboardGuard,
    Flow,
    BuyerStep,
    Integration,
    WebhookEvent,
    WebhookDedupe,
    VerificationSession,
    Channel,
    Campaign,
    Client,
    ClientLink,
    WebhookEndpoint,
    #[strum(serialize = "webhook_delivery")]
    Delivery,
    IdempotencyKey,
    Lead,
    /// A settled buyer step already counted in its connection's figures.
    CountedStep,
    /// A report's bucket: what leads did in an hour or a day.
    Report,
    /// A chunk of stream records already counted in reports.
    ReportedRecords,
    SignInLink,
    /// When an address was last sent a sign-in email.
    SignInThrottle,
    /// A person's session.
    Session,
    /// When a connection's submission documents were last emailed.
    SubmissionDocsThrottle,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A full item: the key, the type and the data's attributes.
pub fn item<T: Serialize>(key: &Key, kind: ItemType, data: &T) -> Result<Item, ApiError> {
    let mut item: Item = serde_dynamo::to_item(data)?;
    item.extend(key.to_item());
    item.insert(TYPE.to_string(), AttributeValue::S(kind.as_str().to_string()));
    Ok(item)
}

/// The data of an item; key attributes are ignored.
pub fn parse<T: DeserializeOwned>(item: Item) -> Result<T, ApiError> {
    Ok(serde_dynamo::from_item(item)?)
}

pub fn value<T: Serialize>(data: &T) -> Result<AttributeValue, ApiError> {
    Ok(serde_dynamo::to_attribute_value(data)?)
}

/// A `ttl` value: `after` from now, in epoch seconds.
pub fn expires_after(after: std::time::Duration) -> AttributeValue {
    AttributeValue::N(crate::platform::time::epoch_seconds(std::time::SystemTime::now() + after).to_string())
}

pub fn string(s: impl Into<String>) -> AttributeValue {
    AttributeValue::S(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_types_keep_the_names_stored_items_carry() {
        use ItemType::*;
        let names = [
            (Account, "account"), (User, "user"), (ApiKey, "api_key"), (Invitation, "invitation"), (InvitationToken, "invitation_token"),
            (Entity, "entity"), (Connection, "connection"), (Partner, "partner"), (Audit, "audit"), (Onboard, "onboard"),
            (OnboardGuard, "onboard_guard"), (Flow, "flow"), (BuyerStep, "buyer_step"), (Integration, "integration"),
            (WebhookEvent, "webhook_event"), (WebhookDedupe, "webhook_dedupe"), (VerificationSession, "verification_session"),
            (Channel, "channel"), (Campaign, "campaign"), (Client, "client"), (ClientLink, "client_link"),
            (WebhookEndpoint, "webhook_endpoint"), (Delivery, "webhook_delivery"), (IdempotencyKey, "idempotency_key"), (Lead, "lead"),
            (SignInLink, "sign_in_link"), (SignInThrottle, "sign_in_throttle"), (Session, "session"),
            (SubmissionDocsThrottle, "submission_docs_throttle"), (Report, "report"), (ReportedRecords, "reported_records"),
        ];
        for (kind, name) in names {
            assert_eq!(kind.as_str(), name);
        }
    }

    #[test]
    fn rate_limit_counters_are_per_key_and_window() {
        assert_ne!(rate_limit_counter("aa", 0, 60), rate_limit_counter("bb", 0, 60));
        assert_ne!(rate_limit_counter("aa", 0, 60), rate_limit_counter("aa", 0, 120));
        assert_ne!(rate_limit_counter("aa", 0, 60).pk, rate_limit_counter("aa", 1, 60).pk, "each shard a partition of its own");
    }

    #[test]
    fn an_api_key_record_names_its_hash() {
        assert_eq!(api_key_hash(&api_key("abc").pk), Some("abc"));
        assert_eq!(api_key_hash("ACCOUNT#abc"), None);
        let account = Id::generate();
        assert_eq!(account_of(&self::account(&account).to_item()), Some(account));
        assert_eq!(account_of(&api_key("abc").to_item()), None);
    }

    #[test]
    fn account_owned_keys_share_the_account_partition() {
        let account_id = Id::generate();
        let other = Id::generate();
        for k in [
            account(&account_id),
            invitation(&account_id, &other),
            entity(&account_id, &other),
            connection(&account_id, &other),
            audit(&account_id, &other),
            partner(&account_id, &Invitee::Account(other.clone())),
        ] {
            assert_eq!(k.pk, format!("ACCOUNT#{account_id}"));
        }
    }

    #[test]
    fn partner_keys_tell_accounts_and_emails_apart() {
        let owner = Id::generate();
        let by_account = partner(&owner, &Invitee::Account(owner.clone()));
        let by_email = partner(&owner, &Invitee::Email("a@b.co".into()));
        assert!(by_account.sk.starts_with("PARTNER#account:"));
        assert_eq!(by_email.sk, "PARTNER#email:a@b.co");
    }

    #[test]
    fn items_carry_key_type_and_data() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Data {
            name: String,
            note: Option<String>,
        }
        let k = account(&Id::generate());
        let data = Data { name: "Acme".into(), note: None };
        let it = item(&k, ItemType::Account, &data).unwrap();
        assert_eq!(it[TYPE], string("account"));
        assert_eq!(it[PK], string(k.pk.clone()));
        assert_eq!(parse::<Data>(it).unwrap(), data);
    }
}
