//! The log as a person at a terminal sees it: progress bars and colour, only when stdout
//! is a terminal and the run is not under GitHub Actions. Piped or under Actions, the log
//! is plain workflow-command lines, byte for byte.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

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

    /// The look for this process's stdout and environment.
    pub fn detect() -> Option<Look> {
        let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
        Look::choose(
            std::io::stdout().is_terminal(),
            set("GITHUB_ACTIONS"),
            set("NO_COLOR"),
        )
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
