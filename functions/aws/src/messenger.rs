//! Citizens' notices on SNS, never through the agencies' topic: an SMS is
//! published to the phone number itself (transactional), a push to the
//! device's platform endpoint, created from the token when the app
//! registers it (`CreatePlatformEndpoint` on the FCM or APNs platform
//! application named by `PUSH_FCM_APP_ARN` / `PUSH_APNS_APP_ARN`).

use crate::error::classify;
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use pakn_core::ports::{Messenger, NoticeChannel, Outgoing, Platform, StoreError, StoreResult};

#[derive(Clone)]
pub struct SnsMessenger {
    client: aws_sdk_sns::Client,
    platforms: Vec<(Platform, String)>,
}

impl SnsMessenger {
    /// SMS only; add push platforms with [`SnsMessenger::with_platform`].
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        SnsMessenger {
            client,
            platforms: vec![],
        }
    }

    pub fn with_platform(mut self, platform: Platform, application_arn: &str) -> Self {
        self.platforms.retain(|(p, _)| *p != platform);
        self.platforms.push((platform, application_arn.to_string()));
        self
    }
}

fn string_attr(v: &str) -> StoreResult<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .map_err(StoreError::other)
}

/// The push payload: one message per platform (`MessageStructure=json`).
pub fn push_payload(m: &Outgoing<'_>) -> String {
    let data = serde_json::json!({
        "id": m.id, "tracking_code": m.tracking_code, "status": m.status,
    });
    let gcm = serde_json::json!({
        "notification": {"title": "Phản ánh kiến nghị", "body": m.text},
        "data": data,
    });
    let apns = serde_json::json!({
        "aps": {"alert": {"title": "Phản ánh kiến nghị", "body": m.text}, "sound": "default"},
        "pakn": data,
    });
    serde_json::json!({
        "default": m.text,
        "GCM": gcm.to_string(),
        "APNS": apns.to_string(),
        "APNS_SANDBOX": apns.to_string(),
    })
    .to_string()
}

#[async_trait]
impl Messenger for SnsMessenger {
    fn push_platforms(&self) -> Vec<Platform> {
        self.platforms.iter().map(|(p, _)| *p).collect()
    }

    async fn register_device(&self, platform: Platform, token: &str) -> StoreResult<String> {
        let Some((_, arn)) = self.platforms.iter().find(|(p, _)| *p == platform) else {
            return Err(StoreError::msg(format!(
                "no {} platform application is configured",
                platform.as_str()
            )));
        };
        let out = self
            .client
            .create_platform_endpoint()
            .platform_application_arn(arn)
            .token(token)
            .send()
            .await
            .map_err(classify)?;
        out.endpoint_arn
            .ok_or_else(|| StoreError::msg("SNS answered no endpoint ARN"))
    }

    #[tracing::instrument(skip_all, fields(notice = %m.id, channel = %m.channel.as_str()), err)]
    async fn send(&self, m: &Outgoing<'_>) -> StoreResult<()> {
        let req = self.client.publish();
        let req = match m.channel {
            NoticeChannel::Sms => req
                .phone_number(m.to)
                .message(m.text)
                .message_attributes("AWS.SNS.SMS.SMSType", string_attr("Transactional")?),
            NoticeChannel::Push => req
                .target_arn(m.to)
                .message_structure("json")
                .message(push_payload(m)),
            NoticeChannel::Off => return Err(StoreError::msg("nothing is sent on 'off'")),
        };
        req.send().await.map_err(classify)?;
        Ok(())
    }
}
