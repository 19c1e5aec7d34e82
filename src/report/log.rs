//! Workflow commands on stdout: groups, annotations and plain progress lines.

use std::io::Write;

use super::terminal::{Look, Terminal};

/// Annotations past this many per kind become plain log lines: GitHub shows only a handful
/// per step, and thousands of identical ones bury the first, useful one.
const MAX_ANNOTATIONS: usize = 10;

/// Writes the run's log. Plain text, no ANSI colour, as CI logs are read raw, except at a
/// terminal outside Actions, where [`Terminal`] adds progress bars and colour.
pub struct Log<W: Write> {
    out: W,
    warnings: usize,
    errors: usize,
    terminal: Option<Terminal>,
}

impl Log<std::io::Stdout> {
    pub fn stdout() -> Self {
        let mut log = Log::new(std::io::stdout());
        log.terminal = Look::detect().map(Terminal::new);
        log
    }
}

impl<W: Write> Log<W> {
    pub fn new(out: W) -> Self {
        Log {
            out,
            warnings: 0,
            errors: 0,
            terminal: None,
        }
    }

    /// Start a progress bar of `len` steps (at a terminal only; otherwise nothing).
    pub fn progress(&mut self, label: &str, len: usize) {
        if let Some(terminal) = &mut self.terminal {
            terminal.start(label, len);
        }
    }

    /// One step of the current progress bar done.
    pub fn advance(&mut self) {
        if let Some(terminal) = &self.terminal {
            terminal.advance();
        }
    }

    pub fn progress_done(&mut self) {
        if let Some(terminal) = &mut self.terminal {
            terminal.finish();
        }
    }

    pub fn info(&mut self, message: &str) {
        self.line(message);
    }

    pub fn group(&mut self, title: &str) {
        self.line(&format!("::group::{}", escape_data(title)));
    }

    pub fn end_group(&mut self) {
        self.line("::endgroup::");
    }

    pub fn warning(&mut self, message: &str) {
        self.warnings += 1;
        let line = annotation("warning", self.warnings, message);
        self.line(&line);
    }

    pub fn error(&mut self, message: &str) {
        self.errors += 1;
        let line = annotation("error", self.errors, message);
        self.line(&line);
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// A log that cannot be written to is not worth failing the cleanup for.
    fn line(&mut self, text: &str) {
        match &self.terminal {
            Some(terminal) => terminal.write(&mut self.out, text),
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }
}

fn annotation(kind: &str, nth: usize, message: &str) -> String {
    if nth <= MAX_ANNOTATIONS {
        format!("::{kind}::{}", escape_data(message))
    } else {
        format!("{kind}: {message}")
    }
}

/// Escape a workflow command's message so `%` and line breaks survive as text.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(write: impl FnOnce(&mut Log<Vec<u8>>)) -> String {
        let mut log = Log::new(Vec::new());
        write(&mut log);
        String::from_utf8(log.into_inner()).unwrap_or_default()
    }

    #[test]
    fn annotations_escape_percent_and_line_breaks() {
        let text = logged(|log| log.warning("50% done\nnext line"));
        assert_eq!(text, "::warning::50%25 done%0Anext line\n");
    }

    #[test]
    fn annotations_past_the_cap_become_plain_lines() {
        let text = logged(|log| {
            for n in 0..=MAX_ANNOTATIONS {
                log.error(&format!("failure {n}"));
            }
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), MAX_ANNOTATIONS + 1);
        assert!(lines[MAX_ANNOTATIONS - 1].starts_with("::error::"));
        assert_eq!(
            lines[MAX_ANNOTATIONS],
            format!("error: failure {MAX_ANNOTATIONS}")
        );
    }

    #[test]
    fn groups_open_and_close() {
        let text = logged(|log| {
            log.group("acme/app");
            log.info("inside");
            log.end_group();
        });
        assert_eq!(text, "::group::acme/app\ninside\n::endgroup::\n");
    }
}
