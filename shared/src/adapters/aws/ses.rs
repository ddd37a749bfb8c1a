//! Placeholder until this adapter is written.
