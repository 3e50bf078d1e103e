//! The OpenAPI document is valid OpenAPI 3.1: `openapi-spec-validator`
//! (PyPI, in `infra/requirements-test.txt`, installed into `.venv` by
//! `scripts/test.sh`) checks the generated document.

use pakn_tests::process::TempDir;
use std::path::PathBuf;
use std::process::Command;

/// The validator: `PAKN_OPENAPI_VALIDATOR`, or the workspace's `.venv`.
fn validator() -> PathBuf {
    if let Ok(p) = std::env::var("PAKN_OPENAPI_VALIDATOR") {
        return PathBuf::from(p);
    }
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../.venv/bin/openapi-spec-validator"
    ))
}

#[test]
fn the_document_passes_an_openapi_3_1_validator() {
    let tool = validator();
    assert!(
        tool.exists(),
        "{} is missing: install it with `.venv/bin/pip install -r infra/requirements-test.txt` \
         (scripts/test.sh does), or point PAKN_OPENAPI_VALIDATOR at openapi-spec-validator",
        tool.display()
    );
    let dir = TempDir::new("openapi");
    let path = dir.path().join("openapi.json");
    let doc = pakn_api::openapi::document();
    std::fs::write(&path, serde_json::to_vec_pretty(doc).expect("json")).expect("write");
    let out = Command::new(&tool)
        .arg("--validation-errors")
        .arg("all")
        .arg("--schema")
        .arg("3.1")
        .arg(&path)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        out.status.success(),
        "the OpenAPI document does not validate:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.chars().take(600).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}
