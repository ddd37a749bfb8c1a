//! End-to-end tests over HTTP against the local server. Each test starts
//! its own server on a random loopback port with its own data folder.

mod aws_support;
mod bad_input;
mod claim_flow;
mod errors;
mod import;
mod support;
