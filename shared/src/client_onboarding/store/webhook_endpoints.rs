//! Outbound webhook endpoints and their deliveries. An event is fanned out into one delivery per
//! subscribed endpoint inside the transaction of the change that caused it (the outbox); the
//! table's stream then queues each new delivery for the `webhook-deliver` function.

use super::ClientOnboardingTable;
use crate::store::lists::{Page, PageRequest};
use crate::store::tx::{Part, TxError, UpdateError, Write, busy};
use crate::client_onboarding::domain::campaign::EventType;
use crate::client_onboarding::domain::webhook_endpoint::{
    self, Attempt, Delivery, DeliveryStatus, Endpoint, EndpointBody, EndpointStatus, SigningSecret,
};
use crate::platform::error::ApiError;
use crate::platform::public_url::UrlPolicy;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::platform::signature;
use crate::platform::time::{self, Timestamp};

/// What a delivery's sealed body is sealed for: that delivery of that account, nothing else.
fn seal_context(account: &Id, delivery: &Id) -> Vec<u8> {
    format!("webhook delivery {account} {delivery}").into_bytes()
}

impl ClientOnboardingTable<'_> {
    /// The new endpoint and its secret, shown once.
    pub async fn create_endpoint(&self, account: &Id, body: EndpointBody, policy: UrlPolicy) -> Result<(Endpoint, String), ApiError> {
        let existing: Page<Endpoint> = self.db.list(account, prefix::WEBHOOK_ENDPOINT, &PageRequest { limit: 100, cursor: None }, None).await?;
        if existing.items.len() >= webhook_endpoint::MAX_ENDPOINTS {
            return Err(ApiError::Conflict(format!("an account has at most {} webhook endpoints; delete one first", webhook_endpoint::MAX_ENDPOINTS)));
        }
        let secret = signature::new_standard_secret();
        let endpoint = body.into_endpoint(Id::generate(), secret.clone(), policy, time::now())?;
        let key = keys::webhook_endpoint(account, &endpoint.id);
        self.db.transact(vec![Write::put(Part::Endpoint, key.clone(), keys::item(&key, ItemType::WebhookEndpoint, &endpoint)?).only_if("attribute_not_exists(#pk)")])
            .await
            .map_err(|err| match err {
                TxError::Other(e) => e,
                TxError::Busy => busy(),
                _ => ApiError::Conflict("the endpoint could not be created; retry".into()),
            })?;
        Ok((endpoint, secret))
    }

    pub async fn endpoint(&self, account: &Id, id: &Id) -> Result<Endpoint, ApiError> {
        self.db.get_as(&keys::webhook_endpoint(account, id)).await?.ok_or(ApiError::NotFound("webhook endpoint"))
    }

    pub async fn endpoints(&self, account: &Id, page: &PageRequest) -> Result<Page<Endpoint>, ApiError> {
        self.db.list(account, prefix::WEBHOOK_ENDPOINT, page, None).await
    }

    /// Its deliveries stay readable until the account's data is removed; none is sent again.
    pub async fn delete_endpoint(&self, account: &Id, id: &Id) -> Result<(), ApiError> {
        self.db.transact(vec![Write::delete(Part::Endpoint, keys::webhook_endpoint(account, id)).only_if("attribute_exists(#pk)")]).await.map_err(|err| match err {
            TxError::Condition(_) => ApiError::NotFound("webhook endpoint"),
            TxError::Busy => busy(),
            TxError::Other(e) => e,
        })
    }

    /// A new signing secret (shown once); the previous ones keep signing for the overlap.
    pub async fn rotate_endpoint_secret(&self, account: &Id, id: &Id) -> Result<(Endpoint, String), ApiError> {
        let mut endpoint = self.endpoint(account, id).await?;
        let now = time::now();
        let expiry = time::from_now(webhook_endpoint::ROTATION_OVERLAP);
        endpoint.secrets.retain(|s| s.expires_at.as_deref().is_none_or(|e| e > now.as_str()));
        for old in endpoint.secrets.iter_mut().filter(|s| s.expires_at.is_none()) {
            old.expires_at = Some(expiry.clone());
        }
        let secret = signature::new_standard_secret();
        endpoint.secrets.push(SigningSecret { secret: secret.clone(), created_at: now, expires_at: None });
        let write = Write::update(Part::Endpoint, keys::webhook_endpoint(account, id)).set("secrets", keys::value(&endpoint.secrets)?).only_if("attribute_exists(#pk)");
        match self.db.update_returning(write).await {
            Ok(_) => Ok((endpoint, secret)),
            Err(UpdateError::Condition(_)) => Err(ApiError::NotFound("webhook endpoint")),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// The outbox writes of one event: a delivery per active endpoint subscribed to it, to go
    /// into the transaction of the change that caused the event.
    /// One delivery of `event` per subscribed endpoint, kept as `body`; `secret_body`, when the
    /// event carries a secret, is what is sent (sealed until the delivery settles).
    pub(in crate::store) async fn event_writes(&self, account: &Id, event: EventType, body: &str, secret_body: Option<&str>) -> Result<Vec<Write>, ApiError> {
        let endpoints: Page<Endpoint> = self.db.list(account, prefix::WEBHOOK_ENDPOINT, &PageRequest { limit: 100, cursor: None }, None).await?;
        let now = time::now();
        let mut writes = vec![];
        for endpoint in endpoints.items.iter().filter(|e| e.subscribes_to(event)) {
            let id = Id::generate();
            let sealed_body = secret_body.map(|secret| self.db.sealer().seal(&seal_context(account, &id), secret.as_bytes()).ok_or_else(|| ApiError::Internal("sealing a delivery body".into()))).transpose()?;
            let delivery = Delivery {
                message_id: format!("msg_{id}"),
                id,
                endpoint_id: endpoint.id.clone(),
                event,
                body: body.to_string(),
                sealed_body,
                status: DeliveryStatus::Pending,
                attempts: vec![],
                created_at: now.clone(),
                next_attempt_at: Some(now.clone()),
                replay_of: None,
            };
            writes.push(self.delivery_put(account, &delivery)?);
        }
        Ok(writes)
    }

    /// The bytes to send for `delivery`: its sealed body while it has one, else its body. A
    /// sealed body that does not open (the stack secret was rotated since) is sent as kept,
    /// without its secret, and logged.
    pub fn body_to_send(&self, account: &Id, delivery: &Delivery) -> String {
        let Some(sealed) = delivery.sealed_body.as_deref() else { return delivery.body.clone() };
        match self.db.sealer().open(&seal_context(account, &delivery.id), sealed).map(String::from_utf8) {
            Some(Ok(body)) => body,
            _ => {
                tracing::error!(delivery = %delivery.id, "a delivery's sealed body does not open (was the stack secret rotated?): sending the event without its secret");
                delivery.body.clone()
            }
        }
    }

    fn delivery_put(&self, account: &Id, delivery: &Delivery) -> Result<Write, ApiError> {
        let key = keys::delivery(account, &delivery.endpoint_id, &delivery.id);
        let mut item = keys::item(&key, ItemType::Delivery, delivery)?;
        item.insert("account_id".into(), keys::value(account)?);
        Ok(Write::put(Part::Delivery, key, item))
    }

    /// Newest first; another account's endpoint is a 404.
    pub async fn deliveries(&self, account: &Id, endpoint: &Id, page: &PageRequest) -> Result<Page<Delivery>, ApiError> {
        self.endpoint(account, endpoint).await?;
        let page: Page<Delivery> = self.db.list(account, &keys::deliveries_prefix(endpoint), page, None).await?;
        Ok(Page { items: page.items.into_iter().map(Delivery::shown).collect(), next_cursor: page.next_cursor })
    }

    pub async fn delivery(&self, account: &Id, endpoint: &Id, id: &Id) -> Result<Delivery, ApiError> {
        self.db.get_as(&keys::delivery(account, endpoint, id)).await?.ok_or(ApiError::NotFound("delivery"))
    }

    /// A delivery as its sender reads it, with its endpoint (absent once deleted): both keys are
    /// in the queue message, so the two reads run at once.
    pub async fn delivery_to_send(&self, account: &Id, endpoint: &Id, id: &Id) -> Result<(Option<Delivery>, Option<Endpoint>), ApiError> {
        let (delivery_key, endpoint_key) = (keys::delivery(account, endpoint, id), keys::webhook_endpoint(account, endpoint));
        let (delivery, endpoint) = tokio::join!(self.db.get_as::<Delivery>(&delivery_key), self.db.get_as::<Endpoint>(&endpoint_key));
        Ok((delivery?, endpoint?))
    }

    /// The endpoint's failed deliveries created at or after `since`, newest first: pages of its
    /// delivery list, read until one is older.
    pub async fn failed_deliveries_since(&self, account: &Id, endpoint: &Id, since: &str) -> Result<Vec<Delivery>, ApiError> {
        let mut failed = vec![];
        let mut page = PageRequest::from_query(Some("100"), None)?;
        loop {
            let listed = self.deliveries(account, endpoint, &page).await?;
            let older = listed.items.iter().any(|d| d.created_at.as_str() < since);
            failed.extend(listed.items.into_iter().filter(|d| d.created_at.as_str() >= since && d.status == DeliveryStatus::Failed));
            match listed.next_cursor {
                Some(cursor) if !older => page = PageRequest::from_query(Some("100"), Some(&cursor))?,
                _ => return Ok(failed),
            }
        }
    }

    /// Sends a delivery's event again as a new delivery (new `webhook-id`, since the receiver is
    /// meant to process it again), to an endpoint that is active.
    pub async fn replay_delivery(&self, account: &Id, endpoint_id: &Id, id: &Id) -> Result<Delivery, ApiError> {
        let endpoint = self.endpoint(account, endpoint_id).await?;
        let original = self.delivery(account, endpoint_id, id).await?;
        if endpoint.status != EndpointStatus::Active {
            return Err(ApiError::Conflict(format!("endpoint {endpoint_id} is disabled: {}", endpoint.disabled_reason.unwrap_or_default())));
        }
        let new_id = Id::generate();
        let now = time::now();
        let replay = Delivery {
            message_id: format!("msg_{new_id}"),
            id: new_id,
            status: DeliveryStatus::Pending,
            attempts: vec![],
            created_at: now.clone(),
            next_attempt_at: Some(now),
            replay_of: Some(original.id.clone()),
            // The secret the original carried was shown once: the replay sends the kept body.
            sealed_body: None,
            ..original
        };
        self.db.transact(vec![self.delivery_put(account, &replay)?]).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict("the replay could not be recorded; retry".into()),
        })?;
        Ok(replay)
    }

    /// Records an attempt and the delivery's new state in one UpdateItem; only a pending
    /// delivery changes (a redelivered queue message finds it settled and does nothing).
    pub async fn record_attempt(&self, account: &Id, delivery: &Delivery, attempt: Attempt, status: DeliveryStatus, next_attempt_at: Option<Timestamp>) -> Result<bool, ApiError> {
        let mut write = Write::update(Part::Delivery, keys::delivery(account, &delivery.endpoint_id, &delivery.id))
            .set("attempts", keys::value(&[delivery.attempts.clone(), vec![attempt]].concat())?)
            .set("status", keys::value(&status)?)
            .only_if("#status = :pending AND size(#attempts) = :made")
            .value(":pending", keys::value(&DeliveryStatus::Pending)?)
            .value(":made", keys::value(&delivery.attempts.len())?);
        write = match next_attempt_at {
            Some(at) => write.set("next_attempt_at", keys::string(at)),
            None => write.remove("next_attempt_at"),
        };
        if status != DeliveryStatus::Pending {
            // Settled: the secret it carried is kept no longer.
            write = write.remove("sealed_body");
        }
        match self.db.update_returning(write).await {
            Ok(_) => Ok(true),
            Err(UpdateError::Condition(_)) => Ok(false),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }

    /// After a 410 Gone: the endpoint gets nothing more.
    pub async fn disable_endpoint(&self, account: &Id, id: &Id, reason: &str) -> Result<(), ApiError> {
        let write = Write::update(Part::Endpoint, keys::webhook_endpoint(account, id))
            .set("status", keys::value(&EndpointStatus::Disabled)?)
            .set("disabled_reason", keys::string(reason))
            .only_if("attribute_exists(#pk)");
        match self.db.update_returning(write).await {
            Ok(_) | Err(UpdateError::Condition(_)) => Ok(()),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }
}
