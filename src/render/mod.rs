//! Configuration + template catalogue → rendered files in memory (path, bytes,
//! owner, group, mode, checks, service to reload). tera, autoescape off,
//! undefined variables are errors. Pure: templates come in as (name, body).
