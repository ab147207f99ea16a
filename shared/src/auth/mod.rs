//! Authentication and authorization.
//!
//! * [`password`]: argon2id hashing and verification.
//! * [`jwt`]: issuing and verifying our HS256 access tokens.
//! * [`keys`]: the signing key, read lazily from Secrets Manager.
//! * [`context`] and [`caller`]: the Lambda authorizer verifies the bearer token and hands the caller to
//!   the route's function in `requestContext.authorizer.lambda` as
//!   `{"memberId": "...", "role": "USER|ORGANIZER|ADMIN", "tokenId": "<jti>", "tokenExpiresAt": <epoch s>}`;
//!   [`caller`] reads it back. Functions behind a public route see no caller.

pub mod admission;
pub mod caller;
pub mod context;
pub mod jwt;
pub mod keys;
pub mod password;

pub use caller::{caller, optional_caller, Caller};
pub use context::{token_of, AuthorizerContext, TokenRef};
pub use keys::SigningKeys;
