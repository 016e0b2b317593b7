//! `brise set VAR VALUE…` (several values for a multi) and `brise set VAR
//! --default` (EOLE's `CreoleSet`): validate with the same functions as the
//! web form, then write the values file atomically. A refused change (hidden,
//! frozen or disabled variable, invalid value) changes nothing.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::cli::SetArgs;
use crate::commands::{loading, locking};
use crate::values::{self, Change};

pub fn run(settings: &Settings, args: &SetArgs) -> Result<(), Failure> {
    let _lock = locking::hold(settings, &settings.state_dir, "set", &locking::to_stderr)?;
    let schema = loading::schema(settings)?;
    let raw = loading::raw_values(settings)?;
    let change = if args.default {
        Change::Default
    } else {
        Change::Set(args.values.clone())
    };
    match values::apply_changes(&schema, &raw, &[(args.variable.clone(), change)]) {
        Ok(next) => {
            values::write_file(&settings.values, &next).map_err(Failure::system)?;
            Ok(())
        }
        Err(issues) => {
            let mut err = std::io::stderr().lock();
            for issue in &issues {
                let _ = writeln!(err, "error: {issue}");
            }
            let _ = writeln!(err, "brise: nothing was changed");
            Err(Failure::Reported(1))
        }
    }
}
