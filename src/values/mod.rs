//! Schema + the administrator's values → the resolved configuration: every
//! value and property, calculations evaluated (tera), every validation error
//! collected. The values file is read and written (atomically) by thin wrappers.
