//! `Idempotency-Key` on the POSTs that create something, with Stripe's semantics: the same key
//! with the same request replays the first response (status and body) for 24 hours; with another
//! request it is a 422; while the first is still running, a 409. Keys are the account's own.
//!
//! Exactly once: a request claims its key, and the transaction that commits its effect also marks
//! the key done, conditioned on the claim (`crate::store::idempotency`). A retry never redoes a
//! committed effect: it replays the kept answer or, in the one window where the effect committed
//! and the answer was lost (the function died between the two writes), is told so (409). A
//! request that committed nothing releases its key, so a corrected retry runs. Paths whose answer
//! is known before the commit keep it in the effect's own transaction (`keep_with_effect`): no
//! window at all.

use std::future::Future;

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::platform::error::ApiError;
use crate::platform::http::{HandlerResult, body_bytes};
use crate::platform::id::Id;
use crate::platform::seal::Sealer;
use crate::store::Db;
use crate::store::idempotency::{self, KeyRecord};

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;

/// The key the client sent, if any: 1 to 255 visible ASCII characters.
pub fn key(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else { return Ok(None) };
    match value.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(key)),
        _ => Err(ApiError::BadRequest(format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"))),
    }
}

/// What a key was first used for: the method, the path and the body, hashed.
pub fn fingerprint(req: &Request) -> String {
    let mut hash = Sha256::new();
    for part in [req.method().as_str().as_bytes(), req.raw_http_path().as_bytes(), body_bytes(req)] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// A response kept for replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedResponse {
    pub status: u16,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl SavedResponse {
    /// Sealed for one key of one account (`context`): it opens nowhere else.
    pub fn seal(&self, sealer: &Sealer, context: &[u8]) -> Result<String, ApiError> {
        let json = serde_json::to_vec(self).map_err(|e| ApiError::Internal(e.to_string()))?;
        sealer.seal(context, &json).ok_or_else(|| ApiError::Internal("sealing a kept response".into()))
    }

    pub fn open(sealer: &Sealer, context: &[u8], sealed: &str) -> Result<SavedResponse, ApiError> {
        let json = sealer.open(context, sealed).ok_or_else(|| ApiError::Internal("a kept response does not open".into()))?;
        serde_json::from_slice(&json).map_err(|e| ApiError::Internal(e.to_string()))
    }
}

/// What to do with a request whose key is already held by `record`.
pub fn answer_for(sealer: &Sealer, record: &KeyRecord, fingerprint: &str, context: &[u8]) -> HandlerResult {
    if record.fingerprint != fingerprint {
        return Err(ApiError::validation("Idempotency-Key", "this key was already used with a different request; use a new key"));
    }
    match (&record.response, &record.done_at) {
        (Some(sealed), _) => replay(&SavedResponse::open(sealer, context, sealed)?),
        (None, Some(_)) => Err(ApiError::Conflict("the request with this Idempotency-Key was carried out, but its answer was not kept; read the result instead of retrying".into())),
        (None, None) => Err(ApiError::Conflict("a request with this Idempotency-Key is still in progress; retry shortly".into())),
    }
}

fn replay(saved: &SavedResponse) -> HandlerResult {
    let internal = |e: lambda_http::http::Error| ApiError::Internal(e.to_string());
    let mut response = Response::builder()
        .status(StatusCode::from_u16(saved.status).map_err(|e| ApiError::Internal(e.to_string()))?)
        .header("content-type", "application/json")
        .header("idempotent-replayed", "true");
    if let Some(etag) = &saved.etag {
        response = response.header("etag", etag);
    }
    response.body(Body::Text(saved.body.clone())).map_err(internal)
}

/// The response worth keeping: a success with a JSON body.
fn saved(response: &Response<Body>) -> Option<SavedResponse> {
    let Body::Text(body) = response.body() else { return None };
    response.status().is_success().then(|| SavedResponse {
        status: response.status().as_u16(),
        body: body.clone(),
        etag: response.headers().get("etag").and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_string),
    })
}

tokio::task_local! {
    /// The running keyed request's sealing context, for `keep_with_effect`.
    static KEEPING: (Sealer, String);
}

/// The answer `create` will give, kept by the transaction that commits its effect (call it just
/// before that commit). Without an Idempotency-Key it does nothing.
pub fn keep_with_effect(answer: &Response<Body>) -> Result<(), ApiError> {
    let Ok(sealed) = KEEPING.try_with(|(sealer, context)| saved(answer).map(|s| s.seal(sealer, context.as_bytes()))) else { return Ok(()) };
    if let Some(sealed) = sealed.transpose()? {
        idempotency::answer_with_effect(sealed);
    }
    Ok(())
}

/// Runs `create` at most once per `Idempotency-Key` of `account` (every time without one).
pub async fn once<F>(db: &Db, account: &Id, req: &Request, create: F) -> HandlerResult
where
    F: Future<Output = HandlerResult>,
{
    let Some(key) = key(req)? else { return create.await };
    let key_hash = crate::platform::secret::hash(key);
    let context = format!("{account}\0{key_hash}");
    let fingerprint = fingerprint(req);
    let claim = match db.claim_idempotency_key(account, &key_hash, &fingerprint).await? {
        Ok(claim) => claim,
        Err(held) => return answer_for(db.sealer(), &held, &fingerprint, context.as_bytes()),
    };
    let keeping = (db.sealer().clone(), context.clone());
    let (result, committed) = idempotency::under_claim(claim.clone(), KEEPING.scope(keeping, create)).await;
    let kept = match (&result, committed.effect) {
        (_, true) if committed.answer => Ok(()),
        (Ok(response), true) => match saved(response) {
            Some(response) => db.save_idempotent_response(&claim, &response.seal(db.sealer(), context.as_bytes())?).await,
            None => Ok(()),
        },
        // Committed, then failed: the key stays done, so no retry redoes the effect.
        (Err(_), true) => Ok(()),
        (_, false) => db.release_idempotency_key(&claim).await,
    };
    // The work is done (or refused) either way: a failure to keep its answer is logged, never
    // turned into an error for work that was done.
    if let Err(err) = kept {
        tracing::warn!(error = %err, committed = committed.effect, "idempotency key: the answer was not kept");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, body: &str, key: Option<&str>) -> Request {
        let mut req = Request::new(Body::Text(body.into()));
        *req.method_mut() = method.parse().unwrap();
        if let Some(key) = key {
            req.headers_mut().insert(HEADER, HeaderValue::from_str(key).unwrap());
        }
        req
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert_eq!(key(&request("POST", "{}", None)).unwrap(), None);
        assert_eq!(key(&request("POST", "{}", Some("order-1"))).unwrap(), Some("order-1"));
        for bad in ["", "with space", &"k".repeat(256)] {
            assert_eq!(key(&request("POST", "{}", Some(bad))).unwrap_err().status().as_u16(), 400, "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_covers_method_and_body() {
        let a = fingerprint(&request("POST", r#"{"name":"a"}"#, None));
        assert_eq!(a, fingerprint(&request("POST", r#"{"name":"a"}"#, Some("k"))), "the key itself is not part of it");
        assert_ne!(a, fingerprint(&request("POST", r#"{"name":"b"}"#, None)));
        assert_ne!(a, fingerprint(&request("PUT", r#"{"name":"a"}"#, None)));
    }

    #[test]
    fn a_held_key_replays_refuses_or_waits() {
        let sealer = Sealer::from_secret(Some("s"));
        let saved = SavedResponse { status: 201, body: "{\"secret\":\"whsec_shown_once_only\"}".into(), etag: Some("\"1\"".into()) };
        let done = KeyRecord { fingerprint: "f1".into(), response: Some(saved.seal(&sealer, b"k1").unwrap()), done_at: Some("2026-12-05T00:00:00Z".into()) };
        // A long marker: a two-letter one turns up in random ciphertext one run in about seventy.
        assert!(!done.response.as_deref().unwrap().contains("whsec_shown_once_only"), "kept sealed");
        assert_eq!(answer_for(&sealer, &done, "f1", b"k2").unwrap_err().status().as_u16(), 500, "another key's response does not open");
        let replayed = answer_for(&sealer, &done, "f1", b"k1").unwrap();
        assert_eq!(replayed.status(), 201);
        assert_eq!(replayed.headers()["etag"], "\"1\"");
        assert_eq!(replayed.headers()["idempotent-replayed"], "true");
        assert_eq!(replayed.body(), &Body::Text("{\"secret\":\"whsec_shown_once_only\"}".into()));
        assert_eq!(answer_for(&sealer, &done, "f2", b"k1").unwrap_err().status().as_u16(), 422, "another request");
        let running = KeyRecord { fingerprint: "f1".into(), response: None, done_at: None };
        assert!(answer_for(&sealer, &running, "f1", b"k1").unwrap_err().to_string().contains("in progress"));
        assert_eq!(answer_for(&sealer, &running, "f2", b"k1").unwrap_err().status().as_u16(), 422);
        let unanswered = KeyRecord { fingerprint: "f1".into(), response: None, done_at: Some("2026-12-05T00:00:00Z".into()) };
        let refused = answer_for(&sealer, &unanswered, "f1", b"k1").unwrap_err();
        assert_eq!(refused.status().as_u16(), 409, "done: never run again");
        assert!(refused.to_string().contains("carried out"), "{refused}");
    }

    #[test]
    fn only_successes_are_kept() {
        let created = Response::builder().status(201).body(Body::Text("{}".into())).unwrap();
        assert_eq!(saved(&created).map(|s| s.status), Some(201));
        let refused = Response::builder().status(409).body(Body::Text("{}".into())).unwrap();
        assert_eq!(saved(&refused), None);
    }
}
