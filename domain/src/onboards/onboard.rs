//! Onboards (seed 000): the record of a buyer's setup after accepting an invitation, and the
//! status transitions a client may make.

use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::platform::id::Id;
use crate::platform::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OnboardStatus {
    Created,
    InProgress,
    Completed,
    /// The seed's v2 trigger name; treated like `completed`.
    CompletedFlowsSync,
    Failed,
}

impl OnboardStatus {
    pub const ALL: [OnboardStatus; 5] = [
        OnboardStatus::Created,
        OnboardStatus::InProgress,
        OnboardStatus::Completed,
        OnboardStatus::CompletedFlowsSync,
        OnboardStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A status value from a request: anything but the five known values is a 400.
    pub fn parse(raw: &str) -> Result<OnboardStatus, Refusal> {
        raw.parse().map_err(|_| {
            Refusal::Malformed(format!(
                "status '{raw}' is not one of created, in_progress, completed, completed_flows_sync, failed"
            ))
        })
    }

    /// Completion (either name) hands the onboard to the buyer setup, after which it is final.
    pub fn is_completion(self) -> bool {
        matches!(self, OnboardStatus::Completed | OnboardStatus::CompletedFlowsSync)
    }

    /// The statuses an onboard may be in for an update setting `status` (or, with `None`,
    /// changing only other fields): `Precondition::StatusIn`.
    pub fn updatable_from(status: Option<OnboardStatus>) -> Vec<OnboardStatus> {
        match status {
            Some(target) => target.allowed_from().to_vec(),
            None => OnboardStatus::ALL.into_iter().filter(|s| !s.is_completion()).collect(),
        }
    }

    /// The statuses an onboard may be in for a client to move it to `self`. Completion is final;
    /// a failed setup may be retried by completing again or going back to work on it.
    pub fn allowed_from(self) -> &'static [OnboardStatus] {
        use OnboardStatus::*;
        match self {
            Created => &[Created],
            InProgress => &[Created, InProgress, Failed],
            Completed | CompletedFlowsSync => &[Created, InProgress, Failed],
            Failed => &[Created, InProgress],
        }
    }
}

/// Where the buyer setup of a completed onboard is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SetupStatus {
    /// Completed; the setup is queued or running.
    Pending,
    Succeeded,
    Failed,
}

impl SetupStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Onboard {
    pub id: Id,
    pub account_id: Id,
    pub invitation_id: Id,
    pub connection_id: Id,
    pub flow_id: Option<Id>,
    pub status: OnboardStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every change; `ETag`/`If-Match` carry it for optimistic concurrency.
    pub version: u64,
    /// `pending` once completed, then `succeeded` or `failed` (the buyer setup).
    pub setup_status: Option<SetupStatus>,
    pub setup_error: Option<String>,
    /// `/flows/<buyer flow id>` once the setup succeeded.
    pub redirect: Option<String>,
}

/// A `PUT /onboards/{id}` request, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct OnboardUpdate {
    pub account_id: Option<Id>,
    pub invitation_id: Id,
    pub connection_id: Option<Id>,
    pub flow_id: Option<Id>,
    pub status: Option<OnboardStatus>,
    /// From `If-Match`: the version the client last saw.
    pub expected_version: Option<u64>,
}

impl Onboard {
    /// Why `update` may not apply to this onboard, if it may not (a 409 each): identity fields
    /// that differ (onboards never move between accounts, invitations or connections), a stale
    /// version, a transition that makes no sense.
    pub fn check_update(&self, update: &OnboardUpdate) -> Result<(), Refusal> {
        if update.account_id.as_ref().is_some_and(|a| *a != self.account_id) {
            return Err(Refusal::Conflict("account_id does not match the onboard's account".into()));
        }
        update.preconditions().iter().try_for_each(|precondition| precondition.check(self, update.status))
    }
}

/// What must hold of the stored onboard for an update to apply. Written once: the store turns
/// them into its write's condition, and `Onboard::check_update` explains which one failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    Invitation(Id),
    Connection(Id),
    Version(u64),
    /// The transition rule (`OnboardStatus::updatable_from`).
    StatusIn(Vec<OnboardStatus>),
}

impl OnboardUpdate {
    pub fn preconditions(&self) -> Vec<Precondition> {
        let mut preconditions = vec![Precondition::Invitation(self.invitation_id.clone())];
        preconditions.extend(self.connection_id.clone().map(Precondition::Connection));
        preconditions.extend(self.expected_version.map(Precondition::Version));
        preconditions.push(Precondition::StatusIn(OnboardStatus::updatable_from(self.status)));
        preconditions
    }
}

impl Precondition {
    /// The 409 that says why `onboard` fails it, on its way to `target` (if the update moves it).
    pub fn check(&self, onboard: &Onboard, target: Option<OnboardStatus>) -> Result<(), Refusal> {
        match self {
            Precondition::Invitation(id) if *id != onboard.invitation_id => Err(Refusal::Conflict("invitation_id does not match the onboard's invitation".into())),
            Precondition::Connection(id) if *id != onboard.connection_id => Err(Refusal::Conflict("connection_id does not match the onboard's connection".into())),
            Precondition::Version(version) if *version != onboard.version => Err(not_updated(format!("it changed since version {version} (now {})", onboard.version))),
            Precondition::StatusIn(allowed) if !allowed.contains(&onboard.status) => {
                Err(not_updated(format!("it cannot go from {} to {}", onboard.status.as_str(), target.unwrap_or(onboard.status).as_str())))
            }
            _ => Ok(()),
        }
    }
}

/// The seed's 409 wording.
pub fn not_updated(why: String) -> Refusal {
    Refusal::Conflict(format!("Onboard was not updated: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OnboardStatus::*;

    fn onboard(status: OnboardStatus) -> Onboard {
        Onboard {
            id: Id::generate(),
            account_id: Id::generate(),
            invitation_id: Id::generate(),
            connection_id: Id::generate(),
            flow_id: None,
            status,
            created_at: "2019-08-24T14:15:22Z".into(),
            updated_at: "2019-08-24T14:15:22Z".into(),
            version: 3,
            setup_status: None,
            setup_error: None,
            redirect: None,
        }
    }

    fn update(onboard: &Onboard, status: Option<OnboardStatus>) -> OnboardUpdate {
        OnboardUpdate {
            account_id: None,
            invitation_id: onboard.invitation_id.clone(),
            connection_id: None,
            flow_id: None,
            status,
            expected_version: None,
        }
    }

    #[test]
    fn statuses_use_the_seeds_names() {
        for status in OnboardStatus::ALL {
            assert_eq!(OnboardStatus::parse(status.as_str()).unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!(matches!(OnboardStatus::parse("done").unwrap_err(), Refusal::Malformed(_)));
        assert!(matches!(OnboardStatus::parse("Completed").unwrap_err(), Refusal::Malformed(_)));
    }

    #[test]
    fn the_seeds_path_is_allowed() {
        let mut current = onboard(Created);
        for next in [InProgress, InProgress, Completed] {
            assert!(current.check_update(&update(&current, Some(next))).is_ok(), "{:?} -> {next:?}", current.status);
            current.status = next;
        }
        let created = onboard(Created);
        assert!(created.check_update(&update(&created, Some(CompletedFlowsSync))).is_ok());
        assert!(created.check_update(&update(&created, None)).is_ok(), "no status: other fields only");
    }

    #[test]
    fn completion_is_final_and_nothing_goes_back_to_created() {
        for done in [Completed, CompletedFlowsSync] {
            let finished = onboard(done);
            for next in OnboardStatus::ALL {
                let err = finished.check_update(&update(&finished, Some(next))).unwrap_err();
                assert!(matches!(err, Refusal::Conflict(_)));
                assert!(err.detail().starts_with("Onboard was not updated"));
            }
            assert!(matches!(finished.check_update(&update(&finished, None)).unwrap_err(), Refusal::Conflict(_)));
        }
        let working = onboard(InProgress);
        assert!(matches!(working.check_update(&update(&working, Some(Created))).unwrap_err(), Refusal::Conflict(_)));
        let failed = onboard(Failed);
        assert!(failed.check_update(&update(&failed, Some(Completed))).is_ok(), "a failed setup can be retried");
        assert!(failed.check_update(&update(&failed, None)).is_ok(), "a failed onboard's flow can change");
        assert!(failed.check_update(&update(&failed, Some(Failed))).is_err());
    }

    #[test]
    fn identity_fields_must_match_and_stale_versions_conflict() {
        let stored = onboard(Created);
        let mut moved = update(&stored, None);
        moved.account_id = Some(Id::generate());
        assert!(matches!(stored.check_update(&moved).unwrap_err(), Refusal::Conflict(_)));
        let mut moved = update(&stored, None);
        moved.invitation_id = Id::generate();
        assert!(matches!(stored.check_update(&moved).unwrap_err(), Refusal::Conflict(_)));
        let mut moved = update(&stored, None);
        moved.connection_id = Some(Id::generate());
        assert!(matches!(stored.check_update(&moved).unwrap_err(), Refusal::Conflict(_)));
        let mut same = update(&stored, None);
        same.account_id = Some(stored.account_id.clone());
        same.connection_id = Some(stored.connection_id.clone());
        same.expected_version = Some(3);
        assert!(stored.check_update(&same).is_ok());
        same.expected_version = Some(2);
        assert!(matches!(stored.check_update(&same).unwrap_err(), Refusal::Conflict(_)));
    }
}
