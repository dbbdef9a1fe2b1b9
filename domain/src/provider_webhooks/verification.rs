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

/// A session's status: seed 003's, or `Other` for one a provider adds (kept, changing nothing).
/// Stored and shown as seed 003 names it, read through `named` (a plain string, which keeps
/// serde's buffering of untagged variants out of the binaries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum VerificationStatus {
    Unknown,
    IdValidationFinished,
    IdValidationFinishedSecondId,
    GovernmentValidationFinished,
    FaceValidationFinished,
    PostProcessingFinished,
    PostProcessingFinishedSecondId,
    OnboardingFinished,
    ManualReviewApproved,
    ManualReviewRejected,
    Expired,
    Other(String),
}

impl From<String> for VerificationStatus {
    fn from(name: String) -> VerificationStatus {
        VerificationStatus::named(&name)
    }
}

impl From<VerificationStatus> for String {
    fn from(status: VerificationStatus) -> String {
        status.as_str().to_string()
    }
}

use VerificationStatus::*;

/// Seed 003's ordered statuses; the index is the rank.
pub const ORDERED: [VerificationStatus; 8] =
    [Unknown, IdValidationFinished, IdValidationFinishedSecondId, GovernmentValidationFinished, FaceValidationFinished, PostProcessingFinished, PostProcessingFinishedSecondId, OnboardingFinished];

impl VerificationStatus {
    /// The status a delivery names.
    pub fn named(name: &str) -> VerificationStatus {
        [ManualReviewApproved, ManualReviewRejected, Expired].into_iter().chain(ORDERED).find(|s| s.as_str() == name).unwrap_or_else(|| Other(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Unknown => "UNKNOWN",
            IdValidationFinished => "ID_VALIDATION_FINISHED",
            IdValidationFinishedSecondId => "ID_VALIDATION_FINISHED_SECOND_ID",
            GovernmentValidationFinished => "GOVERNMENT_VALIDATION_FINISHED",
            FaceValidationFinished => "FACE_VALIDATION_FINISHED",
            PostProcessingFinished => "POST_PROCESSING_FINISHED",
            PostProcessingFinishedSecondId => "POST_PROCESSING_FINISHED_SECOND_ID",
            OnboardingFinished => "ONBOARDING_FINISHED",
            ManualReviewApproved => "MANUAL_REVIEW_APPROVED",
            ManualReviewRejected => "MANUAL_REVIEW_REJECTED",
            Expired => "EXPIRED",
            Other(name) => name,
        }
    }

    /// Its place in seed 003's order, if it has one.
    fn rank(&self) -> Option<usize> {
        ORDERED.iter().position(|s| s == self)
    }
}

/// History entries kept on a session; a real session has at most a dozen.
pub const MAX_HISTORY: usize = 100;


#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReceived {
    pub status: VerificationStatus,
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
    pub status: VerificationStatus,
    pub history: Vec<StatusReceived>,
    /// False when the first webhook arrived before `POST /verification-sessions`.
    pub registered: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The current status given the statuses received, oldest first.
pub fn derive<'a>(received: impl IntoIterator<Item = &'a VerificationStatus>) -> VerificationStatus {
    let mut furthest = &Unknown;
    let (mut finished, mut expired, mut review) = (false, false, None);
    for status in received {
        match status {
            ManualReviewApproved | ManualReviewRejected => review = Some(status), // the reviewer's latest decision stands
            Expired => expired = true,
            Other(_) => {}
            ordered => {
                if ordered.rank() > furthest.rank() {
                    furthest = ordered;
                }
                finished |= *ordered == OnboardingFinished;
            }
        }
    }
    match (finished, review, expired) {
        (true, Some(decision), _) => decision.clone(),
        (true, None, _) => OnboardingFinished,
        (false, _, true) => Expired,
        (false, _, false) => furthest.clone(),
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
            status: Unknown,
            history: vec![],
            registered,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        }
    }

    /// The session after a delivery of `status`: history grows, the status is re-derived.
    pub fn receive(mut self, status: &VerificationStatus, external_customer_id: Option<&str>, now: Timestamp) -> Self {
        if self.external_customer_id.is_none() {
            self.external_customer_id = external_customer_id.map(str::to_string);
        }
        let after = derive(self.history.iter().map(|h| &h.status).chain([status]));
        if self.history.len() >= MAX_HISTORY {
            self.history.remove(0);
        }
        self.history.push(StatusReceived { status: status.clone(), received_at: now.clone(), applied: after != self.status });
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
        statuses.iter().fold(session(), |s, status| s.receive(&VerificationStatus::named(status), None, "2026-01-01T00:00:01Z".into())).status.as_str().to_string()
    }

    const MANUAL_REVIEW_APPROVED: &str = "MANUAL_REVIEW_APPROVED";
    const MANUAL_REVIEW_REJECTED: &str = "MANUAL_REVIEW_REJECTED";
    const EXPIRED: &str = "EXPIRED";

    #[test]
    fn starts_unknown_and_follows_the_seed_order() {
        assert_eq!(session().status, Unknown);
        assert_eq!(after(&["ID_VALIDATION_FINISHED", "FACE_VALIDATION_FINISHED"]), "FACE_VALIDATION_FINISHED");
        assert_eq!(after(&ORDERED[1..].iter().map(VerificationStatus::as_str).collect::<Vec<_>>()), "ONBOARDING_FINISHED");
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
        let s = session().receive(&IdValidationFinished, None, "t1".into()).receive(&VerificationStatus::named("SOMETHING_NEW"), None, "t2".into());
        assert_eq!(s.status, IdValidationFinished);
        assert_eq!(s.history.len(), 2);
        assert!(s.history[0].applied);
        assert!(!s.history[1].applied);
        assert_eq!(s.history[1].status, Other("SOMETHING_NEW".into()), "kept as the provider named it");
        assert_eq!(serde_json::to_value(&s.history[1].status).unwrap(), "SOMETHING_NEW");
        for status in ORDERED.iter().chain(&[ManualReviewApproved, ManualReviewRejected, Expired]) {
            assert_eq!(VerificationStatus::named(status.as_str()), *status, "{status:?} reads back");
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str(), "{status:?} is stored as seed 003 names it");
        }
    }

    #[test]
    fn history_is_bounded() {
        let s = (0..MAX_HISTORY + 5).fold(session(), |s, i| s.receive(&VerificationStatus::named(&format!("X{i}")), None, "t".into()));
        assert_eq!(s.history.len(), MAX_HISTORY);
        assert_eq!(s.history[0].status.as_str(), "X5");
    }

    #[test]
    fn interview_ids_are_bounded_and_url_safe() {
        assert!(interview_id("interviewId", "664283755e0f8e1b87fcc2ce").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(65)] {
            assert!(interview_id("interviewId", bad).is_err(), "{bad:?}");
        }
    }
}
