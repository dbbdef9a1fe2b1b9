//! The buyer delivery setup: on request (`POST /onboard/buyer`) or from its queue when an onboard
//! is completed.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::{ApiError, Id};
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, json_body};
use shared::onboards::buyer_setup::{BuyerSetup, Mode, SetupError};
use shared::platform::lambda::Outcome;
use shared::onboards::domain::buyer_setup::{SetupRequest, setup_connection};

/// The buyer-setup queue's consumer. Messages are processed concurrently; a transient failure is
/// reported as a batch item failure (the queue redelivers it, and after five receives moves it to
/// the dead-letter queue); a permanent one is recorded on the onboard as `failed` and not retried.
pub async fn consume_queue(setup: &'static BuyerSetup, event: SqsEvent) -> Result<SqsBatchResponse, lambda_http::Error> {
    shared::platform::lambda::sqs_batch(event, |message| async move {
        let Some(request) = message.body.as_deref().and_then(|b| serde_json::from_str::<SetupRequest>(b).ok()) else {
            tracing::error!(message = ?message.message_id, "malformed buyer-setup message dropped");
            return Outcome::Settled;
        };
        match setup.run(&request, Mode::Async).await {
            Ok(done) => {
                tracing::info!(connection = %request.connection_id, redirect = %done.redirect, "buyer setup done");
                Outcome::Settled
            }
            Err(SetupError::Refused(err)) => {
                tracing::warn!(connection = %request.connection_id, error = %err, "buyer setup failed permanently");
                match setup.record_failure(&request, &err).await {
                    Ok(()) => Outcome::Settled,
                    Err(_) => Outcome::Retry,
                }
            }
            Err(SetupError::Interrupted(err)) => {
                tracing::error!(connection = %request.connection_id, error = %err, "buyer setup will be retried");
                Outcome::Retry
            }
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BuyerSetupBody {
    connection_id: Option<Id>,
    invitation_id: Option<Id>,
    flow_id: Option<Id>,
}

/// `POST /onboard/buyer`: the buyer delivery setup, synchronously (seed 000).
pub async fn run_now(setup: &BuyerSetup, req: Request) -> HandlerResult {
    let caller = authenticate(&setup.db, &req).await?;
    let body: BuyerSetupBody = json_body(&req)?;
    let invitation = match &body.invitation_id {
        Some(id) => Some(setup.db.partners().invitation(&caller.account_id, id).await?.ok_or(ApiError::NotFound("invitation"))?),
        None => None,
    };
    let connection_id = setup_connection(body.connection_id, invitation.as_ref())?;
    let request = SetupRequest {
        onboard_id: setup.db.onboards().onboard_of_connection(&caller.account_id, &connection_id).await?,
        account_id: caller.account_id,
        connection_id,
        flow_id: body.flow_id,
        actor: caller.user_email,
    };
    let done = setup.run(&request, Mode::Sync).await.map_err(ApiError::from)?;
    json(StatusCode::OK, &serde_json::json!({ "redirect": done.redirect }))
}
