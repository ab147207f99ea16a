//! A local stand-in for API Gateway HTTP API (payload format 2.0), like `sam local start-api`: it serves the
//! `HttpApi` routes of the SAM template and invokes each route's function through the Lambda Invoke API
//! (LocalStack).
//!
//! - [`template`]: routes and authorizers from the SAM template
//! - [`routes`]: API Gateway's route matching and priority
//! - [`event`]: the payload 2.0 request event
//! - [`authorizer`]: Lambda authorizers (payload 2.0, simple or IAM responses)
//! - [`invoke`]: the Lambda Invoke API client
//! - [`response`]: function output → HTTP response
//! - [`console`]: the built console (a single-page app) under `/console/`
//! - [`server`]: the HTTP server tying them together
//! - [`cli`]: command-line options

pub mod authorizer;
pub mod cli;
pub mod console;
pub mod event;
pub mod invoke;
pub mod response;
pub mod routes;
pub mod server;
pub mod template;
