//! The command line for people: one flag per action input, built from [`INPUTS`].
//!
//! Flags only override the `INPUT_*` variables the runner sets; the same
//! [`super::Config::from_env`] parses both, so a run with no flags is the Action's run.

use std::ffi::OsString;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, Command};

use super::inputs::{INPUTS, Input};

/// The crate version, and the commit when the build set `PACKAGE_JANITOR_COMMIT`: the
/// clients name the same in their `User-Agent`.
pub use crate::transport::client::version;

const ABOUT: &str = "Delete or restore the GitHub Packages versions that match a policy, \
                     then report exactly what was done.";

const AFTER_HELP: &str = "\
Each flag is the action input of the same name and wins over its INPUT_<NAME> variable \
(upper-cased, hyphens kept, e.g. INPUT_DRY-RUN), which the Actions runner sets. With no \
flags, the binary selects and acts as the Action does. GITHUB_API_URL sets the API base \
(GitHub Enterprise Server, or the bundled fake); GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, \
when set, receive the outputs and the summary. Outside Actions the report is printed on \
stdout (see --format) and the log goes to stderr.

Example:
  package-janitor --owner my-org --token \"$(gh auth token)\" --packages my-app \\
    --tag-state untagged --older-than 2w --dry-run";

/// How the report is printed on stdout (`--format`): for a person (`text`, the default
/// outside Actions), the `json` output's content, or the step summary's Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// What the command line says: the inputs given as flags, by name, and how the report is
/// printed (`--format`, `--verbose`), which no input sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub inputs: Vec<(&'static str, OsString)>,
    pub format: Option<Format>,
    /// `text`: list the kept versions too, not only their counts.
    pub verbose: bool,
}

/// The whole command, one flag per input, then the two flags of the printed report.
pub fn command() -> Command {
    Command::new("package-janitor")
        .version(version())
        .about(ABOUT)
        .after_help(AFTER_HELP)
        .args(INPUTS.iter().map(flag))
        .arg(
            Arg::new("format")
                .long("format")
                .value_name("text|json|markdown")
                .value_parser(PossibleValuesParser::new(["text", "json", "markdown"]))
                .action(ArgAction::Set)
                .help(
                    "How the report is printed on stdout (the log then goes to stderr): text \
                     for a person (the default outside Actions), json (the `json` output) or \
                     markdown (the step summary). Under Actions (GITHUB_ACTIONS=true) nothing \
                     is printed unless this is given.",
                ),
        )
        .arg(
            Arg::new("verbose")
                .long("verbose")
                .action(ArgAction::SetTrue)
                .help("With --format text, list the kept versions and why, not only their counts."),
        )
}

fn flag(input: &Input) -> Arg {
    let default = match input.default {
        None => "required".to_owned(),
        Some("") => "none".to_owned(),
        // `${{ github.token }}` means nothing outside Actions; the help says where it comes from.
        Some(default) if default.contains("${{") => "see above".to_owned(),
        Some(default) => default.to_owned(),
    };
    let help = format!(
        "{} [default: {default}] [example: --{}={}]",
        input.help, input.name, input.example
    );
    let arg = Arg::new(input.name)
        .long(input.name)
        .help(help)
        .action(ArgAction::Set);
    if input.switch {
        arg.num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_name("true|false")
            .value_parser(PossibleValuesParser::new(["true", "false"]))
            .ignore_case(true)
    } else {
        arg.value_name(input.name.to_ascii_uppercase())
            .value_parser(clap::value_parser!(OsString))
    }
}

/// The flags of `args` (program name first). `Err` is clap's answer: help, the version, or
/// a usage error with the closest flag.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Flags, clap::Error> {
    let matches = command().try_get_matches_from(args)?;
    let format = matches
        .get_one::<String>("format")
        .map(|format| match format.as_str() {
            "json" => Format::Json,
            "markdown" => Format::Markdown,
            _ => Format::Text,
        });
    let mut inputs = Vec::new();
    for input in INPUTS {
        let value = if input.switch {
            matches
                .get_one::<String>(input.name)
                .map(|value| OsString::from(value.to_ascii_lowercase()))
        } else {
            matches.get_one::<OsString>(input.name).cloned()
        };
        if let Some(value) = value {
            inputs.push((input.name, value));
        }
    }
    Ok(Flags {
        inputs,
        format,
        verbose: matches.get_flag("verbose"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Vec<(&'static str, String)>, clap::Error> {
        let args = std::iter::once("package-janitor").chain(args.iter().copied());
        parse(args.map(OsString::from)).map(|flags| {
            flags
                .inputs
                .into_iter()
                .map(|(name, value)| (name, value.to_string_lossy().into_owned()))
                .collect()
        })
    }

    #[test]
    fn every_input_is_a_flag_of_the_same_name() {
        for input in INPUTS {
            let value = if input.switch { "false" } else { "x" };
            let flags = parsed(&[&format!("--{}={value}", input.name)]).expect("parses");
            assert_eq!(
                flags,
                vec![(input.name, value.to_owned())],
                "{}",
                input.name
            );
        }
    }

    #[test]
    fn boolean_flags_are_switches_that_also_take_true_or_false() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["--dry-run"], Some("true")),
            (&["--dry-run=true"], Some("true")),
            (&["--dry-run=false"], Some("false")),
            (&["--dry-run=FALSE"], Some("false")),
            (&["--delete-orphans"], Some("true")),
            (&[], None),
        ];
        for (args, expected) in cases {
            let flags = parsed(args).expect("parses");
            let value = flags.first().map(|(_, value)| value.as_str());
            assert_eq!(value, *expected, "{args:?}");
        }
        assert!(parsed(&["--dry-run=maybe"]).is_err());
        assert!(parsed(&["--dry-run", "false"]).is_err(), "no positionals");
    }

    #[test]
    fn format_and_verbose_shape_the_printed_report_and_set_no_input() {
        let parse_args = |args: &[&str]| {
            let args = std::iter::once("package-janitor").chain(args.iter().copied());
            parse(args.map(OsString::from))
        };
        let cases: &[(&[&str], Option<Format>, bool)] = &[
            (&[], None, false),
            (&["--format", "text"], Some(Format::Text), false),
            (&["--format=json"], Some(Format::Json), false),
            (
                &["--format", "markdown", "--verbose"],
                Some(Format::Markdown),
                true,
            ),
            (&["--verbose"], None, true),
        ];
        for (args, format, verbose) in cases {
            let flags = parse_args(args).expect("parses");
            assert_eq!(
                (flags.format, flags.verbose),
                (*format, *verbose),
                "{args:?}"
            );
            assert!(flags.inputs.is_empty(), "{args:?}");
        }
        let error = parse_args(&["--format", "html"]).expect_err("not a format");
        assert!(error.render().to_string().contains("text"), "{error}");
    }

    #[test]
    fn an_unknown_flag_is_an_error_naming_the_closest_flag() {
        let cases = [
            ("--dry-rn", "--dry-run"),
            ("--tag-regx", "--tag-regex"),
            ("--older-then", "--older-than"),
            ("--package", "--packages"),
        ];
        for (typed, suggested) in cases {
            let error = parsed(&[typed]).expect_err("unknown flag");
            assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument);
            let text = error.render().to_string();
            assert!(text.contains(suggested), "{typed}: {text}");
        }
    }

    #[test]
    fn help_shows_every_input_with_its_default_and_an_example() {
        let help = command().render_long_help().to_string();
        for input in INPUTS {
            let line = help
                .lines()
                .skip_while(|line| !line.contains(&format!("--{}", input.name)))
                .take(4)
                .collect::<Vec<_>>()
                .join(" ");
            assert!(line.contains("[default: "), "{}: {line}", input.name);
            assert!(
                line.contains(&format!("[example: --{}=", input.name)),
                "{}: {line}",
                input.name
            );
        }
    }

    #[test]
    fn the_version_is_the_crate_version() {
        assert!(version().starts_with(env!("CARGO_PKG_VERSION")));
        command().debug_assert();
    }
}
