//! The handler of every function crate, by binary name, for the local API and the tests. The
//! routes themselves come from template.yaml; a test checks both name the same functions.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::http::{HandlerResult, respond};
use shared::config::InvitationSettings;
use shared::invite::Inviter;
use shared::mail::Mailer;
use shared::domain::webhook_endpoint::UrlPolicy;
use shared::partner::PartnerApi;
use shared::store::campaigns::ClientOnboarding;
use shared::setup::BuyerSetup;
use shared::Db;

pub type Handler = Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync>;

/// A handler bound to its state, answering the way the Lambda entry point does.
fn bind<S, F, Fut>(state: &'static S, handler: F) -> Handler
where
    S: Sync + 'static,
    F: Fn(&'static S, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    Arc::new(move |req| {
        let response = handler(state, req);
        Box::pin(async move { respond(response.await) })
    })
}

/// What the deployed functions read from their environment, for the local ones.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// 360dialog's Partner API base (`None`: production).
    pub partner_api_url: Option<String>,
    /// Outbound webhooks may go to `http://` and private addresses (the local mode).
    pub local_webhooks: bool,
}

/// Every HTTP function's handler, given the clients a deployed function would build at cold start.
pub fn handlers(db: Db, mailer: Mailer, settings: InvitationSettings, options: Options) -> HashMap<&'static str, Handler> {
    // One per local API (or test environment), alive for the rest of the process, as in Lambda.
    let setup: &'static BuyerSetup = Box::leak(Box::new(BuyerSetup { db: db.clone(), mailer: mailer.clone() }));
    let inviter: &'static Inviter = Box::leak(Box::new(Inviter { db: db.clone(), mailer, settings }));
    let partner: &'static PartnerApi = Box::leak(Box::new(PartnerApi::new(db.clone(), options.partner_api_url)));
    let url_policy = UrlPolicy { allow_private: options.local_webhooks };
    let onboarding: &'static ClientOnboarding = Box::leak(Box::new(ClientOnboarding { db: db.clone(), link_base: None, url_policy }));
    let db: &'static Db = Box::leak(Box::new(db));
    HashMap::from([
        ("invitations-create", bind(inviter, invitations_create::handle)),
        ("invitations-create-recipient", bind(inviter, invitations_create_recipient::handle)),
        ("invitations-create-source", bind(inviter, invitations_create_source::handle)),
        ("invitations-resend", bind(inviter, invitations_resend::handle)),
        ("invitations-list", bind(db, invitations_list::handle)),
        ("invitations-get", bind(db, invitations_get::handle)),
        ("invitations-accept", bind(db, invitations_accept::handle)),
        ("invitations-decline", bind(db, invitations_decline::handle)),
        ("invitations-revoke", bind(db, invitations_revoke::handle)),
        ("invitations-claim", bind(db, invitations_claim::handle)),
        ("connections-list", bind(db, connections_list::handle)),
        ("connections-get", bind(db, connections_get::handle)),
        ("connections-revoke", bind(db, connections_revoke::handle)),
        ("entities-list", bind(db, entities_list::handle)),
        ("entities-get", bind(db, entities_get::handle)),
        ("audit-list", bind(db, audit_list::handle)),
        ("onboards-list", bind(db, onboards_list::handle)),
        ("onboards-create", bind(db, onboards_create::handle)),
        ("onboards-get", bind(db, onboards_get::handle)),
        ("onboards-update", bind(db, onboards_update::handle)),
        ("flows-list", bind(db, flows_list::handle)),
        ("flows-create", bind(db, flows_create::handle)),
        ("flows-get", bind(db, flows_get::handle)),
        ("flows-update", bind(db, flows_update::handle)),
        ("onboard-buyer", bind(setup, onboard_buyer::handle)),
        ("integrations-create", bind(db, integrations_create::handle)),
        ("integrations-list", bind(db, integrations_list::handle)),
        ("integrations-get", bind(db, integrations_get::handle)),
        ("integrations-delete", bind(db, integrations_delete::handle)),
        ("integration-events-list", bind(db, integration_events_list::handle)),
        ("webhook-receiver", bind(db, webhook_receiver::handle)),
        ("channel-redirect", bind(db, channel_redirect::handle)),
        ("verification-sessions-create", bind(db, verification_sessions_create::handle)),
        ("verification-sessions-get", bind(db, verification_sessions_get::handle)),
        ("channels-list", bind(db, channels_list::handle)),
        ("channels-get", bind(db, channels_get::handle)),
        ("channels-api-key", bind(partner, channels_api_key::handle)),
        ("campaigns-list", bind(db, campaigns_list::handle)),
        ("campaigns-create", bind(db, campaigns_create::handle)),
        ("campaigns-get", bind(db, campaigns_get::handle)),
        ("campaigns-update", bind(db, campaigns_update::handle)),
        ("campaigns-publish", bind(db, campaigns_publish::handle)),
        ("clients-list", bind(db, clients_list::handle)),
        ("clients-create", bind(onboarding, clients_create::handle)),
        ("client-link-get", bind(db, client_link_get::handle)),
        ("client-link-complete", bind(db, client_link_complete::handle)),
        ("webhook-endpoints-create", bind(onboarding, webhook_endpoints_create::handle)),
        ("webhook-endpoints-list", bind(db, webhook_endpoints_list::handle)),
        ("webhook-endpoints-delete", bind(db, webhook_endpoints_delete::handle)),
        ("webhook-endpoints-rotate", bind(db, webhook_endpoints_rotate::handle)),
        ("webhook-deliveries-list", bind(db, webhook_deliveries_list::handle)),
        ("webhook-deliveries-replay", bind(db, webhook_deliveries_replay::handle)),
        ("openapi-get", bind(&(), openapi_get::handle)),
        ("docs-page", bind(&(), docs_page::handle)),
    ])
}
