//! The local AWS emulator for the AWS-adapter tests: ONE `moto_server` per
//! test process on 127.0.0.1 (a free port), started on first use and
//! stopped when the test process exits (it is run under a tiny shell that
//! kills it when its stdin, held by this process, closes).
//!
//! The binary is `$PAKN_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`,
//! else `moto_server` on PATH. Every test uses its own table, queues and
//! topic (`unique`), since moto's state is global to the server. Credentials
//! are dummies set through the SDK config builder; nothing leaves 127.0.0.1.

use aws_config::SdkConfig;
use pakn_aws::provision::{Names, Provisioned};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const REGION: &str = "ap-southeast-1";

struct Server {
    endpoint: String,
    // Held for the life of the process: closing its stdin stops the server.
    _child: Child,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PAKN_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

fn start() -> Result<Server, String> {
    let bin = binary().ok_or_else(|| {
        "moto_server not found: run scripts/test.sh (it installs the test tools into .venv), \
         or `pip install 'moto[server]'`, or set PAKN_MOTO_SERVER"
            .to_string()
    })?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & pid=$!; read _ignored; kill $pid"#)
        .arg(&bin)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers(addr) {
            return Ok(Server {
                endpoint: format!("http://{addr}"),
                _child: child,
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{} did not answer on {addr} within 60 s",
        bin.display()
    ))
}

/// Does an HTTP server answer on `addr`?
fn answers(addr: SocketAddr) -> bool {
    use std::io::Write;
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/")
}

/// The emulator's endpoint (`http://127.0.0.1:<port>`), starting it on first use.
/// Panics (failing the test) with instructions when moto is not installed.
pub fn endpoint() -> &'static str {
    match SERVER.get_or_init(start) {
        Ok(s) => &s.endpoint,
        Err(e) => panic!("{e}"),
    }
}

/// An SDK configuration for the emulator (dummy credentials, a region).
pub async fn sdk() -> SdkConfig {
    pakn_aws::emulator_sdk_config(endpoint(), REGION).await
}

/// A name no other test of this process (or of another run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Names for a fresh table, queues and topic.
pub fn names() -> Names {
    Names::with_prefix(&unique("pakn"))
}

/// A fresh table, intake queue + DLQ and topic on the emulator.
pub async fn provisioned(names: &Names) -> (SdkConfig, Provisioned) {
    let sdk = sdk().await;
    let p = pakn_aws::provision(&sdk, names)
        .await
        .expect("provision on moto");
    (sdk, p)
}

/// A new SQS queue on the emulator, its URL and ARN.
pub async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(unique(prefix))
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("queue url")
        .to_string();
    let arn = pakn_aws::provision::queue_arn(sqs, &url)
        .await
        .expect("queue arn");
    (url, arn)
}

/// A new queue subscribed to `topic_arn` with no filter and raw delivery:
/// everything published on the topic, as published. Its URL.
pub async fn topic_queue(sdk: &SdkConfig, topic_arn: &str, prefix: &str) -> String {
    let (url, arn) = queue(&aws_sdk_sqs::Client::new(sdk), prefix).await;
    pakn_aws::provision::subscribe(
        &aws_sdk_sns::Client::new(sdk),
        topic_arn,
        &pakn_aws::provision::Subscription {
            protocol: "sqs".into(),
            endpoint: arn,
            filter_policy: None,
            raw: true,
        },
    )
    .await
    .expect("subscribe a queue to the topic");
    url
}

/// Receive and delete what is on a queue now (a few short polls).
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut out = Vec::new();
    for _ in 0..3 {
        let r = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if r.messages().is_empty() && !out.is_empty() {
            break;
        }
        for m in r.messages() {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
            out.push(m.clone());
        }
    }
    out
}

/// Every record of the table's stream so far (see
/// [`pakn_testkit::streams::records`]).
pub async fn stream_records(sdk: &SdkConfig, table: &str) -> Vec<serde_json::Value> {
    pakn_testkit::streams::records(sdk, endpoint(), REGION, table)
        .await
        .unwrap_or_else(|e| panic!("reading the table's stream on moto: {e}"))
}
