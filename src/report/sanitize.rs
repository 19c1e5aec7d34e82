//! The one place outside text becomes output: every server- or user-supplied string (tags,
//! names, messages, bodies) passes through a [`Sanitizer`] on its way into a log line, an
//! annotation, the step summary's Markdown or an output value, and the token is redacted
//! from it in every form a server could echo it.
//!
//! The runner reads stdout line by line. A line is a workflow command when, after leading
//! white space, it starts with `::` (and the legacy parser takes `##[` anywhere in a line),
//! so outside text must never add a line break, never start a line with `::` and never
//! carry `##[`. Inside an annotation the runner's own escapes apply (`%25`, `%0D`, `%0A`).

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use crate::transport::encode::percent_encode;

/// What a redacted secret is replaced with, as the runner's own masking shows it.
pub const REDACTED: &str = "***";

/// Encoded forms shorter than this are not redacted: they would match ordinary text. A
/// GitHub token is 40 characters or more, so its encodings are far longer.
const MIN_ENCODED: usize = 8;

/// Turns outside text into safe output, redacting one secret (the token). Cheap to clone.
#[derive(Clone, Default)]
pub struct Sanitizer {
    secret: Arc<Secret>,
}

/// The token's forms: literal ones replaced where found, base64 ones replaced with the whole
/// base64 word around them (so `Basic <base64(user:token)>` goes whatever the username).
#[derive(Default)]
struct Secret {
    literal: Vec<String>,
    base64: Vec<String>,
}

impl fmt::Debug for Sanitizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sanitizer({} forms of the token)",
            self.secret.literal.len() + self.secret.base64.len()
        )
    }
}

impl Sanitizer {
    /// A sanitizer that redacts `token`: raw (and so `Bearer <token>`), JSON-escaped,
    /// percent-encoded, and base64-encoded at any offset (a Basic header with any username).
    pub fn new(token: &str) -> Sanitizer {
        if token.is_empty() {
            return Sanitizer::default();
        }
        let mut literal = vec![token.to_string()];
        if let Ok(json) = serde_json::to_string(token) {
            literal.push(json.trim_matches('"').to_string());
        }
        for keep in [&b""[..], b"-._~"] {
            let encoded = percent_encode(token, keep);
            literal.push(encoded.to_ascii_lowercase());
            literal.push(encoded);
        }
        // Longest first, so a form inside a longer one does not leave the rest behind.
        literal.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        literal.dedup();
        let mut base64 = Vec::new();
        for offset in 0..3 {
            let Some(tail) = token.as_bytes().get(offset..) else {
                continue;
            };
            let aligned = &tail[..tail.len() - tail.len() % 3];
            for engine in [&STANDARD, &URL_SAFE] {
                let core = engine.encode(aligned);
                if core.len() >= MIN_ENCODED && !base64.contains(&core) {
                    base64.push(core);
                }
            }
        }
        Sanitizer {
            secret: Arc::new(Secret { literal, base64 }),
        }
    }

    /// A sanitizer that also redacts `other` (another secret of the run, such as
    /// `package-restore-token`), in every form [`Sanitizer::new`] knows.
    pub fn also(&self, other: &str) -> Sanitizer {
        let other = Sanitizer::new(other);
        let mut literal = self.secret.literal.clone();
        literal.extend(other.secret.literal.iter().cloned());
        literal.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        literal.dedup();
        let mut base64 = self.secret.base64.clone();
        for core in &other.secret.base64 {
            if !base64.contains(core) {
                base64.push(core.clone());
            }
        }
        Sanitizer {
            secret: Arc::new(Secret { literal, base64 }),
        }
    }

    /// The text with every form of the token replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for form in &self.secret.literal {
            if text.contains(form.as_str()) {
                text = text.replace(form.as_str(), REDACTED);
            }
        }
        for core in &self.secret.base64 {
            while let Some(at) = text.find(core.as_str()) {
                let start = text[..at]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| !is_base64(*c))
                    .map_or(0, |(before, c)| before + c.len_utf8());
                let end = text[at..]
                    .find(|c: char| !is_base64(c))
                    .map_or(text.len(), |after| at + after);
                text.replace_range(start..end, REDACTED);
            }
        }
        text
    }

    /// One plain log line: no line break or control character, no `##[`, and never
    /// starting with `::` (a leading `\` is added then).
    pub fn log_line(&self, text: &str) -> String {
        let mut line = String::with_capacity(text.len());
        for ch in self.redact(text).chars() {
            push_visible(&mut line, ch);
        }
        let line = line.replace("##[", "##\\[");
        if line.trim_start_matches(is_blank).starts_with("::") {
            format!("\\{line}")
        } else {
            line
        }
    }

    /// The message of a workflow command (`::warning::<here>`): `%`, CR and LF escaped as
    /// the runner reads them back, other control characters shown as escapes.
    pub fn annotation(&self, text: &str) -> String {
        let mut escaped = String::with_capacity(text.len());
        for ch in self.redact(text).chars() {
            match ch {
                '%' => escaped.push_str("%25"),
                '\r' => escaped.push_str("%0D"),
                '\n' => escaped.push_str("%0A"),
                ch => push_visible(&mut escaped, ch),
            }
        }
        escaped.replace("##[", "##\\[")
    }

    /// Inline Markdown that shows as the text itself, wherever it is put: a table cell, a
    /// heading, a list item or a quote. Markdown and HTML have no effect, and the text
    /// never adds or ends a line or a table cell.
    pub fn markdown(&self, text: &str) -> String {
        let visible = self.visible(text);
        let mut out = String::with_capacity(visible.len() + 8);
        let mut digits_only = true;
        for (n, ch) in visible.chars().enumerate() {
            let at_start = n == 0;
            match ch {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '$' => {
                    out.push('\\');
                    out.push(ch);
                }
                '-' | '+' | '=' if at_start => {
                    out.push('\\');
                    out.push(ch);
                }
                '.' | ')' if digits_only && !at_start => {
                    out.push('\\');
                    out.push(ch);
                }
                ' ' if at_start => out.push_str("&#32;"),
                ch => out.push(ch),
            }
            digits_only = digits_only && ch.is_ascii_digit();
        }
        out
    }

    /// Inline code showing the text as is: a code span when that is safe, otherwise
    /// `<code>` with every significant character written as a character reference.
    pub fn code(&self, text: &str) -> String {
        let visible = self.visible(text);
        let plain_span = !visible.is_empty()
            && !visible.contains(['`', '|', '<'])
            && !visible.starts_with(' ')
            && !visible.ends_with(' ');
        if plain_span {
            return format!("`{visible}`");
        }
        let mut out = String::from("<code>");
        for ch in visible.chars() {
            match ch {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '|' | '`' | '\\' | '*' | '_' | '[' | ']' | '#' | '$' | '~' => {
                    out.push_str(&format!("&#{};", u32::from(ch)));
                }
                ch => out.push(ch),
            }
        }
        out.push_str("</code>");
        out
    }

    /// A quoted Mermaid node or edge label showing the text as is: redacted, on one line, and
    /// every character Mermaid or Markdown could read as syntax written as a Mermaid entity
    /// code (`#quot;`). Node ids are never built from data: the caller generates them.
    pub fn mermaid_label(&self, text: &str) -> String {
        let visible = self.visible(text);
        let mut out = String::with_capacity(visible.len() + 2);
        out.push('"');
        for ch in visible.chars() {
            match ch {
                '"' | '<' | '>' | '`' | '#' | '&' | ';' | '|' | '%' | '\\' | '[' | ']' | '{'
                | '}' | '(' | ')' => out.push_str(&format!("#{};", u32::from(ch))),
                ch => out.push(ch),
            }
        }
        out.push('"');
        out
    }

    /// Text for a terminal: redacted, on one line, with every control character (an ANSI
    /// escape included) and every character that reorders text shown as an escape.
    pub fn terminal(&self, text: &str) -> String {
        self.visible(text)
    }

    /// JSON text for a terminal: redacted, and every control or reordering character (which
    /// serde_json leaves as is past U+001F, such as U+009B, a CSI to some terminals)
    /// written as a JSON `\uXXXX` escape: the same JSON value, inert on a screen.
    pub fn json_text(&self, json: &str) -> String {
        let mut out = String::with_capacity(json.len());
        for ch in self.redact(json).chars() {
            if is_hidden(ch) && ch != '\n' {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            } else {
                out.push(ch);
            }
        }
        out
    }

    /// A value for a `name=value` line of GITHUB_OUTPUT: redacted, on one line.
    pub fn output_value(&self, text: &str) -> String {
        self.visible(text)
    }

    /// A `name<<DELIMITER` block of GITHUB_OUTPUT for a value that may span lines, with a
    /// delimiter that does not occur in the (redacted) value.
    pub fn output_heredoc(&self, name: &str, value: &str) -> String {
        let value = self.redact(value);
        let mut delimiter = String::from("PACKAGE_JANITOR_EOF");
        while value.contains(&delimiter) {
            delimiter.push('_');
        }
        format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
    }

    /// Redacted, with every control character shown as an escape.
    fn visible(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for ch in self.redact(text).chars() {
            push_visible(&mut out, ch);
        }
        out
    }
}

/// Push `ch`, or an escape such as `\n` or `\u{202e}` for a character that could break a
/// line, move the cursor or reorder the text around it.
fn push_visible(out: &mut String, ch: char) {
    match ch {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        ch if is_hidden(ch) => out.push_str(&format!("\\u{{{:x}}}", u32::from(ch))),
        ch => out.push(ch),
    }
}

/// Control characters, Unicode line and paragraph separators, and bidirectional controls.
fn is_hidden(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// What the runner may skip before looking for `::`: white space and invisible characters.
fn is_blank(ch: char) -> bool {
    ch.is_whitespace()
        || matches!(
            ch,
            '\u{180e}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
        )
}

fn is_base64(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '+' | '/' | '-' | '_' | '=')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_s3cr3t+value/with=odd&chars";

    fn clean() -> Sanitizer {
        Sanitizer::new(TOKEN)
    }

    #[test]
    fn json_for_a_terminal_is_the_same_value_with_every_hidden_character_escaped() {
        let clean = Sanitizer::new("ghp_json_token");
        let value = serde_json::json!(["a\u{9b}31m\u{202e}b", "ghp_json_token", "\u{1b}"]);
        let shown = clean.json_text(&value.to_string());
        assert!(!shown.chars().any(is_hidden), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).expect("still JSON");
        assert_eq!(
            back,
            serde_json::json!(["a\u{9b}31m\u{202e}b", "***", "\u{1b}"])
        );
    }

    #[test]
    fn mermaid_labels_are_quoted_one_line_and_inert() {
        let cases = [
            ("v1.0.0", "\"v1.0.0\""),
            ("a\"]-->b", "\"a#34;#93;--#62;b\""),
            ("<img src=x>", "\"#60;img src=x#62;\""),
            ("`code`", "\"#96;code#96;\""),
            ("line\nbreak", "\"line#92;nbreak\""),
            ("x;click a call y()", "\"x#59;click a call y#40;#41;\""),
            ("%%{init}%%", "\"#37;#37;#123;init#125;#37;#37;\""),
            ("#quot;", "\"#35;quot#59;\""),
        ];
        for (text, expected) in cases {
            assert_eq!(clean().mermaid_label(text), expected, "{text:?}");
        }
        let leaked = clean().mermaid_label(&format!("tag {TOKEN}"));
        assert!(!leaked.contains("s3cr3t"), "{leaked}");
    }

    fn basic(user: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{TOKEN}")))
    }

    #[test]
    fn a_second_secret_is_redacted_as_well_as_the_token() {
        let clean = Sanitizer::new(TOKEN).also("pkg-restore-secret-1");
        let echoed = format!(
            "{TOKEN} ?token=pkg-restore-secret-1 {}",
            STANDARD.encode("x:pkg-restore-secret-1")
        );
        assert_eq!(clean.redact(&echoed), "*** ?token=*** ***");
        assert_eq!(Sanitizer::new(TOKEN).also("").redact(TOKEN), "***");
    }

    #[test]
    fn the_token_is_redacted_in_every_form_a_server_could_echo() {
        let cases = [
            ("raw", format!("token {TOKEN} rejected")),
            ("bearer header", format!("Authorization: Bearer {TOKEN}")),
            ("basic, x-access-token", basic("x-access-token")),
            ("basic, package-janitor", basic("package-janitor")),
            ("basic, one-letter user", basic("u")),
            ("basic, two-letter user", basic("ab")),
            ("basic, no user", basic("")),
            (
                "url-safe base64",
                URL_SAFE.encode(format!("x-access-token:{TOKEN}")),
            ),
            ("percent-encoded", percent_encode(TOKEN, b"")),
            (
                "percent-encoded, lower-case hex",
                percent_encode(TOKEN, b"-._~").to_ascii_lowercase(),
            ),
            (
                "json-escaped",
                serde_json::to_string(TOKEN).unwrap_or_default(),
            ),
        ];
        for (form, text) in cases {
            let redacted = clean().redact(&text);
            assert!(redacted.contains(REDACTED), "{form}: {redacted}");
            assert!(!redacted.contains(TOKEN), "{form}: {redacted}");
            let b64 = STANDARD.encode(TOKEN);
            assert!(!redacted.contains(&b64[4..20]), "{form}: {redacted}");
        }
    }

    #[test]
    fn redaction_leaves_the_words_around_the_token() {
        let text = format!(
            "bad header Basic {} here",
            STANDARD.encode(format!("u:{TOKEN}"))
        );
        assert_eq!(clean().redact(&text), "bad header Basic *** here");
    }

    #[test]
    fn an_encoded_token_after_a_multibyte_character_is_redacted_whole() {
        let text = format!("é{}ü", STANDARD.encode(format!("u:{TOKEN}")));
        assert_eq!(clean().redact(&text), "é***ü");
    }

    #[test]
    fn an_empty_token_redacts_nothing() {
        assert_eq!(Sanitizer::new("").redact("a b c"), "a b c");
    }

    #[test]
    fn the_debug_form_never_shows_the_token() {
        assert!(!format!("{:?}", clean()).contains(TOKEN));
    }

    #[test]
    fn log_lines_never_break_or_start_a_workflow_command() {
        let cases = [
            ("plain text stays", "v1.0 deleted", "v1.0 deleted"),
            ("a newline is shown", "a\n::error::x", "a\\n::error::x"),
            ("a CR is shown", "a\r::add-mask::x", "a\\r::add-mask::x"),
            (
                "a leading command gets a backslash",
                "::stop-commands::t",
                "\\::stop-commands::t",
            ),
            (
                "leading spaces do not hide it",
                "  ::error::x",
                "\\  ::error::x",
            ),
            (
                "nor does a no-break space",
                "\u{a0}::error::x",
                "\\\u{a0}::error::x",
            ),
            (
                "the legacy form is broken",
                "x ##[error]y",
                "x ##\\[error]y",
            ),
            (
                "escape sequences are shown",
                "\u{1b}[31mred",
                "\\u{1b}[31mred",
            ),
            ("bidi overrides are shown", "a\u{202e}b", "a\\u{202e}b"),
            ("a line separator is shown", "a\u{2028}b", "a\\u{2028}b"),
            ("next line is shown", "a\u{85}b", "a\\u{85}b"),
        ];
        for (name, text, expected) in cases {
            assert_eq!(clean().log_line(text), expected, "{name}");
        }
    }

    #[test]
    fn annotations_use_the_runners_escapes() {
        let cases = [
            ("percent", "50% done", "50%25 done"),
            ("line breaks", "a\r\n::error::b", "a%0D%0A::error::b"),
            ("an escape already there", "%0A", "%250A"),
            ("other controls", "a\u{0}b", "a\\u{0}b"),
            ("the legacy form", "##[add-mask]x", "##\\[add-mask]x"),
        ];
        for (name, text, expected) in cases {
            assert_eq!(clean().annotation(text), expected, "{name}");
        }
    }

    #[test]
    fn markdown_shows_markup_as_text() {
        let cases = [
            ("plain tags stay", "v1.0.0, latest", "v1.0.0, latest"),
            ("a pipe cannot split a cell", "a | b", "a \\| b"),
            ("html is shown", "<img src=x>", "&lt;img src=x&gt;"),
            ("a comment cannot hide the rest", "<!-- x", "&lt;!-- x"),
            ("entities are shown", "&amp;", "&amp;amp;"),
            (
                "emphasis and code",
                "*a* _b_ `c`",
                "\\*a\\* \\_b\\_ \\`c\\`",
            ),
            ("links", "[x](http://e)", "\\[x\\](http://e)"),
            ("a heading", "# heading", "\\# heading"),
            ("a list item", "- item", "\\- item"),
            ("a numbered item", "12. item", "12\\. item"),
            ("a version is not a numbered item", "1.2.3", "1\\.2.3"),
            (
                "newlines cannot add lines",
                "a\n**Totals:** 0",
                "a\\\\n\\*\\*Totals:\\*\\* 0",
            ),
            ("leading spaces cannot start code", "    x", "&#32;   x"),
            ("math", "$x$", "\\$x\\$"),
        ];
        for (name, text, expected) in cases {
            assert_eq!(clean().markdown(text), expected, "{name}");
        }
    }

    #[test]
    fn code_is_a_span_when_safe_and_html_otherwise() {
        let cases = [
            ("a plain name", "acme/app", "`acme/app`"),
            ("markup inside a span is inert", "*x* & _y_", "`*x* & _y_`"),
            ("html is never raw", "<!-- x", "<code>&lt;!-- x</code>"),
            ("a backtick", "a`b", "<code>a&#96;b</code>"),
            ("a pipe", "a|b", "<code>a&#124;b</code>"),
            (
                "html in the fallback",
                "a|<!--",
                "<code>a&#124;&lt;!--</code>",
            ),
            ("a newline", "a\nb", "`a\\nb`"),
            ("empty", "", "<code></code>"),
        ];
        for (name, text, expected) in cases {
            assert_eq!(clean().code(text), expected, "{name}");
        }
    }

    #[test]
    fn output_values_stay_on_one_line_and_heredocs_pick_a_free_delimiter() {
        assert_eq!(clean().output_value("1\n2"), "1\\n2");
        let block = clean().output_heredoc("json", "x\nPACKAGE_JANITOR_EOF\ny");
        assert!(block.starts_with("json<<PACKAGE_JANITOR_EOF_\n"), "{block}");
        assert!(block.ends_with("\nPACKAGE_JANITOR_EOF_\n"), "{block}");
        let secret = clean().output_heredoc("json", &format!("[\"{TOKEN}\"]"));
        assert!(!secret.contains(TOKEN), "{secret}");
    }
}
