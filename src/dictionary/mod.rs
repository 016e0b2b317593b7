//! Dictionaries (Rougail 1.1 YAML) → [`Schema`]: every family and variable with
//! its type, properties, defaults and calculations, paths resolved, modes
//! propagated. Takes source texts, returns the schema or every diagnostic at
//! once. Does no I/O outside the `load_*` wrappers.
