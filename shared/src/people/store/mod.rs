//! The people area's items: emailed sign-in links, when each address was last sent one, and
//! sessions. Each is found by the hash of its secret (a link's or a session's token, an
//! address), so a lookup is one GetItem and no secret is stored.

use crate::people::domain::{LINK_TTL, RESEND_AFTER, SESSION_TTL, Session, SignInLink};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::platform::{secret, time};
use crate::store::keys::{self, ItemType};
use crate::store::tx::{Part, TxError, Write, busy};

/// The people area's part of the table: sign-in links and sessions.
#[derive(Clone, Copy, Debug)]
pub struct PeopleTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// The people area's part of the table: sign-in links and sessions.
    pub fn people(&self) -> PeopleTable<'_> {
        PeopleTable { db: self }
    }
}

/// What a used link answers, told apart so the page can say what to do.
#[derive(Debug)]
pub enum LinkRefused {
    /// Unknown, or used already.
    Unknown,
    Expired,
}

impl PeopleTable<'_> {
    /// Whether `address` may be sent a sign-in email now (none in the last minute), recording
    /// the send if so: one conditional write, so two requests at once send one email.
    pub async fn may_email(&self, address: &str) -> Result<bool, ApiError> {
        self.db.first_within(keys::sign_in_throttle(&secret::hash(address)), ItemType::SignInThrottle, RESEND_AFTER).await
    }

    /// A new one-time link for a user; its token, returned once (only its hash is stored).
    pub async fn issue_link(&self, email: &str, account_id: &Id) -> Result<String, ApiError> {
        let token = secret::new_token();
        let link = SignInLink { email: email.to_string(), account_id: account_id.clone(), expires_at: time::from_now(LINK_TTL) };
        let key = keys::sign_in_link(&secret::hash(&token));
        let mut item = keys::item(&key, ItemType::SignInLink, &link)?;
        item.insert(keys::TTL.into(), keys::expires_after(LINK_TTL));
        self.db.transact(vec![Write::put(Part::Link, key, item).only_if("attribute_not_exists(#pk)")]).await.map_err(|err| match err {
            TxError::Busy => busy(),
            TxError::Other(e) => e,
            TxError::Condition(_) => ApiError::Conflict("sign-in link could not be made; retry".into()),
        })?;
        Ok(token)
    }

    /// The link a token names, if it may still be used.
    pub async fn link(&self, token: &str) -> Result<Result<SignInLink, LinkRefused>, ApiError> {
        let Some(link) = self.db.get_as::<SignInLink>(&keys::sign_in_link(&secret::hash(token))).await? else { return Ok(Err(LinkRefused::Unknown)) };
        Ok(if time::now() >= link.expires_at { Err(LinkRefused::Expired) } else { Ok(link) })
    }

    /// Uses the link once: deletes it and starts a session, in one transaction (a link used
    /// twice at once starts one session). The session's token, returned once, and the session.
    pub async fn sign_in(&self, token: &str) -> Result<Result<(String, Session), LinkRefused>, ApiError> {
        let link = match self.link(token).await? {
            Ok(link) => link,
            Err(refused) => return Ok(Err(refused)),
        };
        let session_token = secret::new_token();
        let session = Session {
            id: Id::generate(),
            email: link.email,
            account_id: link.account_id,
            created_at: time::now(),
            expires_at: time::from_now(SESSION_TTL),
            csrf: secret::new_token(),
        };
        let key = keys::session(&secret::hash(&session_token));
        let mut item = keys::item(&key, ItemType::Session, &session)?;
        item.insert(keys::TTL.into(), keys::expires_after(SESSION_TTL));
        item.extend(keys::user_sessions_index(&session.email, &session.created_at, &session.id));
        let writes = vec![
            Write::delete(Part::Link, keys::sign_in_link(&secret::hash(token))).only_if("attribute_exists(#pk)"),
            Write::put(Part::Session, key, item).only_if("attribute_not_exists(#pk)"),
        ];
        match self.db.transact(writes).await {
            Ok(()) => Ok(Ok((session_token, session))),
            Err(TxError::Condition(Part::Link)) => Ok(Err(LinkRefused::Unknown)),
            Err(TxError::Condition(_)) => Err(ApiError::Conflict("session could not be started; retry".into())),
            Err(TxError::Busy) => Err(busy()),
            Err(TxError::Other(e)) => Err(e),
        }
    }

    /// The live session a token names. The lookup is by hash; the stored hash is compared in
    /// constant time too, as an API key's is.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, ApiError> {
        let hash = secret::hash(token);
        let Some(item) = self.db.get(&keys::session(&hash)).await? else { return Ok(None) };
        let stored = item.get(keys::PK).and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("SESSION#"));
        if !stored.is_some_and(|stored| secret::hashes_match(stored, &hash)) {
            return Ok(None);
        }
        let session: Session = keys::parse(item)?;
        Ok((time::now() < session.expires_at).then_some(session))
    }

    /// Ends the session a token names (nothing to do if it is gone already).
    pub async fn end_session(&self, token: &str) -> Result<(), ApiError> {
        self.db.transact(vec![Write::delete(Part::Session, keys::session(&secret::hash(token)))]).await.map_err(|err| match err {
            TxError::Busy => busy(),
            TxError::Other(e) => e,
            TxError::Condition(_) => ApiError::Internal("an unconditional delete failed its condition".into()),
        })
    }

    /// Ends every session of a user (signing out everywhere): found through the index, deleted
    /// in transactions of up to 100. A user has few (each needs an emailed link, one a minute,
    /// and lasts 12 hours), so this is bounded; how many were ended.
    pub async fn end_sessions_of(&self, email: &str) -> Result<usize, ApiError> {
        let items = self.db.indexed(keys::user_sessions(email), keys::USER_SESSION, false, crate::store::tx::MAX_TRANSACTION_ITEMS as i32 * 10).await?;
        let sessions: Vec<keys::Key> = items
            .iter()
            .filter_map(|item| Some(keys::Key { pk: item.get(keys::PK)?.as_s().ok()?.clone(), sk: item.get(keys::SK)?.as_s().ok()?.clone() }))
            .collect();
        for chunk in sessions.chunks(crate::store::tx::MAX_TRANSACTION_ITEMS) {
            let deletes = chunk.iter().map(|key| Write::delete(Part::Session, key.clone())).collect();
            self.db.transact(deletes).await.map_err(|err| match err {
                TxError::Busy => busy(),
                TxError::Other(e) => e,
                TxError::Condition(_) => ApiError::Internal("an unconditional delete failed its condition".into()),
            })?;
        }
        Ok(sessions.len())
    }
}
