//! [`LocalMessenger`]: citizens' notices without SNS. Each message is
//! POSTed as JSON to `PAKN_CITIZEN_WEBHOOK` when it is set (a `2xx`
//! accepts it; anything else is a failure the sweep retries), otherwise
//! only logged with the phone masked: the notice itself, in the citizen's
//! notice log (`GET /v1/me/notifications`), is the record.

use async_trait::async_trait;
use pakn_core::notices::mask_phone;
use pakn_core::ports::{Messenger, NoticeChannel, Outgoing, Platform, StoreError, StoreResult};

pub struct LocalMessenger {
    webhook: Option<reqwest::Url>,
    http: reqwest::Client,
}

impl LocalMessenger {
    /// `webhook`: an `http(s)://` URL, or `None` to log only.
    pub fn new(webhook: Option<&str>) -> StoreResult<Self> {
        let webhook = match webhook {
            None => None,
            Some(u) => {
                let url = reqwest::Url::parse(u).map_err(StoreError::other)?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(StoreError::msg(format!(
                        "PAKN_CITIZEN_WEBHOOK must be http(s)://host/...: '{u}'"
                    )));
                }
                Some(url)
            }
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(StoreError::other)?;
        Ok(LocalMessenger { webhook, http })
    }
}

#[async_trait]
impl Messenger for LocalMessenger {
    /// Locally any token is taken (there is no platform to ask).
    fn push_platforms(&self) -> Vec<Platform> {
        vec![Platform::Fcm, Platform::Apns]
    }

    async fn register_device(&self, platform: Platform, token: &str) -> StoreResult<String> {
        Ok(format!("local:{}:{token}", platform.as_str()))
    }

    async fn send(&self, m: &Outgoing<'_>) -> StoreResult<()> {
        let Some(url) = &self.webhook else {
            let to = match m.channel {
                NoticeChannel::Sms => mask_phone(m.to),
                _ => "device".into(),
            };
            tracing::info!(channel = m.channel.as_str(), to = %to, notice = %m.id, text = %m.text, "citizen notice");
            return Ok(());
        };
        let res = self
            .http
            .post(url.clone())
            .json(m)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(StoreError::msg(format!(
                "the citizen webhook answered {}",
                res.status()
            )))
        }
    }
}
