//! A user pool for tests: an RSA key pair generated in the test, its JWKS
//! (what Cognito serves at `<issuer>/.well-known/jwks.json`), and ID tokens
//! signed with it — so the API's token check (`pakn_api::cognito`) is
//! driven with real RS256 signatures and never reaches the network.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

/// One pool: its issuer, app client and signing key.
pub struct TestPool {
    pub issuer: String,
    pub client_id: String,
    pub kid: String,
    key: KeyPair,
}

impl TestPool {
    /// A pool with a fresh 2048-bit key.
    pub fn new(issuer: &str, client_id: &str, kid: &str) -> TestPool {
        TestPool {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            kid: kid.to_string(),
            key: KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"),
        }
    }

    /// The public key as a JWK (`kty` RSA, `n`, `e` base64url).
    pub fn jwk(&self) -> Value {
        let (n, e) = rsa_public_components(self.key.public_key().as_ref());
        json!({"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig",
               "n": B64.encode(n), "e": B64.encode(e)})
    }

    /// The pool's JWKS document.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.jwk()]})
    }

    /// The DER `RSAPublicKey` (what an attacker would try as an HMAC secret).
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    /// Claims of a valid ID token of this pool for `sub` with `groups`,
    /// issued at `now` (seconds since the epoch), valid one hour.
    pub fn id_claims(&self, sub: &str, groups: &[&str], now: i64) -> Value {
        let mut c = json!({
            "sub": sub, "iss": self.issuer, "aud": self.client_id, "token_use": "id",
            "auth_time": now, "iat": now, "exp": now + 3600,
            "cognito:username": sub, "email_verified": true,
        });
        if !groups.is_empty() {
            c["cognito:groups"] = json!(groups);
        }
        c
    }

    /// `claims` signed RS256 with this pool's key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"alg": "RS256", "kid": self.kid}), claims)
    }

    /// `claims` signed RS256 with this pool's key under any `header`.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("sign");
        format!("{input}.{}", B64.encode(sig))
    }
}

/// `n` and `e` of a DER `RSAPublicKey ::= SEQUENCE { n INTEGER, e INTEGER }`.
fn rsa_public_components(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // One DER element at `at`: (tag, content, next offset).
    fn element(der: &[u8], at: usize) -> (u8, &[u8], usize) {
        let tag = der[at];
        let (len, start) = match der[at + 1] {
            l if l < 0x80 => (l as usize, at + 2),
            l => {
                let n = (l & 0x7f) as usize;
                let len = der[at + 2..at + 2 + n]
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | *b as usize);
                (len, at + 2 + n)
            }
        };
        (tag, &der[start..start + len], start + len)
    }
    let (tag, seq, _) = element(der, 0);
    assert_eq!(tag, 0x30, "RSAPublicKey is a SEQUENCE");
    let (t1, n, next) = element(seq, 0);
    let (t2, e, _) = element(seq, next);
    assert_eq!((t1, t2), (0x02, 0x02), "two INTEGERs");
    let strip = |v: &[u8]| v[v.iter().position(|b| *b != 0).unwrap_or(0)..].to_vec();
    (strip(n), strip(e))
}
