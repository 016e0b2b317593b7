//! The one module of brise that calls C: safe wrappers over liblxc's
//! `struct lxc_container` (types from `lxc-sys`). liblxc is loaded on first
//! use (`dlopen`), not linked: only the LXC helper needs it, and every other
//! command starts faster without loading it and the libraries it pulls in.
//! Takes paths and names, returns Rust values and [`FfiError`]s; every
//! `unsafe` block says why it is sound.
//! Must only run in the single-threaded helper process (`brise lxc-helper`):
//! liblxc keeps process-wide locks and forks (lxc/lxc#2245). [`Container`] is
//! neither `Send` nor `Sync`, so a handle never leaves the thread that opened it.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::OnceLock;

use lxc_sys::lxc_container;
use thiserror::Error;

#[derive(Debug, Error)]
pub(super) enum FfiError {
    #[error("`{0}` contains a NUL byte")]
    Nul(String),
    #[error("liblxc could not allocate a container handle for `{name}`")]
    New { name: String },
    #[error("this liblxc has no `{0}` operation")]
    Missing(&'static str),
    #[error("liblxc refused `{key} = {value}`")]
    ConfigItem { key: String, value: String },
    #[error("{operation} failed{}", detail_suffix(.detail))]
    Failed {
        operation: &'static str,
        detail: String,
    },
    #[error("liblxc could not list the containers of `{0}`")]
    List(String),
    #[error("cannot load liblxc ({LIBRARY}, Debian package liblxc1): {0}")]
    Load(String),
}

/// The shared library, by its soname.
const LIBRARY: &str = "liblxc.so.1";

/// The entry points of liblxc brise calls (the rest are function pointers
/// inside `struct lxc_container`), with `lxc-sys`'s signatures.
struct Lib {
    get_version: unsafe extern "C" fn() -> *const c_char,
    list_defined_containers: unsafe extern "C" fn(
        *const c_char,
        *mut *mut *mut c_char,
        *mut *mut *mut lxc_container,
    ) -> c_int,
    container_new: unsafe extern "C" fn(*const c_char, *const c_char) -> *mut lxc_container,
    container_put: unsafe extern "C" fn(*mut lxc_container) -> c_int,
    /// Kept loaded for the life of the process (the pointers above point into it).
    _library: libloading::Library,
}

/// liblxc, loaded once.
fn lib() -> Result<&'static Lib, FfiError> {
    static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();
    LIB.get_or_init(|| load(LIBRARY).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| FfiError::Load(e.clone()))
}

fn load(soname: &str) -> Result<Lib, libloading::Error> {
    // SAFETY: loading liblxc runs its initialisers, which only set up its own
    // state; it is loaded once and never unloaded.
    let library = unsafe { libloading::Library::new(soname) }?;
    // SAFETY: each symbol is looked up with the exact C signature liblxc
    // declares (the one lxc-sys generated from lxc/lxccontainer.h), and the
    // pointers are only used while `library` stays loaded (it is kept with them).
    unsafe {
        Ok(Lib {
            get_version: *library.get(b"lxc_get_version\0")?,
            list_defined_containers: *library.get(b"list_defined_containers\0")?,
            container_new: *library.get(b"lxc_container_new\0")?,
            container_put: *library.get(b"lxc_container_put\0")?,
            _library: library,
        })
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

fn c_string(text: &str) -> Result<CString, FfiError> {
    CString::new(text).map_err(|_| FfiError::Nul(text.to_owned()))
}

fn c_path(path: &Path) -> Result<CString, FfiError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| FfiError::Nul(path.display().to_string()))
}

/// Copy a C string liblxc owns; `None` for NULL.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string valid for this call.
unsafe fn owned(text: *const c_char) -> Option<String> {
    if text.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    Some(
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// A NULL-terminated `char *argv[]` whose strings live as long as it does.
struct Argv {
    _strings: Vec<CString>,
    pointers: Vec<*mut c_char>,
}

impl Argv {
    fn new(args: &[String]) -> Result<Self, FfiError> {
        let strings = args
            .iter()
            .map(|arg| c_string(arg))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pointers: Vec<*mut c_char> =
            strings.iter().map(|s| s.as_ptr().cast_mut()).collect();
        pointers.push(std::ptr::null_mut());
        Ok(Self {
            _strings: strings,
            pointers,
        })
    }

    fn as_ptr(&self) -> *const *mut c_char {
        self.pointers.as_ptr()
    }
}

/// liblxc's version (`5.0.2`).
///
/// # Errors
/// liblxc cannot be loaded.
pub(super) fn version() -> Result<String, FfiError> {
    let lib = lib()?;
    // SAFETY: lxc_get_version returns a pointer to a static NUL-terminated string.
    Ok(unsafe { owned((lib.get_version)()) }.unwrap_or_default())
}

/// The names of the containers defined under `lxcpath`.
///
/// # Errors
/// liblxc cannot be loaded or cannot read the directory.
pub(super) fn list_defined(lxcpath: &Path) -> Result<Vec<String>, FfiError> {
    let lib = lib()?;
    let path = c_path(lxcpath)?;
    let mut names: *mut *mut c_char = std::ptr::null_mut();
    // SAFETY: `path` is a valid C string; `names` receives a malloc'd array of
    // `count` malloc'd strings (or stays NULL); we do not ask for handles.
    let count = unsafe {
        (lib.list_defined_containers)(path.as_ptr(), &raw mut names, std::ptr::null_mut())
    };
    if count < 0 {
        return Err(FfiError::List(lxcpath.display().to_string()));
    }
    let mut found = Vec::new();
    if names.is_null() {
        return Ok(found);
    }
    for index in 0..usize::try_from(count).unwrap_or(0) {
        // SAFETY: `names` holds `count` entries, each a malloc'd C string that
        // we copy and then free exactly once.
        unsafe {
            let entry = *names.add(index);
            if let Some(name) = owned(entry) {
                found.push(name);
            }
            lxc_sys::free(entry.cast());
        }
    }
    // SAFETY: the array itself was malloc'd by liblxc and is freed once.
    unsafe { lxc_sys::free(names.cast()) };
    Ok(found)
}

/// A snapshot as liblxc lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Snapshot {
    pub(super) name: String,
    pub(super) timestamp: String,
}

/// One `struct lxc_container` handle, released when dropped.
#[derive(Debug)]
pub(super) struct Container {
    raw: NonNull<lxc_container>,
    name: String,
    put: unsafe extern "C" fn(*mut lxc_container) -> c_int,
}

impl Drop for Container {
    fn drop(&mut self) {
        // SAFETY: `raw` came from lxc_container_new and this is its only owner;
        // put drops our reference exactly once.
        unsafe {
            (self.put)(self.raw.as_ptr());
        }
    }
}

/// Look up one of liblxc's operations (function pointers in the struct).
macro_rules! op {
    ($self:ident, $field:ident) => {{
        // SAFETY: `raw` is a live handle (we hold a reference until drop), and
        // liblxc fills these function pointers once at allocation.
        let function = unsafe { (*$self.raw.as_ptr()).$field };
        function.ok_or(FfiError::Missing(stringify!($field)))?
    }};
}

impl Container {
    /// A handle on container `name` under `lxcpath` (its configuration is
    /// loaded when it exists).
    ///
    /// # Errors
    /// A name with a NUL byte, or liblxc cannot be loaded or cannot allocate
    /// the handle.
    pub(super) fn open(lxcpath: &Path, name: &str) -> Result<Self, FfiError> {
        let lib = lib()?;
        let c_name = c_string(name)?;
        let c_lxcpath = c_path(lxcpath)?;
        // SAFETY: both arguments are valid C strings for the duration of the call;
        // liblxc copies them.
        let raw = unsafe { (lib.container_new)(c_name.as_ptr(), c_lxcpath.as_ptr()) };
        let raw = NonNull::new(raw).ok_or_else(|| FfiError::New {
            name: name.to_owned(),
        })?;
        Ok(Self {
            raw,
            name: name.to_owned(),
            put: lib.container_put,
        })
    }

    fn ptr(&self) -> *mut lxc_container {
        self.raw.as_ptr()
    }

    /// liblxc's last error on this handle (`error_string`, `error_num`).
    #[must_use]
    pub(super) fn last_error(&self) -> String {
        // SAFETY: reading two fields of a live handle; error_string is NULL or a
        // NUL-terminated string owned by the handle.
        let (text, number) = unsafe {
            let raw = self.ptr();
            (owned((*raw).error_string), (*raw).error_num)
        };
        match (text, number) {
            (Some(text), _) => text,
            (None, 0) => String::new(),
            (None, number) => format!("error {number}"),
        }
    }

    fn failed(&self, operation: &'static str) -> FfiError {
        FfiError::Failed {
            operation,
            detail: self.last_error(),
        }
    }

    /// Whether a configuration exists for it.
    ///
    /// # Errors
    /// This liblxc lacks the operation.
    pub(super) fn is_defined(&self) -> Result<bool, FfiError> {
        let function = op!(self, is_defined);
        // SAFETY: live handle, liblxc's own function pointer.
        Ok(unsafe { function(self.ptr()) })
    }

    /// `STOPPED`, `STARTING`, `RUNNING`, `STOPPING`, `ABORTING`, `FREEZING`,
    /// `FROZEN`, `THAWED`.
    ///
    /// # Errors
    /// This liblxc lacks the operation.
    pub(super) fn state(&self) -> Result<String, FfiError> {
        let function = op!(self, state);
        // SAFETY: live handle; the returned string is static in liblxc.
        Ok(unsafe { owned(function(self.ptr())) }.unwrap_or_else(|| "UNKNOWN".to_owned()))
    }

    /// The PID of its init on the host, when it runs.
    ///
    /// # Errors
    /// This liblxc lacks the operation.
    pub(super) fn init_pid(&self) -> Result<Option<i32>, FfiError> {
        let function = op!(self, init_pid);
        // SAFETY: live handle.
        let pid = unsafe { function(self.ptr()) };
        Ok((pid > 0).then_some(pid))
    }

    /// # Errors
    /// This liblxc lacks the operation.
    pub(super) fn is_running(&self) -> Result<bool, FfiError> {
        let function = op!(self, is_running);
        // SAFETY: live handle.
        Ok(unsafe { function(self.ptr()) })
    }

    /// Set one configuration item in memory.
    ///
    /// # Errors
    /// liblxc rejects the key or the value.
    pub(super) fn set_config_item(&self, key: &str, value: &str) -> Result<(), FfiError> {
        let function = op!(self, set_config_item);
        let c_key = c_string(key)?;
        let c_value = c_string(value)?;
        // SAFETY: live handle, valid C strings that liblxc copies.
        if unsafe { function(self.ptr(), c_key.as_ptr(), c_value.as_ptr()) } {
            Ok(())
        } else {
            Err(FfiError::ConfigItem {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        }
    }

    /// The value of one configuration item, `None` when unset.
    ///
    /// # Errors
    /// This liblxc lacks the operation.
    pub(super) fn config_item(&self, key: &str) -> Result<Option<String>, FfiError> {
        let function = op!(self, get_config_item);
        let c_key = c_string(key)?;
        // SAFETY: with a NULL buffer and length 0, liblxc only returns the length needed.
        let needed = unsafe { function(self.ptr(), c_key.as_ptr(), std::ptr::null_mut(), 0) };
        let Ok(length) = usize::try_from(needed) else {
            return Ok(None);
        };
        if length == 0 {
            return Ok(None);
        }
        let mut buffer = vec![0u8; length + 1];
        let size = c_int::try_from(buffer.len()).map_err(|_| self.failed("get_config_item"))?;
        // SAFETY: `buffer` has `size` writable bytes; liblxc writes at most
        // `size` bytes including the terminating NUL.
        let written = unsafe {
            function(
                self.ptr(),
                c_key.as_ptr(),
                buffer.as_mut_ptr().cast::<c_char>(),
                size,
            )
        };
        if written < 0 {
            return Ok(None);
        }
        let text = CStr::from_bytes_until_nul(&buffer)
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Some(text))
    }

    /// Write the in-memory configuration to `LXCPATH/NAME/config` (creating the
    /// container's directory).
    ///
    /// # Errors
    /// liblxc cannot write it.
    pub(super) fn save_config(&self) -> Result<(), FfiError> {
        let function = op!(self, save_config);
        // SAFETY: live handle; NULL means "the container's own config file".
        if unsafe { function(self.ptr(), std::ptr::null()) } {
            Ok(())
        } else {
            Err(self.failed("save_config"))
        }
    }

    /// Create the container with an LXC template on a directory root filesystem.
    ///
    /// # Errors
    /// The template fails (its output went to the helper's standard error).
    pub(super) fn create(&self, template: &str, args: &[String]) -> Result<(), FfiError> {
        let function = op!(self, create);
        let c_template = c_string(template)?;
        let c_bdev = c_string("dir")?;
        let argv = Argv::new(args)?;
        // SAFETY: live handle; the strings and the NULL-terminated argv outlive
        // the call; NULL specs means the storage's defaults; flags 0 keeps the
        // template's output (it goes to the helper's standard error).
        let created = unsafe {
            function(
                self.ptr(),
                c_template.as_ptr(),
                c_bdev.as_ptr(),
                std::ptr::null_mut(),
                0,
                argv.as_ptr(),
            )
        };
        if created {
            Ok(())
        } else {
            Err(self.failed("create"))
        }
    }

    /// Start in the background (liblxc forks a monitor that daemonizes and
    /// closes every inherited descriptor) and wait until it runs.
    ///
    /// # Errors
    /// liblxc could not start it; details are in the container's log.
    pub(super) fn start(&self, use_init: bool, argv: Option<&[String]>) -> Result<(), FfiError> {
        let daemonize = op!(self, want_daemonize);
        let close_fds = op!(self, want_close_all_fds);
        let start = op!(self, start);
        let argv = argv.map(Argv::new).transpose()?;
        let argv_ptr = argv.as_ref().map_or(std::ptr::null(), Argv::as_ptr);
        // SAFETY: live handle; argv (or NULL: the configured command) outlives the
        // call. want_* only set flags on the handle.
        let started = unsafe {
            daemonize(self.ptr(), true);
            close_fds(self.ptr(), true);
            start(self.ptr(), c_int::from(use_init), argv_ptr)
        };
        if started {
            Ok(())
        } else {
            Err(self.failed("start"))
        }
    }

    /// Send the halt signal and wait up to `timeout` seconds for it to stop.
    ///
    /// # Errors
    /// This liblxc lacks the operation.
    pub(super) fn shutdown(&self, timeout: i32) -> Result<bool, FfiError> {
        let function = op!(self, shutdown);
        // SAFETY: live handle.
        Ok(unsafe { function(self.ptr(), timeout) })
    }

    /// Kill it.
    ///
    /// # Errors
    /// liblxc could not stop it.
    pub(super) fn stop(&self) -> Result<(), FfiError> {
        let function = op!(self, stop);
        // SAFETY: live handle.
        if unsafe { function(self.ptr()) } {
            Ok(())
        } else {
            Err(self.failed("stop"))
        }
    }

    /// Wait up to `timeout` seconds for `state`; whether it was reached.
    ///
    /// # Errors
    /// A state name with a NUL byte, or this liblxc lacks the operation.
    pub(super) fn wait(&self, state: &str, timeout: i32) -> Result<bool, FfiError> {
        let function = op!(self, wait);
        let c_state = c_string(state)?;
        // SAFETY: live handle, valid C string.
        Ok(unsafe { function(self.ptr(), c_state.as_ptr(), timeout) })
    }

    /// Remove its configuration and root filesystem (refused by liblxc when it
    /// has snapshots or runs).
    ///
    /// # Errors
    /// liblxc refused or failed.
    pub(super) fn destroy(&self) -> Result<(), FfiError> {
        let function = op!(self, destroy);
        // SAFETY: live handle.
        if unsafe { function(self.ptr()) } {
            Ok(())
        } else {
            Err(self.failed("destroy"))
        }
    }

    /// Snapshot it with the comment in `comment_file`; the snapshot's number.
    ///
    /// # Errors
    /// liblxc could not copy it.
    pub(super) fn snapshot(&self, comment_file: &Path) -> Result<u32, FfiError> {
        let function = op!(self, snapshot);
        let c_comment = c_path(comment_file)?;
        // SAFETY: live handle, valid C string that liblxc only reads.
        let number = unsafe { function(self.ptr(), c_comment.as_ptr()) };
        u32::try_from(number).map_err(|_| self.failed("snapshot"))
    }

    /// Its snapshots.
    ///
    /// # Errors
    /// liblxc could not list them.
    pub(super) fn snapshots(&self) -> Result<Vec<Snapshot>, FfiError> {
        let function = op!(self, snapshot_list);
        let mut list: *mut lxc_sys::lxc_snapshot = std::ptr::null_mut();
        // SAFETY: live handle; `list` receives a malloc'd array of `count`
        // structs (or stays NULL).
        let count = unsafe { function(self.ptr(), &raw mut list) };
        let Ok(count) = usize::try_from(count) else {
            return Err(self.failed("snapshot_list"));
        };
        let mut snapshots = Vec::with_capacity(count);
        if list.is_null() {
            return Ok(snapshots);
        }
        for index in 0..count {
            // SAFETY: `list` holds `count` initialised structs; each one's strings
            // are copied before its own `free` releases them, exactly once.
            unsafe {
                let entry = list.add(index);
                snapshots.push(Snapshot {
                    name: owned((*entry).name).unwrap_or_default(),
                    timestamp: owned((*entry).timestamp).unwrap_or_default(),
                });
                if let Some(free) = (*entry).free {
                    free(entry);
                }
            }
        }
        // SAFETY: the array itself was malloc'd by liblxc and is freed once.
        unsafe { lxc_sys::free(list.cast()) };
        Ok(snapshots)
    }

    /// The name it was opened with.
    #[must_use]
    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_that_cannot_be_loaded_is_a_clear_error() {
        let Err(error) = load("liblxc-brise-test-absent.so.1") else {
            unreachable!("an absent library cannot load")
        };
        let message = FfiError::Load(error.to_string()).to_string();
        assert!(
            message.starts_with("cannot load liblxc (liblxc.so.1, Debian package liblxc1): "),
            "{message}"
        );
        assert!(
            message.contains("liblxc-brise-test-absent.so.1"),
            "{message}"
        );
    }
}
