//! Channel onboarding (seed 004, 360dialog Integrated Onboarding).
//!
//! Two sources of truth with different trust: the client's browser lands on the redirect URL with
//! `client`, `channels=[..]` and `revoked=[..]` — unauthenticated, so it is recorded only as the
//! client's *claim* of permission; the partner hub's webhook events are authenticated and are the
//! only thing that sets a channel's `status`.

use serde::{Deserialize, Serialize};

use crate::platform::validate::external_id;
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// A channel's status: `pending` until the hub reports on it, then what the hub says. The
/// lifecycle statuses come in order (`created`, `ready`, `running`: a late event never moves a
/// channel back along it); any other status the hub reports (suspended, deleted…) is kept as
/// reported and applies as such.
/// Stored and shown as its name, read through `named` (a plain string, which keeps serde's
/// buffering of untagged variants out of the binaries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ChannelStatus {
    Pending,
    Created,
    Ready,
    /// The only status in which an API key may be generated (seed 004).
    Running,
    Other(String),
}

impl From<String> for ChannelStatus {
    fn from(name: String) -> ChannelStatus {
        ChannelStatus::named(&name)
    }
}

impl From<ChannelStatus> for String {
    fn from(status: ChannelStatus) -> String {
        status.as_str().to_string()
    }
}

impl ChannelStatus {
    /// The status a hub names (`running`, `suspended`…).
    pub fn named(name: &str) -> ChannelStatus {
        match name {
            "pending" => ChannelStatus::Pending,
            "created" => ChannelStatus::Created,
            "ready" => ChannelStatus::Ready,
            "running" => ChannelStatus::Running,
            other => ChannelStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ChannelStatus::Pending => "pending",
            ChannelStatus::Created => "created",
            ChannelStatus::Ready => "ready",
            ChannelStatus::Running => "running",
            ChannelStatus::Other(name) => name,
        }
    }

    /// Its place in the lifecycle, if it is a lifecycle status.
    fn rank(&self) -> Option<u8> {
        match self {
            ChannelStatus::Created => Some(0),
            ChannelStatus::Ready => Some(1),
            ChannelStatus::Running => Some(2),
            ChannelStatus::Pending | ChannelStatus::Other(_) => None,
        }
    }

    /// Whether a report of `reported` moves a channel in this status: never back along the
    /// lifecycle, never to the status it has.
    pub fn moved_by(&self, reported: &ChannelStatus) -> bool {
        match (self.rank(), reported.rank()) {
            (Some(now), Some(new)) => new > now,
            _ => self != reported,
        }
    }
}
/// Channels named in one redirect (granted and revoked): a client has a handful of numbers, and
/// the claims are written in one transaction (at most 100 items).
pub const MAX_CHANNELS_PER_REDIRECT: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Granted,
    Revoked,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: String,
    pub integration_id: Id,
    /// The 360dialog client the hub reported for the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `pending` until the hub reports on the channel.
    #[serde(default = "pending")]
    pub status: ChannelStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_updated_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// What the latest redirect claimed, and for which client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<Permission>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by_client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_created_at: Option<Timestamp>,
    /// Counts status changes; conditions on it order concurrent hub events.
    #[serde(default)]
    pub version: u64,
}

impl Channel {
    /// A channel known only from a redirect's claim: pending until the hub reports on it.
    pub fn claimed(id: &str, integration_id: &Id, permission: Permission, client: &str, now: &Timestamp) -> Channel {
        Channel {
            id: id.to_string(),
            integration_id: integration_id.clone(),
            client_id: None,
            status: pending(),
            status_updated_at: None,
            phone_number: None,
            permission: Some(permission),
            claimed_by_client: Some(client.to_string()),
            claimed_at: Some(now.clone()),
            api_key_created_at: None,
            version: 0,
        }
    }
}

fn pending() -> ChannelStatus {
    ChannelStatus::Pending
}

/// A bracketed list from the redirect query: `[]`, `[a]`, `[a,b]` (spaces around ids allowed).
pub fn parse_id_list(name: &str, raw: &str) -> Result<Vec<String>, Refusal> {
    let bad = |why: &str| Refusal::Malformed(format!("{name} must be a bracketed list of channel ids like [id1,id2]: {why}"));
    let inner = raw.trim().strip_prefix('[').and_then(|r| r.strip_suffix(']')).ok_or_else(|| bad("brackets missing"))?;
    if inner.trim().is_empty() {
        return Ok(vec![]);
    }
    let mut ids: Vec<String> = vec![];
    for part in inner.split(',') {
        let id = external_id(part.trim()).ok_or_else(|| bad(&format!("'{}' is not a channel id", part.trim())))?;
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_string());
        }
    }
    if ids.len() > MAX_CHANNELS_PER_REDIRECT {
        return Err(bad(&format!("at most {MAX_CHANNELS_PER_REDIRECT} channels")));
    }
    Ok(ids)
}

/// The redirect's query, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Redirect {
    pub client: String,
    pub granted: Vec<String>,
    pub revoked: Vec<String>,
}

impl Redirect {
    pub fn parse(client: Option<&str>, channels: Option<&str>, revoked: Option<&str>) -> Result<Redirect, Refusal> {
        let client = client.ok_or_else(|| Refusal::Malformed("the client query parameter is required".into()))?;
        let client = external_id(client).ok_or_else(|| Refusal::Malformed(format!("client '{client}' is not a valid client id")))?;
        let mut granted = parse_id_list("channels", channels.ok_or_else(|| Refusal::Malformed("the channels query parameter is required".into()))?)?;
        let revoked = revoked.map(|r| parse_id_list("revoked", r)).transpose()?.unwrap_or_default();
        if granted.len() + revoked.len() > MAX_CHANNELS_PER_REDIRECT {
            return Err(Refusal::Malformed(format!("at most {MAX_CHANNELS_PER_REDIRECT} channels per redirect")));
        }
        // A channel named both ways lost its permission: removal is the later state.
        granted.retain(|id| !revoked.contains(id));
        Ok(Redirect { client: client.to_string(), granted, revoked })
    }
}

/// What a partner-hub event says about a channel.
#[derive(Clone, Debug, PartialEq)]
pub struct HubChannelEvent {
    pub channel_id: String,
    pub status: Option<ChannelStatus>,
    pub client_id: Option<String>,
    pub phone_number: Option<String>,
}

/// Reads a hub event (`{"event": "channel_running", "payload": {...}}`; fields read from
/// `payload` or, failing that, the top level). `channel_ready` / `channel_running` imply their
/// status; other channel events carry theirs in `status`. Events about no channel give `None`.
pub fn hub_channel_event(event: &str, body: &serde_json::Value) -> Option<HubChannelEvent> {
    let fields = body.get("payload").filter(|p| p.is_object()).unwrap_or(body);
    let text = |name: &str| fields.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let channel_id = text("channel_id").or_else(|| text("id")).filter(|id| external_id(id).is_some())?;
    if !event.starts_with("channel_") {
        return None;
    }
    let status = match event {
        "channel_ready" => Some(ChannelStatus::Ready),
        "channel_running" => Some(ChannelStatus::Running),
        "channel_created" => Some(text("status").map_or(ChannelStatus::Created, |s| ChannelStatus::named(&s))),
        _ => text("status").map(|s| ChannelStatus::named(&s)),
    };
    Some(HubChannelEvent { channel_id, status, client_id: text("client_id"), phone_number: text("phone_number") })
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_and_write_as_the_hub_names_them_the_unknown_ones_too() {
        for name in ["pending", "created", "ready", "running", "suspended", "deleted"] {
            let status = ChannelStatus::named(name);
            assert_eq!(status.as_str(), name);
            assert_eq!(serde_json::to_value(&status).unwrap(), name, "stored as named");
            assert_eq!(serde_json::from_value::<ChannelStatus>(name.into()).unwrap(), status, "read back the same");
        }
        assert_eq!(ChannelStatus::named("suspended"), ChannelStatus::Other("suspended".into()));
    }

    #[test]
    fn redirect_lists_parse() {
        assert_eq!(parse_id_list("channels", "[]").unwrap(), Vec::<String>::new());
        assert_eq!(parse_id_list("channels", "[ ]").unwrap(), Vec::<String>::new());
        assert_eq!(parse_id_list("channels", "[abc]").unwrap(), vec!["abc"]);
        assert_eq!(parse_id_list("channels", "[a1, b2,a1]").unwrap(), vec!["a1", "b2"]);
        for bad in ["", "abc", "[abc", "abc]", "[a,,b]", "[a,]", "[[a]]", "[a b]", "[a;b]", "(a)"] {
            assert!(parse_id_list("channels", bad).is_err(), "{bad:?}");
        }
        let many = format!("[{}]", (0..=MAX_CHANNELS_PER_REDIRECT).map(|i| format!("c{i}")).collect::<Vec<_>>().join(","));
        assert!(parse_id_list("channels", &many).is_err());
    }

    #[test]
    fn redirects_need_a_client_and_channels() {
        let ok = Redirect::parse(Some("cl1"), Some("[ch1,ch2]"), Some("[ch3]")).unwrap();
        assert_eq!((ok.granted.len(), ok.revoked), (2, vec!["ch3".to_string()]));
        assert!(Redirect::parse(None, Some("[]"), None).is_err());
        assert!(Redirect::parse(Some("cl1"), None, None).is_err());
        assert!(Redirect::parse(Some("bad client"), Some("[]"), None).is_err());
        let both = Redirect::parse(Some("cl1"), Some("[a,b]"), Some("[a]")).unwrap();
        assert_eq!((both.granted, both.revoked), (vec!["b".to_string()], vec!["a".to_string()]), "a channel named both ways was revoked");
    }

    #[test]
    fn hub_events_name_channel_and_status() {
        let body = serde_json::json!({"event": "channel_running", "payload": {"id": "ch1", "client_id": "cl1"}});
        let e = hub_channel_event("channel_running", &body).unwrap();
        assert_eq!((e.channel_id.as_str(), e.status.as_ref().map(ChannelStatus::as_str), e.client_id.as_deref()), ("ch1", Some("running"), Some("cl1")));
        let created = serde_json::json!({"channel_id": "ch2", "status": "pending"});
        assert_eq!(hub_channel_event("channel_created", &created).unwrap().status, Some(ChannelStatus::Pending));
        assert!(hub_channel_event("client_created", &serde_json::json!({"id": "cl1"})).is_none());
        assert!(hub_channel_event("channel_ready", &serde_json::json!({"payload": {}})).is_none());
    }

    #[test]
    fn lifecycle_never_moves_back() {
        assert!(ChannelStatus::named("pending").moved_by(&ChannelStatus::named("created")));
        assert!(ChannelStatus::named("created").moved_by(&ChannelStatus::named("running")));
        assert!(!ChannelStatus::named("running").moved_by(&ChannelStatus::named("ready")));
        assert!(!ChannelStatus::named("running").moved_by(&ChannelStatus::named("running")));
        assert!(ChannelStatus::named("running").moved_by(&ChannelStatus::named("suspended")));
        assert!(ChannelStatus::named("suspended").moved_by(&ChannelStatus::named("running")));
    }
}
