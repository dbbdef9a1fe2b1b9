//! Campaigns and clients (seed 001). Every change that emits an event commits with its outbox
//! deliveries in one transaction.

use super::ClientOnboardingTable;
use crate::store::lists::{Filter, Page, PageRequest};
use crate::store::tx::{Part, TxError, UpdateError, Write, busy};
use crate::client_onboarding::domain::campaign::{self, Campaign, CampaignBody, CampaignStatus, Client, ClientBody, ClientDetails, ClientStatus, EventType};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::platform::{secret, time};

/// What a link token resolves to.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ClientLink {
    pub account_id: Id,
    pub client_id: Id,
}

/// The check that a client exists, for another area's transaction that names one.
pub(in crate::store) fn client_exists(account: &Id, client: &Id) -> Write {
    Write::check(Part::Client, keys::client(account, client)).only_if("attribute_exists(#pk)")
}

fn tx_error(what: &'static str) -> impl Fn(TxError) -> ApiError {
    move |err| match err {
        TxError::Other(e) => e,
        TxError::Condition(_) => ApiError::NotFound(what),
        TxError::Busy => busy(),
    }
}

impl ClientOnboardingTable<'_> {
    pub async fn create_campaign(&self, account: &Id, body: CampaignBody) -> Result<Campaign, ApiError> {
        let now = time::now();
        let campaign = Campaign { id: Id::generate(), name: body.name()?, status: CampaignStatus::Draft, created_at: now.clone(), updated_at: now, published_at: None };
        let key = keys::campaign(account, &campaign.id);
        let put = Write::put(Part::Campaign, key.clone(), keys::item(&key, ItemType::Campaign, &campaign)?).only_if("attribute_not_exists(#pk)");
        self.db.transact(vec![put]).await.map_err(tx_error("campaign"))?;
        Ok(campaign)
    }

    pub async fn campaign(&self, account: &Id, id: &Id) -> Result<Campaign, ApiError> {
        self.db.get_as(&keys::campaign(account, id)).await?.ok_or(ApiError::NotFound("campaign"))
    }

    /// Published ones (the seed's list) unless `status` asks for drafts or `all`.
    pub async fn campaigns(&self, account: &Id, status: Option<&str>, page: &PageRequest) -> Result<Page<Campaign>, ApiError> {
        let wanted = match status.unwrap_or("published") {
            "all" => None,
            "published" => Some(CampaignStatus::Published),
            "draft" => Some(CampaignStatus::Draft),
            other => return Err(ApiError::BadRequest(format!("status must be published, draft or all, not '{other}'"))),
        };
        let filter = wanted.map(|s| Ok::<_, ApiError>(Filter { expression: "#status = :status".into(), values: vec![(":status", keys::value(&s)?)] })).transpose()?;
        self.db.list(account, prefix::CAMPAIGN, page, filter).await
    }

    pub async fn rename_campaign(&self, account: &Id, id: &Id, body: CampaignBody) -> Result<Campaign, ApiError> {
        let write = Write::update(Part::Campaign, keys::campaign(account, id))
            .set("name", keys::string(body.name()?))
            .set("updated_at", keys::string(time::now()))
            .only_if("attribute_exists(#pk)");
        match self.db.update_returning(write).await {
            Ok(item) => keys::parse(item),
            Err(UpdateError::Condition(_)) => Err(ApiError::NotFound("campaign")),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// Publishing emits `flow.created` (seed 001: "Campaign published"), once: publishing a
    /// published campaign changes nothing and emits nothing.
    pub async fn publish_campaign(&self, account: &Id, id: &Id) -> Result<Campaign, ApiError> {
        let campaign = self.campaign(account, id).await?;
        if campaign.status == CampaignStatus::Published {
            return Ok(campaign);
        }
        let now = time::now();
        let published = Campaign { status: CampaignStatus::Published, published_at: Some(now.clone()), updated_at: now.clone(), ..campaign };
        let key = keys::campaign(account, id);
        let mut writes = vec![
            Write::update(Part::Campaign, key)
                .set("status", keys::value(&CampaignStatus::Published)?)
                .set("published_at", keys::string(now.as_str()))
                .set("updated_at", keys::string(now.as_str()))
                .only_if("#status = :draft")
                .value(":draft", keys::value(&CampaignStatus::Draft)?),
        ];
        writes.extend(self.event_writes(account, EventType::FlowCreated, &campaign::campaign_published_event(&published, &now)?, None).await?);
        match self.db.transact(writes).await {
            Ok(()) => Ok(published),
            // Published meanwhile by another request: that one emitted the event.
            Err(TxError::Condition(_)) => self.campaign(account, id).await,
            Err(err) => Err(tx_error("campaign")(err)),
        }
    }

    /// The new client and its onboarding link (`link_base` + `/c/<token>`), shown once.
    pub async fn create_client(&self, account: &Id, body: ClientBody, link_base: &str) -> Result<(Client, String), ApiError> {
        let campaign = self.campaign(account, &body.campaign_id).await?;
        if campaign.status != CampaignStatus::Published {
            return Err(ApiError::Conflict(format!("campaign {} is a draft; publish it before adding clients", campaign.id)));
        }
        let now = time::now();
        let client = body.into_client(Id::generate(), now.clone())?;
        let token = secret::new_token();
        let link = format!("{}/c/{token}", link_base.trim_end_matches('/'));
        let key = keys::client(account, &client.id);
        let link_key = keys::client_link(&secret::hash(&token));
        let mut writes = vec![
            Write::put(Part::Client, key.clone(), keys::item(&key, ItemType::Client, &client)?).only_if("attribute_not_exists(#pk)"),
            Write::put(Part::Link, link_key.clone(), keys::item(&link_key, ItemType::ClientLink, &ClientLink { account_id: account.clone(), client_id: client.id.clone() })?)
                .only_if("attribute_not_exists(#pk)"),
            // The campaign must still exist when the client is added to it.
            Write::check(Part::Campaign, keys::campaign(account, &campaign.id)).only_if("attribute_exists(#pk)"),
        ];
        // The link goes to the endpoints once; what is kept and listed leaves it out.
        let sent = campaign::client_event(EventType::ClientCreated, &client, &campaign.name, Some(&link), &now)?;
        let kept = campaign::client_event(EventType::ClientCreated, &client, &campaign.name, None, &now)?;
        writes.extend(self.event_writes(account, EventType::ClientCreated, &kept, Some(&sent)).await?);
        self.db.transact(writes).await.map_err(tx_error("campaign"))?;
        Ok((client, link))
    }

    /// The account's clients, optionally of one campaign.
    pub async fn clients(&self, account: &Id, campaign_id: Option<&Id>, page: &PageRequest) -> Result<Page<Client>, ApiError> {
        let filter = campaign_id.map(|id| Ok::<_, ApiError>(Filter { expression: "#campaign_id = :campaign".into(), values: vec![(":campaign", keys::value(id)?)] })).transpose()?;
        self.db.list(account, prefix::CLIENT, page, filter).await
    }

    /// The client and campaign behind an onboarding link; an unknown token is a 404.
    pub async fn client_by_link(&self, token: &str) -> Result<(Id, Client, Campaign), ApiError> {
        let link: ClientLink = self.db.get_as(&keys::client_link(&secret::hash(token))).await?.ok_or(ApiError::NotFound("onboarding link"))?;
        let client: Client = self.db.get_as(&keys::client(&link.account_id, &link.client_id)).await?.ok_or(ApiError::NotFound("onboarding link"))?;
        let campaign = self.campaign(&link.account_id, &client.campaign_id).await.map_err(|_| ApiError::NotFound("onboarding link"))?;
        Ok((link.account_id, client, campaign))
    }

    /// The client finished onboarding with `details`: marked completed and `client.completed`
    /// emitted, once (a repeated call answers with the completed client and emits nothing).
    pub async fn complete_client(&self, token: &str, details: ClientDetails) -> Result<Client, ApiError> {
        let (account, client, campaign) = self.client_by_link(token).await?;
        if client.status == ClientStatus::Completed {
            return Ok(client);
        }
        let now = time::now();
        let completed = details.complete(client, &now)?;
        let mut update = Write::update(Part::Client, keys::client(&account, &completed.id))
            .set("status", keys::value(&ClientStatus::Completed)?)
            .set("completed_at", keys::string(now.as_str()));
        for (name, value) in [("first_name", &completed.first_name), ("last_name", &completed.last_name), ("company_name", &completed.company_name), ("phone", &completed.phone)] {
            update = update.set(name, keys::value(value)?);
        }
        let mut writes = vec![update.only_if("#status = :invited").value(":invited", keys::value(&ClientStatus::Invited)?)];
        let body = campaign::client_event(EventType::ClientCompleted, &completed, &campaign.name, None, &now)?;
        writes.extend(self.event_writes(&account, EventType::ClientCompleted, &body, None).await?);
        match self.db.transact(writes).await {
            Ok(()) => Ok(completed),
            Err(TxError::Condition(_)) => Ok(self.client_by_link(token).await?.1),
            Err(err) => Err(tx_error("client")(err)),
        }
    }
}
