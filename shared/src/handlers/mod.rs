//! One async function per API route. Each takes the shared state and the request and always returns a
//! response: errors become problem documents in [`crate::http::into_response`], nowhere else.

pub mod authorizer;
pub mod health;
pub mod members;
pub mod openapi;
pub mod performances;
