//! One file per command: thin glue that loads what the command needs, calls the
//! library stage, prints the outcome, and maps errors to a [`crate::app::Failure`].

pub mod check;
pub mod doc;
pub mod export;
pub mod gen_config;
pub mod generate;
pub mod get;
pub mod import_eol;
pub(crate) mod loading;
pub mod locking;
pub mod lxc_helper;
pub mod passwd;
pub mod reconfigure;
pub mod rollback;
pub mod serve;
pub mod set;
pub mod show;
pub mod status;
