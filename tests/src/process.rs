//! Run the real `pakn` binary on a free port with its own database.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `pakn` binary cargo built for this test run (same profile as the tests).
pub fn pakn_binary() -> PathBuf {
    binary("pakn")
}

/// A workspace binary (`pakn`, `pakn-api`, `pakn-router`, `pakn-deadlines`)
/// as cargo built it for this test run, same profile as the tests.
pub fn binary(name: &str) -> PathBuf {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    built(profile, name, "cargo build --workspace --bins")
}

/// A binary of the release profile (what ships in a Lambda bootstrap).
pub fn release_binary(name: &str) -> PathBuf {
    // `pakn-publisher` is the second binary of the router's package.
    let package = if name == "pakn-publisher" {
        "pakn-router"
    } else {
        name
    };
    built(
        "release",
        name,
        &format!("cargo build --release -p {package}"),
    )
}

fn built(profile: &str, name: &str, how: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join(profile).join(name);
    assert!(
        bin.exists(),
        "the {name} binary ({profile}) is missing at {}: run `{how}` first (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// A running `pakn serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub db: PathBuf,
    pub secret: String,
}

pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

impl Server {
    /// Start `pakn serve` on `db` and wait until `/healthz` answers.
    pub fn start(db: &Path, extra_env: &[(&str, &str)]) -> Server {
        Server::spawn(db, extra_env, None)
    }

    /// [`Server::start`] with everything the process writes (stdout and its
    /// log on stderr) captured in `log`, at the level `PAKN_LOG` in
    /// `extra_env` asks for.
    pub fn start_logged(db: &Path, extra_env: &[(&str, &str)], log: &Path) -> Server {
        Server::spawn(db, extra_env, Some(log))
    }

    fn spawn(db: &Path, extra_env: &[(&str, &str)], log: Option<&Path>) -> Server {
        let port = free_port();
        let mut cmd = Command::new(pakn_binary());
        cmd.arg("serve")
            .env("PAKN_DB", db)
            .env("PAKN_ADDR", format!("127.0.0.1:{port}"))
            .env("PAKN_JWT_SECRET", TEST_SECRET)
            .env("PAKN_LOG", "warn")
            .env_remove("PAKN_BACKEND")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(log) = log {
            let f = std::fs::File::create(log).expect("create the log file");
            cmd.stdout(f.try_clone().expect("log file handle"))
                .stderr(f);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn pakn serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            db: db.to_path_buf(),
            secret: TEST_SECRET.into(),
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = self.base.trim_start_matches("http://").to_string();
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ =
                    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "pakn serve did not answer /healthz on {} within 30 s",
            self.base
        );
    }

    /// A token minted by the binary itself (`pakn token`).
    pub fn token(&self, role: &str, sub: &str, unit: Option<&str>) -> String {
        let mut cmd = Command::new(pakn_binary());
        cmd.args(["token", "--role", role, "--sub", sub])
            .env("PAKN_DB", &self.db)
            .env("PAKN_JWT_SECRET", &self.secret);
        if let Some(u) = unit {
            cmd.args(["--unit", u]);
        }
        let out = cmd.output().expect("run pakn token");
        assert!(
            out.status.success(),
            "pakn token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8 token")
            .trim()
            .to_string()
    }

    /// SIGKILL: no chance to flush or shut down.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh temporary directory under the target dir (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let base = std::env::temp_dir().join(format!(
            "pakn-test-{tag}-{}-{}",
            std::process::id(),
            ulid_like()
        ));
        std::fs::create_dir_all(&base).expect("create temp dir");
        TempDir(base)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ulid_like() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    t ^ ((N.fetch_add(1, Ordering::Relaxed) as u128) << 64)
}
