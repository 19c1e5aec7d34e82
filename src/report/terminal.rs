//! The log as a person at a terminal sees it: progress bars and colour, only when the log's
//! stream is a terminal and the run is not under GitHub Actions. Piped or under Actions, the
//! log is plain workflow-command lines, byte for byte. And whether the report is printed on
//! stdout, how ([`Print`]): then the log goes to stderr.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::cli::Format;

/// Whether `name` is set to something other than empty.
fn set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| !value.is_empty())
}

/// The report printed on stdout, besides the runner's files: outside Actions always (`text`
/// unless `--format` says otherwise), under Actions only when `--format` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Print {
    pub format: Format,
    /// `text`: the kept versions are listed too, not only counted.
    pub verbose: bool,
    /// ANSI in the `text` report: only when stdout is a terminal and `NO_COLOR` is unset.
    pub colour: bool,
}

impl Print {
    /// `None` under Actions without `--format`: nothing changes there.
    pub fn choose(
        format: Option<Format>,
        verbose: bool,
        under_actions: bool,
        stdout_is_terminal: bool,
        no_color: bool,
    ) -> Option<Print> {
        let format = match format {
            Some(format) => format,
            None if under_actions => return None,
            None => Format::Text,
        };
        Some(Print {
            format,
            verbose,
            colour: stdout_is_terminal && !no_color,
        })
    }

    /// [`Print::choose`] for this process's stdout and environment.
    pub fn detect(format: Option<Format>, verbose: bool) -> Option<Print> {
        Print::choose(
            format,
            verbose,
            set("GITHUB_ACTIONS"),
            std::io::stdout().is_terminal(),
            set("NO_COLOR"),
        )
    }
}

/// How the log is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Progress bars, and workflow commands turned into plain `warning:` lines.
    pub bars: bool,
    /// ANSI colour; never when `NO_COLOR` is set (to anything but empty).
    pub colour: bool,
}

impl Look {
    /// A terminal look only for a terminal outside Actions; `None` means plain lines.
    pub fn choose(stdout_is_terminal: bool, under_actions: bool, no_color: bool) -> Option<Look> {
        (stdout_is_terminal && !under_actions).then_some(Look {
            bars: true,
            colour: !no_color,
        })
    }

    /// The look for a log on a stream that is a terminal or not, in this environment.
    pub fn detect(stream_is_terminal: bool) -> Option<Look> {
        Look::choose(stream_is_terminal, set("GITHUB_ACTIONS"), set("NO_COLOR"))
    }
}

/// The terminal side of the log: the current progress bar and the look.
#[derive(Debug)]
pub struct Terminal {
    look: Look,
    bar: Option<ProgressBar>,
}

impl Terminal {
    pub fn new(look: Look) -> Terminal {
        Terminal { look, bar: None }
    }

    /// Start a bar of `len` steps, ending any previous one.
    pub fn start(&mut self, label: &str, len: usize) {
        self.finish();
        let style = ProgressStyle::with_template(if self.look.colour {
            "{msg} [{bar:30.cyan/blue}] {pos}/{len} ({elapsed})"
        } else {
            "{msg} [{bar:30}] {pos}/{len} ({elapsed})"
        })
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::new(len as u64)
            .with_style(style)
            .with_message(label.to_owned());
        self.bar = Some(bar);
    }

    pub fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Write one log line above the bar, as a person reads it: groups as headings,
    /// annotations as `warning:`/`error:` lines, in colour unless `NO_COLOR`.
    pub fn write(&self, out: &mut impl std::io::Write, line: &str) {
        let Some(text) = render(line, self.look.colour) else {
            return;
        };
        match &self.bar {
            Some(bar) => bar.suspend(|| {
                let _ = writeln!(out, "{text}");
            }),
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }
}

/// A workflow-command line as a person reads it; `None` for `::endgroup::`.
fn render(line: &str, colour: bool) -> Option<String> {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    if line == "::endgroup::" {
        return None;
    }
    Some(if let Some(title) = line.strip_prefix("::group::") {
        paint("1", &format!("== {title}"))
    } else if let Some(message) = line.strip_prefix("::warning::") {
        format!("{} {message}", paint("33", "warning:"))
    } else if let Some(message) = line.strip_prefix("::error::") {
        format!("{} {message}", paint("31", "error:"))
    } else {
        line.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_colour_only_at_a_terminal_outside_actions_and_without_no_color() {
        let cases = [
            ((true, false, false), Some((true, true))),
            ((true, false, true), Some((true, false))),
            ((true, true, false), None),
            ((false, false, false), None),
            ((false, true, true), None),
        ];
        for ((terminal, actions, no_color), expected) in cases {
            let look =
                Look::choose(terminal, actions, no_color).map(|look| (look.bars, look.colour));
            assert_eq!(look, expected, "{terminal} {actions} {no_color}");
        }
    }

    #[test]
    fn the_report_is_printed_outside_actions_or_when_asked_in_colour_only_at_a_terminal() {
        // (format, under actions, stdout a terminal, NO_COLOR) → (format, colour)
        let cases = [
            ((None, true, false, false), None),
            ((None, true, true, false), None),
            ((None, false, true, false), Some((Format::Text, true))),
            ((None, false, true, true), Some((Format::Text, false))),
            ((None, false, false, false), Some((Format::Text, false))),
            (
                (Some(Format::Json), true, false, false),
                Some((Format::Json, false)),
            ),
            (
                (Some(Format::Markdown), false, true, false),
                Some((Format::Markdown, true)),
            ),
        ];
        for ((format, actions, terminal, no_color), expected) in cases {
            let print = Print::choose(format, true, actions, terminal, no_color);
            assert_eq!(
                print.map(|print| (print.format, print.colour)),
                expected,
                "{format:?} {actions} {terminal} {no_color}"
            );
            assert!(print.is_none_or(|print| print.verbose));
        }
    }

    #[test]
    fn workflow_commands_read_as_plain_words_with_colour_only_when_asked() {
        let cases = [
            ("::warning::careful", false, Some("warning: careful")),
            ("::error::broken", false, Some("error: broken")),
            (
                "::group::npm package lib",
                false,
                Some("== npm package lib"),
            ),
            ("::endgroup::", false, None),
            ("plain line", false, Some("plain line")),
            (
                "::warning::careful",
                true,
                Some("\x1b[33mwarning:\x1b[0m careful"),
            ),
            ("plain line", true, Some("plain line")),
        ];
        for (line, colour, expected) in cases {
            assert_eq!(render(line, colour).as_deref(), expected, "{line}");
        }
    }

    #[test]
    fn lines_written_without_a_bar_are_rendered_once_each() {
        let mut terminal = Terminal::new(Look {
            bars: true,
            colour: false,
        });
        let mut out = Vec::new();
        terminal.write(&mut out, "::warning::one");
        terminal.start("deleting", 2);
        terminal.advance();
        terminal.write(&mut out, "two");
        terminal.finish();
        assert_eq!(String::from_utf8_lossy(&out), "warning: one\ntwo\n");
    }
}
