//! `brise passwd [USER]`: set (or `--delete`) a web form user's password in the
//! users file. The password is read from the terminal without echo (typed
//! twice), or as the first line of standard input when it is not a terminal.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::Context as _;

use crate::app::{Failure, Settings};
use crate::cli::PasswdArgs;
use crate::web::users;

pub fn run(_settings: &Settings, args: &PasswdArgs) -> Result<(), Failure> {
    let path = &args.users_file;
    if !users::is_valid_user_name(&args.user) {
        return Err(Failure::invalid(users::UsersError::InvalidUserName(
            args.user.clone(),
        )));
    }
    let mut list = users::load(path).map_err(Failure::invalid)?;
    if args.delete {
        if !list.remove(&args.user) {
            return Err(Failure::invalid(anyhow::anyhow!(
                "no user `{}` in `{}`",
                args.user,
                path.display()
            )));
        }
        users::save(path, &list).map_err(Failure::system)?;
        report(&format!(
            "removed user `{}` from `{}`",
            args.user,
            path.display()
        ));
        return Ok(());
    }
    let password = read_password(&args.user).map_err(Failure::invalid)?;
    let hash = users::hash_password(&password).map_err(Failure::invalid)?;
    list.set(&args.user, hash).map_err(Failure::invalid)?;
    users::save(path, &list).map_err(Failure::system)?;
    report(&format!(
        "password of `{}` set in `{}`",
        args.user,
        path.display()
    ));
    Ok(())
}

#[allow(clippy::print_stderr)]
fn report(message: &str) {
    eprintln!("brise: {message}");
}

fn read_password(user: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        return Ok(password.to_owned());
    }
    let first = prompt_hidden(&format!("new password for `{user}`: "))?;
    let second = prompt_hidden("retype the password: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ: nothing changed");
    }
    Ok(first)
}

/// Turns terminal echo back on when dropped, whatever happens in between.
struct EchoOff {
    saved: nix::sys::termios::Termios,
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &self.saved,
        );
    }
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).context("cannot read the terminal settings")?;
    let mut silent = saved.clone();
    silent.local_flags.remove(LocalFlags::ECHO);
    silent.local_flags.insert(LocalFlags::ECHONL);
    let guard = EchoOff { saved };
    tcsetattr(&stdin, SetArg::TCSANOW, &silent).context("cannot turn terminal echo off")?;
    let mut stderr = std::io::stderr();
    write!(stderr, "{prompt}").context("cannot write the prompt")?;
    stderr.flush().context("cannot write the prompt")?;
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password")?;
    drop(guard);
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.to_owned())
}
