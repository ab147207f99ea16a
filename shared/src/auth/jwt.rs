//! Access tokens: JWT signed with HS256.
//!
//! Claims: `sub` (member id), `role`, `jti` (token id, used for logout), `iat`, `exp`, `iss` = [`ISSUER`],
//! `aud` = [`AUDIENCE`]. Verification accepts only HS256 under our key, requires every claim, checks
//! `iss`, `aud` and `exp` with [`LEEWAY_SECONDS`] of clock skew. Any failure is the same
//! [`AppError::Unauthorized`]: the caller learns nothing about why.

use crate::domain::member::Role;
use crate::error::AppError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "ticketing";
pub const AUDIENCE: &str = "ticketing-api";
/// Clock skew tolerated on `exp`.
pub const LEEWAY_SECONDS: u64 = 5;
/// Shortest signing secret accepted (bytes). HS256 keys should be at least the hash size.
pub const MIN_SECRET_BYTES: usize = 32;
pub const DEFAULT_TTL_SECONDS: u64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// The HMAC key, ready for signing and verifying. `Debug` does not show it.
#[derive(Clone)]
pub struct TokenKey {
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    /// A key from the secret's bytes; refused when shorter than [`MIN_SECRET_BYTES`] (a misconfiguration,
    /// so a server-side error, not the client's).
    pub fn from_secret(secret: &[u8]) -> Result<Self, AppError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AppError::Dependency(format!(
                "the token signing secret must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        Ok(TokenKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }
}

/// A freshly issued token and what it says.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub claims: Claims,
}

/// Signs a token for `member_id` valid `ttl_seconds` from `now` (epoch seconds).
pub fn issue(
    key: &TokenKey,
    member_id: &str,
    role: Role,
    now: i64,
    ttl_seconds: u64,
) -> Result<IssuedToken, AppError> {
    let claims = Claims {
        sub: member_id.to_string(),
        role,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now.saturating_add(i64::try_from(ttl_seconds).unwrap_or(i64::MAX)),
        iss: ISSUER.to_string(),
        aud: AUDIENCE.to_string(),
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key.encoding)
        .map_err(|e| AppError::Dependency(format!("token signing failed: {e}")))?;
    Ok(IssuedToken { token, claims })
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.algorithms = vec![Algorithm::HS256];
    v.leeway = LEEWAY_SECONDS;
    v.validate_exp = true;
    v.validate_aud = true;
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[ISSUER]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v
}

/// Verifies a token's signature, algorithm and claims. Anything wrong is [`AppError::Unauthorized`].
pub fn verify(key: &TokenKey, token: &str) -> Result<Claims, AppError> {
    // Tokens are a few hundred bytes; refuse absurd input before parsing it.
    if token.is_empty() || token.len() > 4096 {
        return Err(AppError::Unauthorized);
    }
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation())
        .map_err(|_| AppError::Unauthorized)?;
    let claims = data.claims;
    if data.header.alg != Algorithm::HS256 || claims.jti.is_empty() || claims.sub.is_empty() {
        return Err(AppError::Unauthorized);
    }
    Ok(claims)
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn key() -> TokenKey {
        TokenKey::from_secret(SECRET).expect("long enough")
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn claims_json(exp: i64) -> serde_json::Value {
        json!({"sub": "m1", "role": "USER", "jti": "j1", "iat": now(), "exp": exp, "iss": ISSUER, "aud": AUDIENCE})
    }

    fn signed(header: &serde_json::Value, claims: &serde_json::Value, secret: &[u8]) -> String {
        use hmac_sign::sign;
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = sign(secret, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// HMAC-SHA256 through jsonwebtoken itself (sign a raw message), to forge tokens with any header.
    mod hmac_sign {
        pub fn sign(secret: &[u8], message: &[u8]) -> Vec<u8> {
            let key = jsonwebtoken::EncodingKey::from_secret(secret);
            let sig = jsonwebtoken::crypto::sign(message, &key, jsonwebtoken::Algorithm::HS256)
                .expect("signs");
            use base64::Engine;
            super::URL_SAFE_NO_PAD.decode(sig).expect("base64url")
        }
    }

    #[test]
    fn round_trip() {
        let issued = issue(&key(), "member-1", Role::Organizer, now(), 3600).expect("issues");
        let claims = verify(&key(), &issued.token).expect("valid");
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.sub, "member-1");
        assert_eq!(claims.role, Role::Organizer);
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!(claims.iss, "ticketing");
        assert_eq!(claims.aud, "ticketing-api");
        // Every token has its own id.
        let again = issue(&key(), "member-1", Role::Organizer, now(), 3600).expect("issues");
        assert_ne!(again.claims.jti, claims.jti);
    }

    #[test]
    fn hand_signed_token_matches_the_library() {
        // The forging helper below is only meaningful if a correct hand-made token verifies.
        let token = signed(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &claims_json(now() + 60),
            SECRET,
        );
        assert!(verify(&key(), &token).is_ok());
    }

    #[test]
    fn alg_none_is_refused() {
        let token = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&claims_json(now() + 60))
        );
        assert!(matches!(
            verify(&key(), &token),
            Err(AppError::Unauthorized)
        ));
        let token = format!(
            "{}.{}.",
            b64(&json!({"alg": "None"})),
            b64(&claims_json(now() + 60))
        );
        assert!(verify(&key(), &token).is_err());
    }

    #[test]
    fn other_algorithms_are_refused() {
        // Same key, HS512 / HS384: a valid MAC, but not the algorithm we accept.
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let token = jsonwebtoken::encode(
                &Header::new(alg),
                &claims_json(now() + 60),
                &EncodingKey::from_secret(SECRET),
            )
            .expect("encodes");
            assert!(verify(&key(), &token).is_err(), "{alg:?}");
        }
        // An RS256 header over an HMAC signature (the classic key-confusion attack).
        let token = signed(
            &json!({"alg": "RS256", "typ": "JWT"}),
            &claims_json(now() + 60),
            SECRET,
        );
        assert!(verify(&key(), &token).is_err());
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let issued = issue(&key(), "member-1", Role::User, now(), 3600).expect("issues");
        let parts: Vec<&str> = issued.token.split('.').collect();
        assert_eq!(parts.len(), 3);
        // Claims changed (role escalation), signature kept.
        let mut claims = claims_json(now() + 60);
        claims["role"] = json!("ADMIN");
        let forged = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
        assert!(verify(&key(), &forged).is_err());
        // Signature changed.
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
        sig[0] ^= 1;
        let forged = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
        assert!(verify(&key(), &forged).is_err());
        // Truncated, empty, garbage.
        for bad in ["", "a.b", "a.b.c", &issued.token[..issued.token.len() - 2]] {
            assert!(verify(&key(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wrong_key_is_refused() {
        let other = TokenKey::from_secret(b"another-secret-another-secret-another").expect("key");
        let issued = issue(&other, "m", Role::User, now(), 3600).expect("issues");
        assert!(verify(&key(), &issued.token).is_err());
    }

    #[test]
    fn expired_is_refused_with_only_a_few_seconds_of_leeway() {
        let issued = issue(&key(), "m", Role::User, now() - 3600, 3600 - 30).expect("issues");
        assert!(verify(&key(), &issued.token).is_err());
        let token = signed(&json!({"alg": "HS256"}), &claims_json(now() - 61), SECRET);
        assert!(verify(&key(), &token).is_err());
        let token = signed(&json!({"alg": "HS256"}), &claims_json(now() - 10), SECRET);
        assert!(verify(&key(), &token).is_err());
        // Within the leeway: still accepted.
        let token = signed(&json!({"alg": "HS256"}), &claims_json(now() - 1), SECRET);
        assert!(verify(&key(), &token).is_ok());
    }

    #[test]
    fn wrong_or_missing_audience_or_issuer_is_refused() {
        let exp = now() + 600;
        for (field, value) in [
            ("aud", json!("someone-else")),
            ("iss", json!("evil")),
            ("aud", json!(null)),
            ("iss", json!(null)),
        ] {
            let mut claims = claims_json(exp);
            if value.is_null() {
                claims.as_object_mut().map(|o| o.remove(field));
            } else {
                claims[field] = value;
            }
            let token = signed(&json!({"alg": "HS256"}), &claims, SECRET);
            assert!(verify(&key(), &token).is_err(), "{claims}");
        }
        let mut no_exp = claims_json(exp);
        no_exp.as_object_mut().map(|o| o.remove("exp"));
        assert!(verify(&key(), &signed(&json!({"alg": "HS256"}), &no_exp, SECRET)).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKey::from_secret(b"short").is_err());
        assert!(TokenKey::from_secret(&[7u8; 31]).is_err());
        assert!(TokenKey::from_secret(&[7u8; 32]).is_ok());
        assert_eq!(format!("{:?}", key()), "TokenKey(<redacted>)");
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("abc"), None);
        assert_eq!(bearer_token("Bearer a b"), None);
    }
}
