//! Client onboarding: campaigns, their clients and onboarding links, and the signed outbound
//! webhooks that tell the customer what happened.

pub mod campaigns;
pub mod clients;
pub mod links;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
