//! End-to-end tests over HTTP against the local server. Each test starts
//! its own server on a random loopback port with its own data folder.

mod aws_flow;
mod aws_support;
mod bad_input;
mod claim_flow;
mod contract_media;
mod contract_store;
mod credentials;
mod errors;
mod fault_injection;
mod import;
mod infra;
mod issuer_key;
mod lambda_events;
mod mail_delivery;
mod mail_followups;
mod mail_lambda_events;
mod mail_resend;
mod mail_support;
mod share_support;
mod sharing;
mod support;
mod verification;
