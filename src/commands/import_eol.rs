//! `brise import-eol FILE`: import an EOLE `config.eol` (JSON) into the values
//! file; variables the dictionaries do not know or refuse are reported and left out.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::cli::ImportEolArgs;
use crate::commands::{loading, locking};
use crate::values::{self, eol};

pub fn run(settings: &Settings, args: &ImportEolArgs) -> Result<(), Failure> {
    let _lock = locking::hold(
        settings,
        &settings.state_dir,
        "import-eol",
        &locking::to_stderr,
    )?;
    let schema = loading::schema(settings)?;
    let raw = loading::raw_values(settings)?;
    let text = crate::dictionary::read_text(&args.file).map_err(Failure::invalid)?;
    let imported = eol::import(&schema, &raw, &text)
        .map_err(|e| Failure::invalid(anyhow::anyhow!("`{}`: {e}", args.file.display())))?;
    let mut err = std::io::stderr().lock();
    for skipped in &imported.skipped {
        let _ = writeln!(err, "warning: {skipped}, not imported");
    }
    values::write_file(&settings.values, &imported.values).map_err(Failure::system)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "imported {} variable(s) from `{}` into `{}`",
        imported.count,
        args.file.display(),
        settings.values.display()
    );
    Ok(())
}
