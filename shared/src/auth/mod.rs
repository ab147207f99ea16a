//! Authentication and authorization.
//!
//! The Lambda authorizer verifies the bearer token and hands the caller to the route's function in
//! `requestContext.authorizer.lambda` as `{"memberId": "...", "role": "USER|ORGANIZER|ADMIN"}`;
//! [`caller`] reads it back. Functions behind a public route see no caller.

pub mod caller;

pub use caller::{caller, optional_caller, Caller};
