//! Positions and messages about user-written files (dictionaries, values,
//! template catalogues). A [`Diagnostic`] prints as
//! `path:line:column: error: message`, then the source line and a caret.
//! Pure: the source text is passed in, never read here.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A 1-based position in a named source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub path: Arc<PathBuf>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Span {
    #[must_use]
    pub fn new(path: Arc<PathBuf>, line: usize, column: usize) -> Self {
        Self { path, line, column }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// One problem found in a user-written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Where; `None` when the problem has no position (an unreadable directory).
    pub span: Option<Span>,
    /// Lowercase, no trailing period, names in backticks.
    pub message: String,
    /// The source line the span points into, for the caret display.
    pub source_line: Option<String>,
}

impl Diagnostic {
    #[must_use]
    pub fn error(span: Option<Span>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span,
            message: message.into(),
            source_line: None,
        }
    }

    #[must_use]
    pub fn warning(span: Option<Span>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            span,
            message: message.into(),
            source_line: None,
        }
    }

    /// Attach the source line the span points into, already found.
    #[must_use]
    pub fn with_line(mut self, line: &str) -> Self {
        if self.span.is_some() {
            self.source_line = Some(line.to_owned());
        }
        self
    }

    /// Attach the line of `source` the span points into (for the caret display).
    #[must_use]
    pub fn with_source(mut self, source: &str) -> Self {
        if let Some(span) = &self.span {
            self.source_line = source
                .lines()
                .nth(span.line.saturating_sub(1))
                .map(str::to_owned);
        }
        self
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line:column: error: message`, then (when known) the source line
    /// and a caret under the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{span}: {}: {}", self.severity, self.message)?,
            None => write!(f, "{}: {}", self.severity, self.message)?,
        }
        if let (Some(span), Some(line)) = (&self.span, &self.source_line) {
            let gutter = span.line.to_string();
            let pad = " ".repeat(gutter.len());
            // The caret sits under the column; tabs are kept so it lines up.
            let lead: String = line
                .chars()
                .take(span.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{pad} |\n{gutter} | {line}\n{pad} | {lead}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Every diagnostic of a failed load, printed one after the other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_prints_location_source_line_and_caret() {
        let span = Span::new(Arc::new(PathBuf::from("dictionaries/00-base.yml")), 3, 5);
        let source = "version: 1.1\nfamily:\n  port:\n    type: port\n";
        let diagnostic =
            Diagnostic::error(Some(span), "unknown variable `rougail.x`").with_source(source);
        assert_eq!(
            diagnostic.to_string(),
            "dictionaries/00-base.yml:3:5: error: unknown variable `rougail.x`\n  |\n3 |   port:\n  |     ^"
        );
    }

    #[test]
    fn diagnostic_without_position_is_one_line() {
        let diagnostic = Diagnostic::warning(None, "no dictionary found");
        assert_eq!(diagnostic.to_string(), "warning: no dictionary found");
    }
}
