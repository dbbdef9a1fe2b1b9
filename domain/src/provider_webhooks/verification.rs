//! Identity-verification sessions (seed 003, Incode): statuses arrive by webhook, retried and in
//! any order. The current status is a pure function of the set of statuses received, so a late
//! or repeated delivery can never move it backwards:
//!
//! - the furthest of the ordered statuses `ID_VALIDATION_FINISHED` … `ONBOARDING_FINISHED`;
//! - `MANUAL_REVIEW_APPROVED` / `_REJECTED` only once `ONBOARDING_FINISHED` was received (the
//!   seed: "occurs after ONBOARDING_FINISHED"); one received early takes effect when it is;
//! - `EXPIRED` only if the session never finished (expiry means the user abandoned it); a finish
//!   delivered after the expiry notice wins, because finishing is what expiry's precondition excludes;
//! - a status the seed does not list is kept in the history and changes nothing.

use serde::{Deserialize, Serialize};

use crate::platform::validate;
use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// Seed 003's statuses in their order; the index is the rank.
pub const ORDERED: [&str; 8] = [
    "UNKNOWN",
    "ID_VALIDATION_FINISHED",
    "ID_VALIDATION_FINISHED_SECOND_ID",
    "GOVERNMENT_VALIDATION_FINISHED",
    "FACE_VALIDATION_FINISHED",
    "POST_PROCESSING_FINISHED",
    "POST_PROCESSING_FINISHED_SECOND_ID",
    "ONBOARDING_FINISHED",
];
pub const MANUAL_REVIEW_APPROVED: &str = "MANUAL_REVIEW_APPROVED";
pub const MANUAL_REVIEW_REJECTED: &str = "MANUAL_REVIEW_REJECTED";
pub const EXPIRED: &str = "EXPIRED";
const FINISHED: &str = "ONBOARDING_FINISHED";

/// History entries kept on a session; a real session has at most a dozen.
pub const MAX_HISTORY: usize = 100;

pub fn is_known(status: &str) -> bool {
    ORDERED.contains(&status) || [MANUAL_REVIEW_APPROVED, MANUAL_REVIEW_REJECTED, EXPIRED].contains(&status)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReceived {
    pub status: String,
    pub received_at: Timestamp,
    /// Whether this delivery changed the session's status.
    pub applied: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerificationSession {
    /// Incode's `interviewId`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboard_id: Option<Id>,
    /// The client-onboarding client (seed 001) being verified, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Id>,
    pub status: String,
    pub history: Vec<StatusReceived>,
    /// False when the first webhook arrived before `POST /verification-sessions`.
    pub registered: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The current status given the statuses received, oldest first.
pub fn derive<'a>(received: impl IntoIterator<Item = &'a str>) -> &'a str {
    let mut furthest = ORDERED[0];
    let (mut finished, mut expired, mut review) = (false, false, None);
    for status in received {
        if let Some(rank) = ORDERED.iter().position(|s| *s == status) {
            if rank > ORDERED.iter().position(|s| *s == furthest).unwrap_or(0) {
                furthest = status;
            }
            finished |= status == FINISHED;
        } else if status == EXPIRED {
            expired = true;
        } else if status == MANUAL_REVIEW_APPROVED || status == MANUAL_REVIEW_REJECTED {
            // The reviewer's latest decision stands.
            review = Some(status);
        }
    }
    match (finished, review, expired) {
        (true, Some(decision), _) => decision,
        (true, None, _) => FINISHED,
        (false, _, true) => EXPIRED,
        (false, _, false) => furthest,
    }
}

/// Validates an `interviewId` (ours as a path segment too).
pub fn interview_id(field: &str, raw: &str) -> Result<String, Refusal> {
    validate::external_id(raw).map(str::to_string).ok_or_else(|| Refusal::invalid(field, validate::EXTERNAL_ID_RULE))
}

impl VerificationSession {
    /// A session with no status yet; what it is tied to is set by the caller.
    pub fn new(id: String, registered: bool, now: Timestamp) -> Self {
        VerificationSession {
            id,
            external_customer_id: None,
            onboard_id: None,
            client_id: None,
            status: ORDERED[0].to_string(),
            history: vec![],
            registered,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        }
    }

    /// The session after a delivery of `status`: history grows, the status is re-derived.
    pub fn receive(mut self, status: &str, external_customer_id: Option<&str>, now: Timestamp) -> Self {
        if self.external_customer_id.is_none() {
            self.external_customer_id = external_customer_id.map(str::to_string);
        }
        let before = self.status.clone();
        let mut statuses: Vec<&str> = self.history.iter().map(|h| h.status.as_str()).collect();
        statuses.push(status);
        let after = derive(statuses).to_string();
        if self.history.len() >= MAX_HISTORY {
            self.history.remove(0);
        }
        self.history.push(StatusReceived { status: status.to_string(), received_at: now.clone(), applied: after != before });
        self.status = after;
        self.updated_at = now;
        self.version += 1;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> VerificationSession {
        VerificationSession::new("664283755e0f8e1b87fcc2ce".into(), true, "2026-01-01T00:00:00Z".into())
    }

    fn after(statuses: &[&str]) -> String {
        statuses.iter().fold(session(), |s, status| s.receive(status, None, "2026-01-01T00:00:01Z".into())).status
    }

    #[test]
    fn starts_unknown_and_follows_the_seed_order() {
        assert_eq!(session().status, "UNKNOWN");
        assert_eq!(after(&["ID_VALIDATION_FINISHED", "FACE_VALIDATION_FINISHED"]), "FACE_VALIDATION_FINISHED");
        assert_eq!(after(&ORDERED[1..]), "ONBOARDING_FINISHED");
    }

    #[test]
    fn late_deliveries_never_move_backwards() {
        assert_eq!(after(&["POST_PROCESSING_FINISHED", "ID_VALIDATION_FINISHED"]), "POST_PROCESSING_FINISHED");
        assert_eq!(after(&["ONBOARDING_FINISHED", "FACE_VALIDATION_FINISHED"]), "ONBOARDING_FINISHED");
        assert_eq!(after(&["EXPIRED", "ID_VALIDATION_FINISHED"]), "EXPIRED");
        assert_eq!(after(&["ONBOARDING_FINISHED", MANUAL_REVIEW_APPROVED, "POST_PROCESSING_FINISHED"]), MANUAL_REVIEW_APPROVED);
    }

    #[test]
    fn manual_review_needs_a_finished_onboarding() {
        assert_eq!(after(&["FACE_VALIDATION_FINISHED", MANUAL_REVIEW_REJECTED]), "FACE_VALIDATION_FINISHED");
        assert_eq!(after(&[MANUAL_REVIEW_REJECTED, "ONBOARDING_FINISHED"]), MANUAL_REVIEW_REJECTED, "early review takes effect at the finish");
        assert_eq!(after(&["ONBOARDING_FINISHED", MANUAL_REVIEW_APPROVED]), MANUAL_REVIEW_APPROVED);
    }

    #[test]
    fn expiry_only_before_the_finish() {
        assert_eq!(after(&["ID_VALIDATION_FINISHED", EXPIRED]), EXPIRED);
        assert_eq!(after(&["ONBOARDING_FINISHED", EXPIRED]), "ONBOARDING_FINISHED");
        assert_eq!(after(&[EXPIRED, "ONBOARDING_FINISHED"]), "ONBOARDING_FINISHED");
    }

    #[test]
    fn unknown_statuses_are_recorded_without_effect() {
        let s = session().receive("ID_VALIDATION_FINISHED", None, "t1".into()).receive("SOMETHING_NEW", None, "t2".into());
        assert_eq!(s.status, "ID_VALIDATION_FINISHED");
        assert_eq!(s.history.len(), 2);
        assert!(s.history[0].applied);
        assert!(!s.history[1].applied);
        assert!(!is_known("SOMETHING_NEW"));
        assert!(is_known(EXPIRED));
    }

    #[test]
    fn history_is_bounded() {
        let s = (0..MAX_HISTORY + 5).fold(session(), |s, i| s.receive(&format!("X{i}"), None, "t".into()));
        assert_eq!(s.history.len(), MAX_HISTORY);
        assert_eq!(s.history[0].status, "X5");
    }

    #[test]
    fn interview_ids_are_bounded_and_url_safe() {
        assert!(interview_id("interviewId", "664283755e0f8e1b87fcc2ce").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(65)] {
            assert!(interview_id("interviewId", bad).is_err(), "{bad:?}");
        }
    }
}
