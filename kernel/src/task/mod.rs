//! Cooperative tasks: futures polled by the executor when woken.

pub mod executor;

pub use executor::{run, run_until, spawn};
