//! Client onboarding: campaigns, clients with onboarding links, outbound webhooks signed with
//! HMAC-SHA256. `ClientOnboarding` is what the functions that create (clients, webhook endpoints)
//! are built with: the store, where onboarding links point and which webhook URLs are allowed.

#[cfg(feature = "outbound")]
pub mod deliver;
/// Its rules (the `domain` crate's); its store, in `store/` here, is `crate::store::client_onboarding`.
pub use ::domain::client_onboarding as domain;

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::public_url::UrlPolicy;
use crate::store::Db;

#[derive(Clone, Debug)]
pub struct ClientOnboarding {
    pub db: Db,
    /// Where onboarding links point (`<base>/c/<token>`); absent: the API's own origin.
    pub link_base: Option<String>,
    pub url_policy: UrlPolicy,
}

/// `CLIENT_LINK_BASE` and `WEBHOOK_LOCAL_MODE`.
impl FromEnv for ClientOnboarding {
    fn from_env(env: &Env) -> Result<ClientOnboarding, ConfigError> {
        Ok(ClientOnboarding { db: Db::from_env(env)?, link_base: env.optional("CLIENT_LINK_BASE"), url_policy: UrlPolicy::from_env(env)? })
    }
}
