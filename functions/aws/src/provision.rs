//! Creates pakn's table, queues, topic and subscriptions on any AWS endpoint
//! (real AWS or a local emulator), from the same definitions `template.yaml`
//! declares: a test parses the template and compares the two.

use crate::dynamo::items::{CAT, DUE, QDUE};
use crate::dynamo::keys::{GSI1, GSIS, PK, SK, TTL};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;

/// Receives before a message goes to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;
/// The router function's timeout (template.yaml `RouterFunction.Timeout`).
pub const ROUTER_TIMEOUT_SECONDS: u32 = 30;
/// Intake visibility timeout: six times the router's timeout, as AWS advises for event sources.
pub const INTAKE_VISIBILITY_TIMEOUT_SECONDS: u32 = 6 * ROUTER_TIMEOUT_SECONDS;
/// How long the dead-letter queue keeps a message (14 days, the SQS maximum).
pub const DLQ_RETENTION_SECONDS: u32 = 1_209_600;
/// The media queue's visibility timeout (template.yaml `MediaQueue`): a
/// check of one upload (download, decode, re-encode, two puts) takes far
/// less; six times the router's timeout like the intake queue.
pub const MEDIA_VISIBILITY_TIMEOUT_SECONDS: u32 = 6 * ROUTER_TIMEOUT_SECONDS;
/// Days before S3 removes a raw file never checked (the bucket's lifecycle rule).
pub const RAW_EXPIRATION_DAYS: i32 = 1;

/// The table's key schema, attributes and indexes (all keys are strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// `(attribute, HASH|RANGE)`.
    pub key_schema: Vec<(String, String)>,
    /// `(attribute, S)` for every key attribute of the table and its indexes.
    pub attributes: Vec<(String, String)>,
    pub gsis: Vec<GsiDef>,
    pub ttl_attribute: String,
    /// The table's stream (`NEW_IMAGE`): what `pakn-publisher` reads.
    pub stream_view: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsiDef {
    pub name: String,
    pub key_schema: Vec<(String, String)>,
    /// `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    /// For `INCLUDE`: the attributes projected besides the keys.
    pub non_key_attributes: Vec<String>,
}

/// The one definition of the table.
pub fn table_def() -> TableDef {
    let ks = |pk: &str, sk: &str| {
        vec![
            (pk.to_string(), "HASH".to_string()),
            (sk.to_string(), "RANGE".to_string()),
        ]
    };
    let mut attributes = vec![
        (PK.to_string(), "S".to_string()),
        (SK.to_string(), "S".to_string()),
    ];
    for g in GSIS {
        attributes.push((g.pk.into(), "S".into()));
        attributes.push((g.sk.into(), "S".into()));
    }
    TableDef {
        key_schema: ks(PK, SK),
        attributes,
        gsis: GSIS
            .iter()
            .map(|g| {
                // The unit queue projects `due`, so a unit's overdue cases are
                // counted without reading them, and `qdue` and `cat`, so a
                // `sort=due` page is ordered and filtered before any case is read.
                let include: Vec<String> = if *g == GSI1 {
                    [DUE, QDUE, CAT].map(String::from).to_vec()
                } else {
                    vec![]
                };
                GsiDef {
                    name: g.name.into(),
                    key_schema: ks(g.pk, g.sk),
                    projection: if include.is_empty() {
                        "KEYS_ONLY"
                    } else {
                        "INCLUDE"
                    }
                    .into(),
                    non_key_attributes: include,
                }
            })
            .collect(),
        ttl_attribute: TTL.into(),
        stream_view: "NEW_IMAGE".into(),
    }
}

/// A subscription to create on the topic.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// `sqs`, `email`, `https`, …
    pub protocol: String,
    /// Queue ARN, address or URL.
    pub endpoint: String,
    /// SNS filter policy on message attributes, e.g. `{"unit":["ward:00070"]}`.
    pub filter_policy: Option<serde_json::Value>,
    /// Deliver the bare message (no SNS envelope), for queues and HTTPS endpoints.
    pub raw: bool,
}

/// Names of what to create.
#[derive(Debug, Clone)]
pub struct Names {
    pub table: String,
    pub queue: String,
    pub dlq: String,
    pub topic: String,
    pub visibility_timeout_seconds: u32,
    pub subscriptions: Vec<Subscription>,
    /// The media bucket and its queue, when uploads are wanted ([`Names::with_media`]).
    pub media: Option<MediaNames>,
}

/// Names of the media bucket, the queue of its object-created events and
/// that queue's dead-letter queue.
#[derive(Debug, Clone)]
pub struct MediaNames {
    pub bucket: String,
    pub queue: String,
    pub dlq: String,
}

impl Names {
    /// The same names, and the media bucket `<prefix>-media` (lowercase, as
    /// S3 wants) with its queues `<prefix>-media` and `<prefix>-media-dlq`.
    /// On AWS a bucket name is global: pass another with [`MediaNames`] if
    /// it is taken.
    pub fn with_media(mut self, prefix: &str) -> Self {
        self.media = Some(MediaNames {
            bucket: format!("{prefix}-media").to_ascii_lowercase(),
            queue: format!("{prefix}-media"),
            dlq: format!("{prefix}-media-dlq"),
        });
        self
    }

    /// `<prefix>-cases`, `<prefix>-intake`, `<prefix>-intake-dlq`, `<prefix>-notifications`.
    pub fn with_prefix(prefix: &str) -> Self {
        Names {
            table: format!("{prefix}-cases"),
            queue: format!("{prefix}-intake"),
            dlq: format!("{prefix}-intake-dlq"),
            topic: format!("{prefix}-notifications"),
            visibility_timeout_seconds: INTAKE_VISIBILITY_TIMEOUT_SECONDS,
            subscriptions: vec![],
            media: None,
        }
    }
}

/// What was created (or found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub table: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub topic_arn: String,
    pub subscription_arns: Vec<String>,
    pub media: Option<ProvisionedMedia>,
}

/// The media bucket and its queues, as created (or found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedMedia {
    pub bucket: String,
    pub queue_url: String,
    pub dlq_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("could not {what}")]
    Aws {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("table {0} did not become active")]
    NotActive(String),
}

pub(crate) fn aws<E: std::error::Error + Send + Sync + 'static>(
    what: &'static str,
) -> impl FnOnce(E) -> ProvisionError {
    move |e| ProvisionError::Aws {
        what,
        source: Box::new(e),
    }
}

/// The redrive policy of the intake queue.
pub fn redrive_policy(dlq_arn: &str) -> String {
    serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
        .to_string()
}

/// Create everything (idempotent: what exists is kept).
pub async fn provision(cfg: &SdkConfig, names: &Names) -> Result<Provisioned, ProvisionError> {
    create_table(&aws_sdk_dynamodb::Client::new(cfg), &names.table).await?;
    let sqs = aws_sdk_sqs::Client::new(cfg);
    let dlq_url = sqs
        .create_queue()
        .queue_name(&names.dlq)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )
        .send()
        .await
        .map_err(aws("create the dead-letter queue"))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let dlq_arn = queue_arn(&sqs, &dlq_url).await?;
    let queue_url = sqs
        .create_queue()
        .queue_name(&names.queue)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            names.visibility_timeout_seconds.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive_policy(&dlq_arn))
        .send()
        .await
        .map_err(aws("create the intake queue"))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let sns = aws_sdk_sns::Client::new(cfg);
    let topic_arn = sns
        .create_topic()
        .name(&names.topic)
        .send()
        .await
        .map_err(aws("create the topic"))?
        .topic_arn()
        .unwrap_or_default()
        .to_string();
    let mut subscription_arns = Vec::new();
    for s in &names.subscriptions {
        subscription_arns.push(subscribe(&sns, &topic_arn, s).await?);
    }
    let media = match &names.media {
        Some(m) => Some(provision_media(cfg, &sqs, m).await?),
        None => None,
    };
    Ok(Provisioned {
        table: names.table.clone(),
        queue_url,
        dlq_url,
        topic_arn,
        subscription_arns,
        media,
    })
}

/// A queue with its dead-letter queue (created if absent): `(url, dlq url, arn)`.
async fn queue_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    dlq: &str,
    visibility_timeout_seconds: u32,
) -> Result<(String, String, String), ProvisionError> {
    let dlq_url = sqs
        .create_queue()
        .queue_name(dlq)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )
        .send()
        .await
        .map_err(aws("create a dead-letter queue"))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let dlq_arn = queue_arn(sqs, &dlq_url).await?;
    let url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout_seconds.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive_policy(&dlq_arn))
        .send()
        .await
        .map_err(aws("create a queue"))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let arn = queue_arn(sqs, &url).await?;
    Ok((url, dlq_url, arn))
}

/// The queue policy that lets the bucket (and only it) send its events.
pub fn media_queue_policy(queue_arn: &str, bucket: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": format!("arn:aws:s3:::{bucket}")}}
        }]
    })
    .to_string()
}

/// The media bucket as the template declares it: private (public access
/// blocked), encrypted, `raw/` files never checked expire after a day, and
/// every object created under `raw/` is an event on the media queue (with
/// its dead-letter queue), which the router reads. Idempotent.
async fn provision_media(
    cfg: &SdkConfig,
    sqs: &aws_sdk_sqs::Client,
    m: &MediaNames,
) -> Result<ProvisionedMedia, ProvisionError> {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration, Event,
        ExpirationStatus, FilterRule, FilterRuleName, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, NotificationConfiguration, NotificationConfigurationFilter,
        PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    };
    let (queue_url, dlq_url, queue_arn) =
        queue_with_dlq(sqs, &m.queue, &m.dlq, MEDIA_VISIBILITY_TIMEOUT_SECONDS).await?;
    sqs.set_queue_attributes()
        .queue_url(&queue_url)
        .attributes(
            QueueAttributeName::Policy,
            media_queue_policy(&queue_arn, &m.bucket),
        )
        .send()
        .await
        .map_err(aws("set the media queue's policy"))?;

    // Path-style: the bucket in the path works with every endpoint.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(true)
            .build(),
    );
    let mut create = s3.create_bucket().bucket(&m.bucket);
    // us-east-1 is the one region named by no location constraint.
    if let Some(region) = cfg
        .region()
        .map(|r| r.as_ref())
        .filter(|r| *r != "us-east-1")
    {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(aws("create the media bucket")(e)),
    }
    s3.put_public_access_block()
        .bucket(&m.bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(aws("block public access to the media bucket"))?;
    s3.put_bucket_encryption()
        .bucket(&m.bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .map_err(aws("describe the bucket's encryption"))?,
                        )
                        .build(),
                )
                .build()
                .map_err(aws("describe the bucket's encryption"))?,
        )
        .send()
        .await
        .map_err(aws("encrypt the media bucket"))?;
    s3.put_bucket_lifecycle_configuration()
        .bucket(&m.bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id("abandoned-uploads")
                        .status(ExpirationStatus::Enabled)
                        .filter(LifecycleRuleFilter::builder().prefix("raw/").build())
                        .expiration(
                            LifecycleExpiration::builder()
                                .days(RAW_EXPIRATION_DAYS)
                                .build(),
                        )
                        .build()
                        .map_err(aws("describe the bucket's lifecycle"))?,
                )
                .build()
                .map_err(aws("describe the bucket's lifecycle"))?,
        )
        .send()
        .await
        .map_err(aws("set the media bucket's lifecycle"))?;
    s3.put_bucket_notification_configuration()
        .bucket(&m.bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(&queue_arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .filter(
                            NotificationConfigurationFilter::builder()
                                .key(
                                    S3KeyFilter::builder()
                                        .filter_rules(
                                            FilterRule::builder()
                                                .name(FilterRuleName::Prefix)
                                                .value("raw/")
                                                .build(),
                                        )
                                        .build(),
                                )
                                .build(),
                        )
                        .build()
                        .map_err(aws("describe the bucket's events"))?,
                )
                .build(),
        )
        .send()
        .await
        .map_err(aws("send the media bucket's events to its queue"))?;
    Ok(ProvisionedMedia {
        bucket: m.bucket.clone(),
        queue_url,
        dlq_url,
    })
}

/// Subscribe an endpoint to the topic with its filter policy.
pub async fn subscribe(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    s: &Subscription,
) -> Result<String, ProvisionError> {
    let mut attrs = HashMap::new();
    if let Some(p) = &s.filter_policy {
        attrs.insert("FilterPolicy".to_string(), p.to_string());
        attrs.insert(
            "FilterPolicyScope".to_string(),
            "MessageAttributes".to_string(),
        );
    }
    if s.raw {
        attrs.insert("RawMessageDelivery".to_string(), "true".to_string());
    }
    let out = sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol(&s.protocol)
        .endpoint(&s.endpoint)
        .set_attributes(Some(attrs))
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(aws("subscribe to the topic"))?;
    Ok(out.subscription_arn().unwrap_or_default().to_string())
}

/// The ARN of a queue.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, ProvisionError> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(aws("read a queue's ARN"))?;
    Ok(out
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default())
}

async fn create_table(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), ProvisionError> {
    let def = table_def();
    let key = |(name, kind): &(String, String)| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(if kind == "HASH" {
                KeyType::Hash
            } else {
                KeyType::Range
            })
            .build()
            .map_err(aws("describe a key"))
    };
    let mut req = ddb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(def.stream_view.as_str()))
                .build()
                .map_err(aws("describe the stream"))?,
        );
    for k in &def.key_schema {
        req = req.key_schema(key(k)?);
    }
    for (name, _) in &def.attributes {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(aws("describe an attribute"))?,
        );
    }
    for g in &def.gsis {
        let mut b = GlobalSecondaryIndex::builder()
            .index_name(&g.name)
            .projection(
                Projection::builder()
                    .projection_type(if g.non_key_attributes.is_empty() {
                        ProjectionType::KeysOnly
                    } else {
                        ProjectionType::Include
                    })
                    .set_non_key_attributes(
                        (!g.non_key_attributes.is_empty()).then(|| g.non_key_attributes.clone()),
                    )
                    .build(),
            );
        for k in &g.key_schema {
            b = b.key_schema(key(k)?);
        }
        req = req.global_secondary_indexes(b.build().map_err(aws("describe an index"))?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(e) => return Err(aws("create the table")(e)),
    }
    let mut active = false;
    for attempt in 0..60u64 {
        let d = ddb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(aws("describe the table"))?;
        if d.table()
            .and_then(|t| t.table_status())
            .is_some_and(|s| s.as_str() == "ACTIVE")
        {
            active = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            200 * attempt.min(10) + 100,
        ))
        .await;
    }
    if !active {
        return Err(ProvisionError::NotActive(table.into()));
    }
    ddb.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(&def.ttl_attribute)
                .enabled(true)
                .build()
                .map_err(aws("describe the TTL"))?,
        )
        .send()
        .await
        .map_err(aws("enable the TTL"))?;
    Ok(())
}
