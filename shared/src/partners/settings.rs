//! The partners area's settings: how invitations are issued.

use std::time::Duration;

use crate::platform::config::{ConfigError, Env, FromEnv};

/// How invitations are issued.
#[derive(Clone, Debug)]
pub struct InvitationSettings {
    /// How long an invitation stays acceptable (`INVITATION_TTL_DAYS`, default 14;
    /// `INVITATION_TTL_SECONDS` wins when set).
    pub ttl: Duration,
    /// Where the emailed link points (`INVITATION_LINK_BASE`); absent: the API's own invitation
    /// page. The token is appended as `?token=`.
    pub link_base: Option<String>,
}

impl InvitationSettings {
    pub const DEFAULT_TTL_DAYS: u64 = 14;

    /// The emailed link; `api_origin` is where the API's own invitation page is served.
    pub fn link(&self, token: &str, api_origin: &str) -> String {
        match &self.link_base {
            Some(base) => format!("{base}?token={token}"),
            None => format!("{api_origin}/invitations/claim?token={token}"),
        }
    }
}

impl FromEnv for InvitationSettings {
    fn from_env(env: &Env) -> Result<InvitationSettings, ConfigError> {
        // INVITATION_TTL_SECONDS is for tests of the running product (an invitation that expires
        // while they watch); a deployment sets days.
        let seconds = match (env.optional("INVITATION_TTL_SECONDS"), env.optional("INVITATION_TTL_DAYS")) {
            (Some(raw), _) => raw.parse().map_err(|_| ConfigError::Invalid("INVITATION_TTL_SECONDS", "a whole number of seconds"))?,
            (None, Some(raw)) => raw.parse::<u64>().map_err(|_| ConfigError::Invalid("INVITATION_TTL_DAYS", "a whole number of days"))? * 86_400,
            (None, None) => Self::DEFAULT_TTL_DAYS * 86_400,
        };
        let link_base = env.optional("INVITATION_LINK_BASE").filter(|base| !base.is_empty());
        Ok(InvitationSettings { ttl: Duration::from_secs(seconds), link_base })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_lives_its_days_unless_seconds_are_given() {
        let ttl = |vars: &'static [(&'static str, &'static str)]| {
            let env = Env::from_vars(move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()));
            InvitationSettings::from_env(&env).map(|s| s.ttl.as_secs())
        };
        assert_eq!(ttl(&[]).unwrap(), 14 * 86_400);
        assert_eq!(ttl(&[("INVITATION_TTL_DAYS", "3")]).unwrap(), 3 * 86_400);
        assert_eq!(ttl(&[("INVITATION_TTL_DAYS", "3"), ("INVITATION_TTL_SECONDS", "5")]).unwrap(), 5);
        assert!(ttl(&[("INVITATION_TTL_SECONDS", "soon")]).is_err());
    }

    #[test]
    fn the_invitation_link_is_the_apis_own_page_unless_a_base_is_set() {
        let own = InvitationSettings { ttl: Duration::ZERO, link_base: None };
        assert_eq!(own.link("t0k", "https://api.example.com"), "https://api.example.com/invitations/claim?token=t0k");
        let elsewhere = InvitationSettings { link_base: Some("https://app.example.com/join".into()), ..own };
        assert_eq!(elsewhere.link("t0k", "https://api.example.com"), "https://app.example.com/join?token=t0k");
    }
}
