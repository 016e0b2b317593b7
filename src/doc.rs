//! Markdown documentation of loaded dictionaries (`brise doc`).
