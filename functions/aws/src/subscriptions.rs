//! Agencies' subscriptions to the topic (`pakn subscribe --backend aws`):
//! the endpoint decides the SNS protocol, the filter policy is the one
//! [`pakn_core::subscription::filter_policy`] built, and queues and HTTPS
//! endpoints get the bare message (raw delivery), the same JSON the local
//! notifier posts.

use crate::provision::{ProvisionError, Subscription, aws, subscribe as sns_subscribe};
use serde_json::Value;

/// An endpoint and the SNS protocol that reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub protocol: &'static str,
    /// What SNS calls the endpoint (an e-mail address without `mailto:`).
    pub endpoint: String,
    /// Deliver the bare message without the SNS envelope.
    pub raw: bool,
}

impl Endpoint {
    /// `https://…`, `http://…`, `mailto:…`, `arn:aws:sqs:…` or
    /// `arn:aws:lambda:…`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Endpoint> {
        let s = s.trim();
        let (protocol, endpoint, raw) = if s.starts_with("https://") {
            ("https", s, true)
        } else if s.starts_with("http://") {
            ("http", s, true)
        } else if let Some(addr) = s.strip_prefix("mailto:") {
            ("email", addr, false)
        } else if s.starts_with("arn:aws:sqs:") {
            ("sqs", s, true)
        } else if s.starts_with("arn:aws:lambda:") {
            ("lambda", s, false)
        } else {
            return None;
        };
        (!endpoint.is_empty()).then(|| Endpoint {
            protocol,
            endpoint: endpoint.to_string(),
            raw,
        })
    }
}

/// A subscription of the topic as SNS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicSubscription {
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub filter_policy: Option<Value>,
    /// `false` while an e-mail or HTTPS endpoint has not confirmed.
    pub confirmed: bool,
}

/// Subscribe `endpoint` with `policy`; answers the subscription ARN.
pub async fn subscribe(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    endpoint: &Endpoint,
    policy: &Value,
) -> Result<String, ProvisionError> {
    let s = Subscription {
        protocol: endpoint.protocol.to_string(),
        endpoint: endpoint.endpoint.clone(),
        filter_policy: Some(policy.clone()),
        raw: endpoint.raw,
    };
    sns_subscribe(sns, topic_arn, &s).await
}

/// Every subscription of the topic, with its filter policy.
pub async fn list(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
) -> Result<Vec<TopicSubscription>, ProvisionError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(aws("list the topic's subscriptions"))?;
        for s in page.subscriptions() {
            let arn = s.subscription_arn().unwrap_or_default().to_string();
            let confirmed = arn.starts_with("arn:");
            let filter_policy = if confirmed {
                sns.get_subscription_attributes()
                    .subscription_arn(&arn)
                    .send()
                    .await
                    .map_err(aws("read a subscription's filter policy"))?
                    .attributes()
                    .and_then(|a| a.get("FilterPolicy"))
                    .and_then(|p| serde_json::from_str(p).ok())
            } else {
                None
            };
            out.push(TopicSubscription {
                arn,
                protocol: s.protocol().unwrap_or_default().to_string(),
                endpoint: s.endpoint().unwrap_or_default().to_string(),
                filter_policy,
                confirmed,
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Remove a subscription by its ARN.
pub async fn unsubscribe(sns: &aws_sdk_sns::Client, arn: &str) -> Result<(), ProvisionError> {
    sns.unsubscribe()
        .subscription_arn(arn)
        .send()
        .await
        .map_err(aws("unsubscribe"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_choose_their_protocol() {
        let p = |s: &str| Endpoint::parse(s).map(|e| (e.protocol, e.endpoint, e.raw));
        assert_eq!(
            p("https://ward70.hanoi.gov.vn/pakn"),
            Some(("https", "https://ward70.hanoi.gov.vn/pakn".into(), true))
        );
        assert_eq!(
            p("mailto:it@ward70.hanoi.gov.vn"),
            Some(("email", "it@ward70.hanoi.gov.vn".into(), false))
        );
        assert_eq!(
            p("arn:aws:sqs:ap-southeast-1:123456789012:ward70"),
            Some((
                "sqs",
                "arn:aws:sqs:ap-southeast-1:123456789012:ward70".into(),
                true
            ))
        );
        assert_eq!(
            p("arn:aws:lambda:ap-southeast-1:123456789012:function:f").map(|x| x.0),
            Some("lambda")
        );
        assert_eq!(p("ftp://x"), None);
        assert_eq!(p("mailto:"), None);
    }
}
