//! template.yaml's identity and routes: two Cognito user pools (staff
//! created by administrators and signing in with TOTP; citizens signing
//! themselves up with a verified phone or e-mail), the API function told
//! both pools' issuers and app clients, and every route handed to the API
//! without an API Gateway authorizer — the API verifies the tokens itself
//! and alone decides which routes are public (checked here on the router).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pakn_api::{AppState, Auth, app};
use pakn_core::refdata::RefData;
use pakn_local::LocalBackend;
use pakn_tests::process::TempDir;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

/// Open311 GeoReport v2: every route under it is public (submitting checks
/// the client application's `api_key` itself).
const OPEN311: (&str, &str) = ("ANY", "/open311/v2/{proxy+}");

/// The API's public routes (README "API"; CONTRACT.md "stats, categories,
/// units, public case by tracking code").
const PUBLIC: [(&str, &str); 14] = [
    OPEN311,
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/v1/categories"),
    ("GET", "/v1/units"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/stats/units"),
    // Signed URLs (the local server's upload slots and media links).
    ("PUT", "/v1/uploads/{id}/content"),
    ("GET", "/v1/media/{id}"),
    ("GET", "/v1/track/{tracking_code}"),
    ("GET", "/v1/cases/nearby"),
    ("GET", "/v1/registration"),
    ("GET", "/v1/events/schemas"),
    // The console's developer sign-in: public, and off on Lambda (404).
    ("POST", "/v1/dev/token"),
];

fn template() -> serde_yaml::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("read template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn props<'a>(t: &'a serde_yaml::Value, resource: &str) -> &'a serde_yaml::Value {
    &t["Resources"][resource]["Properties"]
}

fn strings(v: &serde_yaml::Value) -> BTreeSet<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The resource a `!Ref`/`!Sub` names, as serde_yaml reads the tag.
fn tagged(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::Tagged(t) => format!(
            "{} {}",
            t.tag,
            t.value
                .as_str()
                .map(str::to_string)
                // A list (`!If [cond, a, b]`): its YAML, tags included.
                .unwrap_or_else(|| serde_yaml::to_string(&t.value).unwrap_or_default())
        ),
        other => format!("{other:?}"),
    }
}

fn concrete(path: &str) -> String {
    path.replace("{tracking_code}", "HN-25-22222")
        .replace("{id}", "01JZ0000000000000000000000")
        .replace("{code}", "ward:00070")
        .replace("{action}", "accept")
        .replace("{format}", "json")
        .replace("{service_code}", "lighting")
        .replace("{service_request_id}", "01JZ0000000000000000000000")
        .replace("{token}", "01JZ0000000000000000000000")
}

/// Is `(method, path)` public by the template's routes `want`?
fn is_public(want: &BTreeSet<(String, String)>, method: &str, path: &str) -> bool {
    want.contains(&(method.to_string(), path.to_string()))
        || (path.starts_with("/open311/v2/")
            && want.contains(&(OPEN311.0.to_string(), OPEN311.1.to_string())))
}

#[tokio::test]
async fn every_route_reaches_the_api_which_alone_decides_what_is_public() {
    let t = template();
    // No API Gateway authorizer: the API must see every request and verify
    // the token of either pool itself.
    assert!(
        props(&t, "HttpApi")["Auth"].is_null(),
        "the HttpApi has no authorizer"
    );
    let events = props(&t, "ApiFunction")["Events"]
        .as_mapping()
        .expect("ApiFunction has Events");
    let routes: Vec<(String, String)> = events
        .values()
        .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        .map(|e| {
            assert!(e["Properties"]["Auth"].is_null(), "no per-route authorizer");
            (
                e["Properties"]["Method"].as_str().unwrap_or("").to_string(),
                e["Properties"]["Path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        vec![
            ("ANY".to_string(), "/{proxy+}".to_string()),
            ("GET".to_string(), "/".to_string()),
        ],
        "every path, and the console's page at the bare root"
    );

    let want: BTreeSet<(String, String)> = PUBLIC
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let served: BTreeSet<(String, String)> = pakn_api::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for r in &want {
        let served_here = if *r == (OPEN311.0.to_string(), OPEN311.1.to_string()) {
            served.iter().any(|(_, p)| p.starts_with("/open311/v2/"))
        } else {
            served.contains(r)
        };
        assert!(
            served_here,
            "{r:?} is public in the template but not served"
        );
    }

    let dir = TempDir::new("template");
    let backend = LocalBackend::open(&dir.path().join("pakn.db")).expect("open sqlite");
    let pakn = backend.pakn(
        Arc::new(pakn_core::ports::SystemClock),
        Arc::new(RefData::embedded()),
    );
    let router = app(AppState {
        pakn,
        auth: Auth::Hs256 {
            secret: b"0123456789abcdef0123456789abcdef".to_vec(),
        },
        console: Default::default(),
    });
    for (method, path) in &served {
        let uri = concrete(path);
        let mut rq = Request::builder().method(method.as_str()).uri(&uri);
        if method != "GET" {
            rq = rq.header("content-type", "application/json");
        }
        let body = if method == "GET" {
            Body::empty()
        } else {
            Body::from("{}")
        };
        let res = router
            .clone()
            .oneshot(rq.body(body).expect("request"))
            .await
            .expect("response");
        let public = is_public(&want, method, path);
        if public {
            assert_ne!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {uri} is public"
            );
        } else {
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {uri} needs a token"
            );
        }
    }
}

#[test]
fn staff_are_created_by_administrators_and_sign_in_with_totp() {
    let t = template();
    let staff = props(&t, "StaffUserPool");
    assert_eq!(
        staff["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        serde_yaml::Value::Bool(true),
        "no self sign-up for staff"
    );
    assert_eq!(staff["MfaConfiguration"].as_str(), Some("ON"));
    assert_eq!(
        strings(&staff["EnabledMfas"]),
        BTreeSet::from(["SOFTWARE_TOKEN_MFA".to_string()]),
        "TOTP only (no SMS codes to hijack)"
    );
    let pw = &staff["Policies"]["PasswordPolicy"];
    assert!(
        pw["MinimumLength"].as_u64().is_some_and(|n| n >= 12),
        "{pw:?}"
    );
    for need in [
        "RequireLowercase",
        "RequireUppercase",
        "RequireNumbers",
        "RequireSymbols",
    ] {
        assert_eq!(pw[need], serde_yaml::Value::Bool(true), "{need}");
    }
    assert_eq!(
        staff["AccountRecoverySetting"]["RecoveryMechanisms"][0]["Name"].as_str(),
        Some("admin_only")
    );
    // One group per staff role, in the staff pool; none in the citizen pool.
    let groups: BTreeSet<String> = t["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Cognito::UserPoolGroup"))
        .map(|r| {
            assert_eq!(tagged(&r["Properties"]["UserPoolId"]), "!Ref StaffUserPool");
            r["Properties"]["GroupName"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let staff_roles: BTreeSet<String> = pakn_core::auth::Role::ALL
        .iter()
        .filter(|r| **r != pakn_core::auth::Role::Citizen)
        .map(|r| r.as_str().to_string())
        .collect();
    assert_eq!(groups, staff_roles);
    // The unit attribute exists in the staff pool only.
    let schema = staff["Schema"].as_sequence().expect("Schema");
    assert!(schema.iter().any(|a| a["Name"].as_str() == Some("unit")));
}

#[test]
fn citizens_sign_themselves_up_with_a_verified_phone_or_email() {
    let t = template();
    let citizen = props(&t, "CitizenUserPool");
    assert_eq!(
        citizen["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        serde_yaml::Value::Bool(false),
        "self sign-up"
    );
    let both = BTreeSet::from(["email".to_string(), "phone_number".to_string()]);
    assert_eq!(strings(&citizen["UsernameAttributes"]), both);
    assert_eq!(strings(&citizen["AutoVerifiedAttributes"]), both);
    assert_eq!(
        strings(
            &citizen["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"]
        ),
        both,
        "a new phone or e-mail counts once verified"
    );
    assert!(
        matches!(
            citizen["MfaConfiguration"].as_str(),
            Some("OPTIONAL" | "OFF")
        ),
        "MFA optional for citizens"
    );
    assert!(citizen["Schema"].is_null(), "no custom:unit for citizens");
    // Verification SMS go through the pool's own role.
    assert!(tagged(&citizen["SmsConfiguration"]["SnsCallerArn"]).contains("CitizenSmsRole"));
}

#[test]
fn no_app_client_may_write_the_unit_and_the_api_knows_both_pools() {
    let t = template();
    for (client, pool) in [
        ("StaffUserPoolClient", "StaffUserPool"),
        ("CitizenUserPoolClient", "CitizenUserPool"),
    ] {
        let c = props(&t, client);
        assert_eq!(tagged(&c["UserPoolId"]), format!("!Ref {pool}"));
        let writes = strings(&c["WriteAttributes"]);
        assert!(!writes.is_empty(), "{client} lists its writable attributes");
        assert!(
            !writes.iter().any(|a| a.starts_with("custom:")),
            "{client} may write {writes:?}"
        );
        assert_eq!(c["GenerateSecret"], serde_yaml::Value::Bool(false));
    }
    assert!(!strings(&props(&t, "StaffUserPoolClient")["WriteAttributes"]).contains("email"));
    let env = &props(&t, "ApiFunction")["Environment"]["Variables"];
    for (var, want) in [
        (
            "PAKN_STAFF_ISSUER",
            "https://cognito-idp.${AWS::Region}.amazonaws.com/${StaffUserPool}",
        ),
        (
            "PAKN_CITIZEN_ISSUER",
            "https://cognito-idp.${AWS::Region}.amazonaws.com/${CitizenUserPool}",
        ),
    ] {
        assert_eq!(tagged(&env[var]), format!("!Sub {want}"), "{var}");
    }
    assert_eq!(
        tagged(&env["PAKN_STAFF_CLIENT_ID"]),
        "!Ref StaffUserPoolClient"
    );
    assert_eq!(
        tagged(&env["PAKN_CITIZEN_CLIENT_ID"]),
        "!Ref CitizenUserPoolClient"
    );
    // The variables are the ones pakn-config reads.
    for var in [
        "PAKN_STAFF_ISSUER",
        "PAKN_STAFF_CLIENT_ID",
        "PAKN_CITIZEN_ISSUER",
        "PAKN_CITIZEN_CLIENT_ID",
    ] {
        assert!(pakn_config::VARS.contains(&var), "{var}");
    }
}

/// The console signs people in through each pool's Hosted UI: a domain per
/// pool, public app clients (no secret) with the authorization-code flow
/// and openid, back to the ConsoleUrl parameter; the API function is told
/// the domains (GET /console/config.json) only once ConsoleUrl is set.
#[test]
fn the_console_signs_in_through_each_pool_s_hosted_ui_with_the_code_flow() {
    let t = template();
    assert!(t["Parameters"]["ConsoleUrl"].is_mapping());
    for (client, pool, domain) in [
        (
            "StaffUserPoolClient",
            "StaffUserPool",
            "StaffUserPoolDomain",
        ),
        (
            "CitizenUserPoolClient",
            "CitizenUserPool",
            "CitizenUserPoolDomain",
        ),
    ] {
        let d = &t["Resources"][domain];
        assert_eq!(d["Type"].as_str(), Some("AWS::Cognito::UserPoolDomain"));
        assert_eq!(
            tagged(&d["Properties"]["UserPoolId"]),
            format!("!Ref {pool}")
        );
        let c = props(&t, client);
        assert_eq!(
            c["GenerateSecret"],
            serde_yaml::Value::Bool(false),
            "{client}: public"
        );
        let flows = tagged(&c["AllowedOAuthFlows"]);
        assert!(
            flows.contains("HasConsole") && flows.contains("code"),
            "{client}: {flows}"
        );
        assert!(!flows.contains("implicit"), "{client}: no implicit flow");
        assert!(
            tagged(&c["AllowedOAuthScopes"]).contains("openid"),
            "{client}"
        );
        assert!(
            tagged(&c["CallbackURLs"]).contains("ConsoleUrl"),
            "{client}"
        );
        assert!(tagged(&c["AllowedOAuthFlowsUserPoolClient"]).contains("HasConsole"));
    }
    let env = &props(&t, "ApiFunction")["Environment"]["Variables"];
    for (var, domain) in [
        ("PAKN_STAFF_AUTH_DOMAIN", "StaffUserPoolDomain"),
        ("PAKN_CITIZEN_AUTH_DOMAIN", "CitizenUserPoolDomain"),
    ] {
        assert!(pakn_config::VARS.contains(&var), "{var}");
        let v = tagged(&env[var]);
        assert!(v.contains("HasConsole") && v.contains(domain), "{var}: {v}");
    }
    // The Lambda never offers the developer sign-in.
    assert!(env["PAKN_DEV_LOGIN"].is_null());
}

/// The IAM actions a function's inline statements allow, with their resources.
fn allowed(t: &serde_yaml::Value, function: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for policy in props(t, function)["Policies"]
        .as_sequence()
        .expect("Policies")
    {
        for st in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions: Vec<String> = match &st["Action"] {
                serde_yaml::Value::String(a) => vec![a.clone()],
                other => strings(other).into_iter().collect(),
            };
            let resource = match &st["Resource"] {
                serde_yaml::Value::String(r) => r.clone(),
                other => tagged(other),
            };
            for a in actions {
                out.push((a, resource.clone()));
            }
        }
    }
    out
}

/// Telling citizens: every function that publishes a case's changes may
/// also send an SMS or a push directly (never through the topic); only the
/// API registers devices, on the account's platform applications; the
/// push platforms reach every function as configuration only when given.
#[test]
fn functions_may_tell_citizens_directly_and_only_the_api_registers_devices() {
    let t = template();
    for f in ["ApiFunction", "RouterFunction", "DeadlinesFunction"] {
        let a = allowed(&t, f);
        assert!(
            a.contains(&("sns:Publish".into(), "*".into())),
            "{f}: {a:?}"
        );
        let registers = a.iter().any(|(x, _)| x == "sns:CreatePlatformEndpoint");
        assert_eq!(registers, f == "ApiFunction", "{f}: {a:?}");
    }
    let api = allowed(&t, "ApiFunction");
    let (_, apps) = api
        .iter()
        .find(|(x, _)| x == "sns:CreatePlatformEndpoint")
        .unwrap();
    assert!(apps.ends_with(":app/*"), "{apps}");
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for (var, param, cond) in [
        ("PUSH_FCM_APP_ARN", "PushFcmAppArn", "HasFcm"),
        ("PUSH_APNS_APP_ARN", "PushApnsAppArn", "HasApns"),
    ] {
        let v = tagged(&env[var]);
        assert!(v.contains(cond) && v.contains(param), "{var}: {v}");
        assert_eq!(t["Parameters"][param]["Default"].as_str(), Some(""));
        assert!(pakn_config::VARS.contains(&var), "{var}");
    }
}
