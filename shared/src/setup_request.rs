//! What one buyer delivery setup is asked to do: the queue message and the sync request alike.

use crate::id::Id;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The buyer account.
    pub account_id: Id,
    pub connection_id: Id,
    pub flow_id: Option<Id>,
    pub onboard_id: Option<Id>,
    /// Who asked: the buyer's user, or `system` for the pipeline.
    pub actor: String,
}

