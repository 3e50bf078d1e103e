//! Notifications on SNS: one topic, every message with the attributes of
//! CONTRACT.md so agencies subscribe with filter policies.

use crate::error::classify;
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use pakn_core::notify::{AttrValue, Notification};
use pakn_core::ports::{Notifier, StoreError, StoreResult};
use std::collections::HashMap;

/// Publishes each decided notification to the topic.
#[derive(Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsNotifier {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

/// The SNS message attributes of a notification. `audience` is a
/// `String.Array` whose value is a JSON array, as SNS requires; empty
/// values are left out (SNS refuses empty strings).
pub fn message_attributes(
    n: &Notification,
) -> Result<HashMap<String, MessageAttributeValue>, StoreError> {
    let mut out = HashMap::new();
    for (name, value) in n.attributes() {
        let (data_type, text) = match value {
            AttrValue::String(s) => ("String", s),
            AttrValue::StringArray(a) => (
                "String.Array",
                serde_json::to_string(&a).map_err(StoreError::other)?,
            ),
        };
        if text.is_empty() {
            continue;
        }
        let v = MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(text)
            .build()
            .map_err(StoreError::other)?;
        out.insert(name.to_string(), v);
    }
    Ok(out)
}

#[async_trait]
impl Notifier for SnsNotifier {
    #[tracing::instrument(skip_all, fields(dedup_id = %n.dedup_id, event = %n.event), err)]
    async fn publish(&self, n: &Notification) -> StoreResult<()> {
        let body = serde_json::to_string(n).map_err(StoreError::other)?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .set_message_attributes(Some(message_attributes(n)?))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use pakn_core::notify::Audience;

    #[test]
    fn attributes_follow_the_contract() {
        let n = Notification {
            dedup_id: "c:assigned:v2".into(),
            event: "case.assigned".into(),
            unit: "ward:00070".into(),
            urgency: "normal".into(),
            audience: vec![Audience::Unit, Audience::HomeAffairs],
            case_id: None,
            body: serde_json::json!({}),
            created_at: Utc::now(),
        };
        let a = message_attributes(&n).unwrap();
        assert_eq!(a["audience"].data_type(), "String.Array");
        assert_eq!(
            a["audience"].string_value(),
            Some(r#"["unit","home-affairs"]"#)
        );
        assert_eq!(a["unit"].string_value(), Some("ward:00070"));
        assert_eq!(a["dedup_id"].data_type(), "String");
        assert_eq!(a.len(), 5);
    }
}
