//! brise: configuration generator for containerised services on school servers.
//!
//! The pipeline, one module per stage (see `docs/ARCHITECTURE.md`):
//! `dictionary` (YAML → schema) → `values` (schema + values.yml → resolved
//! configuration) → `render` (configuration + templates → files in memory) →
//! `output` (atomic install, `nginx -t` gate) and `containers` (configuration →
//! desired containers) → `reconcile` (plan against what `runtime` observes,
//! then apply). `dictionary`, `values`, `render`, `containers` and
//! `reconcile::plan` do no I/O; `output`, `runtime`, `web`, `commands` are the
//! shell around them.

pub mod app;
pub mod applied;
pub mod cli;
pub mod command;
pub mod commands;
pub mod containers;
pub mod crash;
pub mod diagnostic;
pub mod dictionary;
pub mod doc;
pub mod eole;
pub mod export;
pub mod expr;
pub mod hooks;
pub mod lock;
pub mod output;
pub mod reconcile;
pub mod render;
pub mod runtime;
pub mod secure_file;
pub mod values;
pub mod version;
pub mod web;
