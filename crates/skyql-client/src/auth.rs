//! Credentials: turning an [`AuthConfig`] into bearer tokens (service-account
//! JWT grant, authorized_user refresh, metadata server, gcloud), cached and
//! shared so that concurrent requests trigger one refresh.

use crate::config::AuthConfig;

pub(crate) struct Auth {
    config: AuthConfig,
    http: reqwest::Client,
}

impl Auth {
    pub(crate) fn new(config: AuthConfig, http: reqwest::Client) -> Self {
        Auth { config, http }
    }
}
