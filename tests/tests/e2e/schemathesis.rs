//! schemathesis (PyPI, in `infra/requirements-test.txt`) against the real
//! `pakn serve` with the document it serves: once per role with a valid
//! token, and once with none, a bounded number of examples per operation
//! (a fixed seed, so a run is reproducible). It must find no server error
//! and no answer outside the document (status, content type, schema).
//!
//! The server runs on a copy of the reference data whose rate limits are
//! lifted, so the generated requests reach the handlers rather than the
//! limits (which are tested on their own in `http.rs` and `open311.rs`).

use pakn_tests::process::{Server, TempDir};
use std::path::PathBuf;
use std::process::Command;

/// Examples per operation and phase: enough to reach every handler, small
/// enough for a minute or so on two cores.
const MAX_EXAMPLES: &str = "5";

fn tool() -> PathBuf {
    if let Ok(p) = std::env::var("PAKN_SCHEMATHESIS") {
        return PathBuf::from(p);
    }
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../.venv/bin/schemathesis"
    ))
}

/// `infra/data` with every rate limit lifted.
fn refdata_without_limits(dir: &std::path::Path) {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/data");
    for f in pakn_core::refdata::FILES {
        let text = std::fs::read_to_string(format!("{src}/{f}")).expect("reference data");
        let text = if f == "policy.json" {
            let mut v: serde_json::Value = serde_json::from_str(&text).expect("policy.json");
            let limits = v["rate_limits"].as_object_mut().expect("rate_limits");
            for n in limits.values_mut() {
                *n = 1_000_000.into();
            }
            v.to_string()
        } else {
            text
        };
        std::fs::write(dir.join(f), text).expect("write");
    }
}

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let st = tool();
    assert!(
        st.exists(),
        "{} is missing: install it with `.venv/bin/pip install -r infra/requirements-test.txt` \
         (scripts/test.sh does), or point PAKN_SCHEMATHESIS at schemathesis",
        st.display()
    );
    let dir = TempDir::new("schemathesis");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    refdata_without_limits(&data);
    let data_dir = data.to_string_lossy().into_owned();
    let server = Server::start(
        &dir.path().join("pakn.db"),
        &[("PAKN_REFDATA_DIR", data_dir.as_str())],
    );
    let roles: [(&str, Option<&str>); 8] = [
        ("none", None),
        ("citizen", None),
        ("operator", None),
        ("official", Some("ward:00070")),
        ("unit_admin", Some("ward:00070")),
        ("triage", None),
        ("inspector", None),
        ("admin", None),
    ];
    for (role, unit) in roles {
        let mut cmd = Command::new(&st);
        cmd.arg("run")
            .arg(format!("{}/openapi.json", server.base))
            .args(["--url", &server.base])
            .args(["--max-examples", MAX_EXAMPLES])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance",
            ])
            .args(["--workers", "1", "--seed", "311"])
            .args(["--generation-database", "none", "--no-color"])
            .args(["--request-timeout", "10"])
            .current_dir(dir.path())
            .env("SCHEMATHESIS_TELEMETRY", "false");
        if role != "none" {
            let token = server.token(role, &format!("st-{role}"), unit);
            cmd.args(["--header", &format!("Authorization: Bearer {token}")]);
        }
        let out = cmd.output().expect("run schemathesis");
        let text = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = text.lines().rev().take(80).collect();
        assert!(
            out.status.success(),
            "schemathesis as {role} found problems:\n{}\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
