//! Workflow commands on stdout: groups, annotations and plain progress lines.
//!
//! Every message passes through the run's [`Sanitizer`]: a message may carry server data,
//! and none of it may add a line, start a workflow command or show the token.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use super::sanitize::Sanitizer;
use super::terminal::{Look, Terminal};

/// Annotations past this many per kind become plain log lines: GitHub shows only a handful
/// per step, and thousands of identical ones bury the first, useful one.
const MAX_ANNOTATIONS: usize = 10;

/// Warnings kept for the step summary, at most: each is about the whole run or a package.
const MAX_NOTES: usize = 20;

/// Writes the run's log. Plain text, no ANSI colour, as CI logs are read raw, except at a
/// terminal outside Actions, where [`Terminal`] adds progress bars and colour.
pub struct Log<W: Write> {
    /// Shared with [`Side`] handles, which write whole lines to it while the run awaits.
    out: Arc<Mutex<W>>,
    clean: Sanitizer,
    warnings: usize,
    errors: usize,
    terminal: Option<Terminal>,
    /// Warnings the step summary repeats, unescaped: the summary escapes them its own way.
    notes: Vec<String>,
}

/// The process's stdout or stderr, whichever the log is written to.
pub enum Console {
    Stdout(std::io::Stdout),
    Stderr(std::io::Stderr),
}

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Console::Stdout(out) => out.write(buf),
            Console::Stderr(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Console::Stdout(out) => out.flush(),
            Console::Stderr(out) => out.flush(),
        }
    }
}

impl Log<Console> {
    /// The log on stdout, or on stderr when stdout carries the printed report; progress
    /// bars and colour when that stream is a terminal (see [`Look`]).
    pub fn console(on_stderr: bool) -> Self {
        use std::io::IsTerminal;
        let (out, terminal) = if on_stderr {
            let out = std::io::stderr();
            let terminal = out.is_terminal();
            (Console::Stderr(out), terminal)
        } else {
            let out = std::io::stdout();
            let terminal = out.is_terminal();
            (Console::Stdout(out), terminal)
        };
        let mut log = Log::new(out);
        log.terminal = Look::detect(terminal).map(Terminal::new);
        log
    }
}

impl<W: Write> Log<W> {
    /// A log that escapes but redacts nothing until [`Log::redacting`] gives it the token.
    pub fn new(out: W) -> Self {
        Log {
            out: Arc::new(Mutex::new(out)),
            clean: Sanitizer::default(),
            warnings: 0,
            errors: 0,
            terminal: None,
            notes: Vec::new(),
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

    /// Use `clean` (built from the token) for every line from now on.
    pub fn redacting(&mut self, clean: Sanitizer) {
        self.clean = clean;
    }

    /// The sanitizer this log uses, for the other reports of the same run.
    pub fn sanitizer(&self) -> &Sanitizer {
        &self.clean
    }

    pub fn info(&mut self, message: &str) {
        let line = self.clean.log_line(message);
        self.line(&line);
    }

    /// Several lines of text (a rendered summary or outputs), each made a safe plain line.
    pub fn block(&mut self, text: &str) {
        for line in text.lines() {
            self.info(line);
        }
    }

    pub fn group(&mut self, title: &str) {
        let line = format!("::group::{}", self.clean.annotation(title));
        self.line(&line);
    }

    pub fn end_group(&mut self) {
        self.line("::endgroup::");
    }

    pub fn warning(&mut self, message: &str) {
        self.warnings += 1;
        let line = self.annotation("warning", self.warnings, message);
        self.line(&line);
    }

    /// A warning that the step summary says too, above its tables: for what a reader must
    /// not miss, such as a registry that read nothing.
    pub fn summary_warning(&mut self, message: &str) {
        self.warning(message);
        if self.notes.len() < MAX_NOTES {
            self.notes.push(message.to_string());
        }
    }

    /// The warnings for the step summary, in the order they were given.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub fn error(&mut self, message: &str) {
        self.errors += 1;
        let line = self.annotation("error", self.errors, message);
        self.line(&line);
    }

    /// A handle that writes plain lines to this log from elsewhere, with the sanitizer this
    /// log uses now: for what must be seen while the run is busy awaiting something else.
    pub fn side(&self) -> Side<W> {
        Side {
            out: Arc::clone(&self.out),
            clean: self.clean.clone(),
        }
    }

    /// What was written, for tests.
    pub fn into_inner(self) -> W
    where
        W: Default,
    {
        std::mem::take(&mut *lock(&self.out))
    }

    fn annotation(&self, kind: &str, nth: usize, message: &str) -> String {
        if nth <= MAX_ANNOTATIONS {
            format!("::{kind}::{}", self.clean.annotation(message))
        } else {
            self.clean.log_line(&format!("{kind}: {message}"))
        }
    }

    /// A log that cannot be written to is not worth failing the cleanup for.
    fn line(&mut self, text: &str) {
        let mut out = lock(&self.out);
        match &self.terminal {
            Some(terminal) => terminal.write(&mut *out, text),
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }
}

/// Writes plain, sanitized lines to a [`Log`] from outside the code that holds it.
pub struct Side<W: Write> {
    out: Arc<Mutex<W>>,
    clean: Sanitizer,
}

impl<W: Write> Side<W> {
    pub fn info(&self, message: &str) {
        let line = self.clean.log_line(message);
        let _ = writeln!(lock(&self.out), "{line}");
    }
}

/// A poisoned lock only means a writer panicked mid-line; the log is still worth writing.
fn lock<W>(out: &Mutex<W>) -> MutexGuard<'_, W> {
    match out.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(write: impl FnOnce(&mut Log<Vec<u8>>)) -> String {
        let mut log = Log::new(Vec::new());
        log.redacting(Sanitizer::new("ghp_token_value"));
        write(&mut log);
        String::from_utf8(log.into_inner()).unwrap_or_default()
    }

    #[test]
    fn annotations_escape_percent_and_line_breaks() {
        let text = logged(|log| log.warning("50% done\nnext line"));
        assert_eq!(text, "::warning::50%25 done%0Anext line\n");
    }

    #[test]
    fn annotations_past_the_cap_become_plain_lines_that_are_still_escaped() {
        let text = logged(|log| {
            for n in 0..=MAX_ANNOTATIONS {
                log.error(&format!("failure {n}\n::add-mask::x"));
            }
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), MAX_ANNOTATIONS + 1);
        assert!(lines[MAX_ANNOTATIONS - 1].starts_with("::error::"));
        assert_eq!(
            lines[MAX_ANNOTATIONS],
            format!("error: failure {MAX_ANNOTATIONS}\\n::add-mask::x")
        );
    }

    #[test]
    fn plain_lines_cannot_start_a_command_or_add_a_line() {
        let text = logged(|log| log.info("::error::x\n::stop-commands::y"));
        assert_eq!(text, "\\::error::x\\n::stop-commands::y\n");
    }

    #[test]
    fn every_kind_of_line_redacts_the_token() {
        let text = logged(|log| {
            log.info("Bearer ghp_token_value");
            log.warning("ghp_token_value");
            log.group("ghp_token_value");
            log.block("a\nghp_token_value");
        });
        assert!(!text.contains("ghp_token_value"), "{text}");
        assert_eq!(text.matches("***").count(), 4, "{text}");
    }

    #[test]
    fn a_block_is_written_line_by_line() {
        let text = logged(|log| log.block("## summary\n| a | b |\n::x"));
        assert_eq!(text, "## summary\n| a | b |\n\\::x\n");
    }

    #[test]
    fn a_side_handle_writes_redacted_lines_between_the_logs_own() {
        let text = logged(|log| {
            log.info("first");
            let side = log.side();
            side.info("waiting\n::error::ghp_token_value");
            log.info("last");
        });
        assert_eq!(text, "first\nwaiting\\n::error::***\nlast\n");
    }

    #[test]
    fn a_summary_warning_is_logged_and_kept_for_the_summary() {
        let mut log = Log::new(Vec::new());
        log.summary_warning("no manifest could be read");
        log.warning("only in the log");
        assert_eq!(log.notes(), ["no manifest could be read"]);
        let text = String::from_utf8(log.into_inner()).unwrap_or_default();
        assert_eq!(
            text,
            "::warning::no manifest could be read\n::warning::only in the log\n"
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
