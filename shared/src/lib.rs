//! Core of the badge platform: domain types, Open Badges documents, image
//! baking, roster import, the ports (award store, image store, mailer,
//! clock, random source) with their embedded adapters, the use cases, and
//! the HTTP building blocks that the function crates share.

pub mod adapters;
pub mod app;
pub mod aws;
pub mod domain;
pub mod email;
pub mod encoding;
pub mod images;
pub mod import;
pub mod ob3;
pub mod openbadges;
pub mod ports;
pub mod service;
pub mod settings;
pub mod share;
pub mod tokens;
pub mod verify;
pub mod web;

pub use app::App;
