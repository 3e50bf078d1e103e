//! `pakn subscribe`, `pakn subscriptions list`, `pakn unsubscribe`: an
//! agency's IT contact subscribes an endpoint in one command. The filter
//! policy is built and checked by `pakn_core::subscription` before anything
//! is created; on SQLite the endpoint becomes a signed, retried webhook of
//! the local notifier, on AWS a subscription of the topic.

use crate::compose;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use pakn_aws::subscriptions::{self as sns_subs, Endpoint};
use pakn_config::{Backend, Config};
use pakn_core::subscription::{SubscriptionRequest, filter_policy};

#[derive(Args)]
pub struct SubscribeArgs {
    /// The unit whose messages to receive, e.g. ward:00070 (repeatable).
    #[arg(long)]
    pub unit: Vec<String>,
    /// unit, triage, home-affairs or citizen (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub audience: Vec<String>,
    /// Events, e.g. case.overdue,case.reminder (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    pub event: Vec<String>,
    /// urgent, normal or complex (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    pub urgency: Vec<String>,
    /// https://…, http://…; on AWS also mailto:…, arn:aws:sqs:…, arn:aws:lambda:….
    #[arg(long)]
    pub endpoint: String,
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
}

#[derive(Subcommand)]
pub enum Subscriptions {
    /// Every subscription with its filter policy (and, on SQLite, its last success and failure).
    List {
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
}

impl Subscriptions {
    pub fn backend(&self) -> Option<Backend> {
        match self {
            Subscriptions::List { backend } => *backend,
        }
    }
}

/// `pakn subscribe`.
pub async fn subscribe(cfg: &Config, a: SubscribeArgs) -> Result<()> {
    let req = SubscriptionRequest {
        units: a.unit,
        audiences: a.audience,
        events: a.event,
        urgencies: a.urgency,
    };
    let policy = filter_policy(&req, &cfg.refdata()?).map_err(|e| {
        let (en, vi) = pakn_api::messages::messages(&e);
        anyhow::anyhow!(
            "{en} ({}, --{})\n{vi}",
            e.code,
            e.field.as_deref().unwrap_or("?"),
        )
    })?;
    let Some(endpoint) = Endpoint::parse(&a.endpoint) else {
        bail!(
            "unsupported endpoint '{}': use https://…, http://…, mailto:…, arn:aws:sqs:… or arn:aws:lambda:…\n\
             Địa chỉ nhận '{}' không được hỗ trợ.",
            a.endpoint,
            a.endpoint
        );
    };
    let policy_text = serde_json::to_string(&policy)?;
    match cfg.backend {
        Backend::Sqlite => {
            if !matches!(endpoint.protocol, "https" | "http") {
                bail!(
                    "the embedded backend delivers to https:// or http:// webhooks only (got '{}'); \
                     use --backend aws for e-mail, SQS or Lambda\n\
                     Khi chạy cục bộ chỉ hỗ trợ webhook https:// hoặc http://.",
                    a.endpoint
                );
            }
            let backend = compose::open_local(cfg).await?;
            let s = backend
                .notifier
                .subscribe(&endpoint.endpoint, policy)
                .await
                .context("storing the subscription")?;
            println!("subscription {}", s.id);
            println!("policy       {policy_text}");
            println!("secret       {}", s.secret);
            eprintln!(
                "Keep the secret: it is shown only now. Each delivery carries \
                 X-Pakn-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">.\n\
                 Hãy lưu khoá bí mật: nó chỉ hiện một lần."
            );
        }
        Backend::Aws => {
            let (sns, topic) = sns_client(cfg).await?;
            let arn = sns_subs::subscribe(&sns, &topic, &endpoint, &policy)
                .await
                .context("subscribing to the topic")?;
            println!("subscription {arn}");
            println!("policy       {policy_text}");
            if matches!(endpoint.protocol, "email" | "https" | "http") {
                eprintln!(
                    "SNS sends a confirmation to the endpoint: deliveries start once it is confirmed."
                );
            }
            if endpoint.protocol == "sqs" {
                eprintln!(
                    "The queue's access policy must allow sns.amazonaws.com to SendMessage from {topic}."
                );
            }
        }
    }
    Ok(())
}

/// `pakn subscriptions list`.
pub async fn list(cfg: &Config) -> Result<()> {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "-".into())
    };
    match cfg.backend {
        Backend::Sqlite => {
            let backend = compose::open_local(cfg).await?;
            println!("id\turl\tpolicy\tlast_success\tlast_failure\tpending\tlast_error");
            for s in backend.notifier.subscriptions().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.url,
                    s.filter_policy,
                    when(s.last_success_at),
                    when(s.last_failure_at),
                    s.pending,
                    s.last_error.as_deref().unwrap_or("-")
                );
            }
        }
        Backend::Aws => {
            let (sns, topic) = sns_client(cfg).await?;
            println!("arn\tprotocol\tendpoint\tpolicy");
            for s in sns_subs::list(&sns, &topic).await? {
                let policy = s
                    .filter_policy
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into());
                println!("{}\t{}\t{}\t{policy}", s.arn, s.protocol, s.endpoint);
            }
        }
    }
    Ok(())
}

/// `pakn unsubscribe ID`.
pub async fn unsubscribe(cfg: &Config, id: &str) -> Result<()> {
    match cfg.backend {
        Backend::Sqlite => {
            let n: i64 = id
                .parse()
                .with_context(|| format!("'{id}' is not a local subscription id (a number)"))?;
            let backend = compose::open_local(cfg).await?;
            if !backend.notifier.unsubscribe(n).await? {
                bail!("no subscription {id}\nKhông có đăng ký {id}.");
            }
        }
        Backend::Aws => {
            let (sns, _) = sns_client(cfg).await?;
            sns_subs::unsubscribe(&sns, id).await?;
        }
    }
    println!("unsubscribed {id}");
    Ok(())
}

async fn sns_client(cfg: &Config) -> Result<(aws_sdk_sns::Client, String)> {
    let topic = cfg
        .aws
        .topic_arn
        .clone()
        .context("TOPIC_ARN is not set (pakn provision prints it)")?;
    let sdk = compose::aws_sdk(cfg).await;
    Ok((aws_sdk_sns::Client::new(&sdk), topic))
}
