//! The two Cognito user pools whose ID tokens pakn-api verifies itself
//! (`pakn_api::cognito`): the staff pool (accounts created by an
//! administrator, TOTP MFA required) and the citizen pool (self sign-up).
//!
//! Four variables name them — `PAKN_STAFF_ISSUER`, `PAKN_STAFF_CLIENT_ID`,
//! `PAKN_CITIZEN_ISSUER`, `PAKN_CITIZEN_CLIENT_ID` — all four or none (none:
//! the process verifies local HS256 tokens instead). An issuer is the pool's
//! URL, `https://cognito-idp.<region>.amazonaws.com/<pool id>`; its keys are
//! fetched from `<issuer>/.well-known/jwks.json` unless `PAKN_STAFF_JWKS` /
//! `PAKN_CITIZEN_JWKS` give them (a JWKS document inline, or the path of a
//! file holding one), so tests and air-gapped runs never reach the network.

use crate::ConfigError;

/// One pool as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerSettings {
    /// The `iss` its tokens carry, exactly (no trailing slash).
    pub issuer: String,
    /// The app client id: the `aud` of its ID tokens.
    pub client_id: String,
    /// `PAKN_*_JWKS` as given: inline JSON (starts with `{`) or a file path.
    pub jwks: Option<String>,
    /// `PAKN_*_AUTH_DOMAIN`: the pool's Hosted UI (OAuth 2.0 endpoints),
    /// e.g. `https://pakn-prod-staff.auth.ap-southeast-1.amazoncognito.com`,
    /// where the console signs people in; `None`: no Hosted UI sign-in.
    pub auth_domain: Option<String>,
}

impl IssuerSettings {
    /// Where the pool publishes its keys (Cognito's and OIDC's convention).
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }
}

/// Both pools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuers {
    pub staff: IssuerSettings,
    pub citizen: IssuerSettings,
}

/// The variables, in the README table's order.
pub const VARS: [&str; 8] = [
    "PAKN_STAFF_ISSUER",
    "PAKN_STAFF_CLIENT_ID",
    "PAKN_STAFF_JWKS",
    "PAKN_STAFF_AUTH_DOMAIN",
    "PAKN_CITIZEN_ISSUER",
    "PAKN_CITIZEN_CLIENT_ID",
    "PAKN_CITIZEN_JWKS",
    "PAKN_CITIZEN_AUTH_DOMAIN",
];

/// Read the pools through `var` (blank = unset, values trimmed).
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Issuers>, ConfigError> {
    let names = [
        "PAKN_STAFF_ISSUER",
        "PAKN_STAFF_CLIENT_ID",
        "PAKN_CITIZEN_ISSUER",
        "PAKN_CITIZEN_CLIENT_ID",
    ];
    let given: Vec<Option<String>> = names.iter().map(|n| var(n)).collect();
    if given.iter().all(Option::is_none) {
        for jwks in [
            "PAKN_STAFF_JWKS",
            "PAKN_CITIZEN_JWKS",
            "PAKN_STAFF_AUTH_DOMAIN",
            "PAKN_CITIZEN_AUTH_DOMAIN",
        ] {
            if var(jwks).is_some() {
                return Err(ConfigError::Issuers(names[0]));
            }
        }
        return Ok(None);
    }
    if let Some(i) = given.iter().position(Option::is_none) {
        return Err(ConfigError::Issuers(names[i]));
    }
    let v = |i: usize| given[i].clone().unwrap_or_default();
    let pool = |issuer: String, name: &'static str, client_id: String, prefix: &str| {
        check_issuer(&issuer, name)?;
        let domain_var = if prefix == "STAFF" {
            "PAKN_STAFF_AUTH_DOMAIN"
        } else {
            "PAKN_CITIZEN_AUTH_DOMAIN"
        };
        let auth_domain = var(domain_var)
            .map(|d| {
                check_issuer(&d, domain_var)?;
                Ok::<_, ConfigError>(d.trim_end_matches('/').to_string())
            })
            .transpose()?;
        Ok(IssuerSettings {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id,
            jwks: var(&format!("PAKN_{prefix}_JWKS")),
            auth_domain,
        })
    };
    let staff = pool(v(0), names[0], v(1), "STAFF")?;
    let citizen = pool(v(2), names[2], v(3), "CITIZEN")?;
    if staff.issuer == citizen.issuer {
        return Err(ConfigError::SameIssuer);
    }
    Ok(Some(Issuers { staff, citizen }))
}

/// An issuer is an `https://` URL; plain `http://` only on the loopback
/// address (a test's key server).
fn check_issuer(issuer: &str, name: &'static str) -> Result<(), ConfigError> {
    let ok = issuer
        .strip_prefix("https://")
        .or_else(|| {
            issuer
                .strip_prefix("http://127.0.0.1")
                .filter(|rest| rest.starts_with(':') || rest.starts_with('/'))
        })
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::IssuerUrl(name, issuer.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<Issuers>, ConfigError> {
        let m: HashMap<&str, &str> = pairs.iter().copied().collect();
        from_vars(|k| m.get(k).map(|v| v.to_string()))
    }

    const STAFF: &str = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Staff";
    const CITIZEN: &str = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Dan";

    #[test]
    fn none_set_is_local_tokens_and_all_four_make_both_pools() {
        assert_eq!(read(&[]), Ok(None));
        let got = read(&[
            ("PAKN_STAFF_ISSUER", &format!("{STAFF}/")),
            ("PAKN_STAFF_CLIENT_ID", "staffclient"),
            ("PAKN_CITIZEN_ISSUER", CITIZEN),
            ("PAKN_CITIZEN_CLIENT_ID", "citizenclient"),
            ("PAKN_CITIZEN_JWKS", "/etc/pakn/citizen-jwks.json"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(got.staff.issuer, STAFF, "the trailing slash is dropped");
        assert_eq!(got.staff.jwks, None);
        assert_eq!(
            got.staff.jwks_url(),
            format!("{STAFF}/.well-known/jwks.json")
        );
        assert_eq!(got.citizen.client_id, "citizenclient");
        assert_eq!(
            got.citizen.jwks.as_deref(),
            Some("/etc/pakn/citizen-jwks.json")
        );
    }

    #[test]
    fn a_missing_half_an_insecure_url_or_one_issuer_twice_is_named() {
        let all = [
            ("PAKN_STAFF_ISSUER", STAFF),
            ("PAKN_STAFF_CLIENT_ID", "s"),
            ("PAKN_CITIZEN_ISSUER", CITIZEN),
            ("PAKN_CITIZEN_CLIENT_ID", "c"),
        ];
        for missing in 0..4 {
            let some: Vec<_> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, p)| *p)
                .collect();
            assert_eq!(read(&some), Err(ConfigError::Issuers(all[missing].0)));
        }
        assert_eq!(
            read(&[("PAKN_STAFF_JWKS", "{}")]),
            Err(ConfigError::Issuers("PAKN_STAFF_ISSUER"))
        );
        for bad in [
            "http://cognito.example",
            "cognito-idp",
            "https://",
            "http://127.0.0.1.evil.example",
        ] {
            let mut v = all.to_vec();
            v[2].1 = bad;
            assert_eq!(
                read(&v),
                Err(ConfigError::IssuerUrl("PAKN_CITIZEN_ISSUER", bad.into()))
            );
        }
        let mut v = all.to_vec();
        v[2].1 = "http://127.0.0.1:9000/citizen";
        assert!(read(&v).is_ok(), "the loopback address may be plain http");
        let mut v = all.to_vec();
        v[2].1 = STAFF;
        assert_eq!(read(&v), Err(ConfigError::SameIssuer));
    }
}
