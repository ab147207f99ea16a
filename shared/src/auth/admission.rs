//! Admission tokens of the waiting room (docs/waiting-room.md): HS256 under the platform's signing key, with
//! an audience of their own ([`AUDIENCE`]), so an access token is never an admission and the other way round.
//! Claims: `sub` (member), `sid` (showtime), `tid` (ticket), `iat`, `exp`, `iss`, `aud`. Checked without a
//! database read; each refusal says why ([`Refusal`]).

use super::jwt::{TokenKey, ISSUER, LEEWAY_SECONDS};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

pub const AUDIENCE: &str = "ticketing-admission";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionClaims {
    pub sub: String,
    pub sid: String,
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub use ticketing_domain::admission::Refusal;

/// Signs an admission of `member` to `showtime` (ticket `ticket`) from `now`, good for `ttl_seconds`.
pub fn issue(
    key: &TokenKey,
    (member, showtime, ticket): (&str, &str, &str),
    now: i64,
    ttl_seconds: i64,
) -> Result<String, crate::AppError> {
    let claims = AdmissionClaims {
        sub: member.to_string(),
        sid: showtime.to_string(),
        tid: ticket.to_string(),
        iat: now,
        exp: now.saturating_add(ttl_seconds),
        iss: ISSUER.to_string(),
        aud: AUDIENCE.to_string(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key.encoding)
        .map_err(|e| crate::AppError::Dependency(format!("admission signing failed: {e}")))
}

/// Checks an admission token (if any) for `member` buying on `showtime` at `now`.
pub fn check(
    key: &TokenKey,
    token: Option<&str>,
    member: &str,
    showtime: &str,
    now: i64,
) -> Result<AdmissionClaims, Refusal> {
    let token = token.map(str::trim).filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(Refusal::Missing);
    };
    if token.len() > 4096 {
        return Err(Refusal::Invalid);
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.algorithms = vec![Algorithm::HS256];
    // Expiry is checked below, after the signature, so that an expired token says so.
    v.validate_exp = false;
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[ISSUER]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<AdmissionClaims>(token, &key.decoding, &v)
        .map_err(|_| Refusal::Invalid)?
        .claims;
    if claims.exp.saturating_add(LEEWAY_SECONDS as i64) < now {
        return Err(Refusal::Expired);
    }
    if claims.sub != member {
        return Err(Refusal::OtherMember);
    }
    if claims.sid != showtime {
        return Err(Refusal::OtherShowtime);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::Role;

    fn key(byte: u8) -> TokenKey {
        TokenKey::from_secret(&[byte; 32]).expect("key")
    }

    #[test]
    fn an_admission_is_checked_for_key_expiry_member_and_showtime() {
        let k = key(7);
        let t = issue(&k, ("m-1", "s-1", "t-1"), 1_000, 600).expect("token");
        let ok = check(&k, Some(&t), "m-1", "s-1", 1_500).expect("good");
        assert_eq!(
            (ok.sub.as_str(), ok.sid.as_str(), ok.tid.as_str()),
            ("m-1", "s-1", "t-1")
        );
        assert_eq!(check(&k, None, "m-1", "s-1", 1_500), Err(Refusal::Missing));
        assert_eq!(
            check(&k, Some(" "), "m-1", "s-1", 1_500),
            Err(Refusal::Missing)
        );
        assert_eq!(
            check(&key(8), Some(&t), "m-1", "s-1", 1_500),
            Err(Refusal::Invalid),
            "another key: forged"
        );
        assert_eq!(
            check(&k, Some("a.b.c"), "m-1", "s-1", 1_500),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            check(&k, Some(&t), "m-1", "s-1", 1_700),
            Err(Refusal::Expired)
        );
        assert_eq!(
            check(&k, Some(&t), "m-2", "s-1", 1_500),
            Err(Refusal::OtherMember)
        );
        assert_eq!(
            check(&k, Some(&t), "m-1", "s-2", 1_500),
            Err(Refusal::OtherShowtime)
        );
    }

    #[test]
    fn access_tokens_and_admissions_are_not_interchangeable() {
        let k = key(7);
        let access = super::super::jwt::issue(&k, "m-1", Role::User, 1_000, 600).expect("access");
        assert_eq!(
            check(&k, Some(&access.token), "m-1", "s-1", 1_100),
            Err(Refusal::Invalid)
        );
        let admission = issue(&k, ("m-1", "s-1", "t-1"), 1_000, 600).expect("token");
        assert!(super::super::jwt::verify(&k, &admission).is_err());
    }
}
