//! The `www-authenticate: Bearer realm="...",service="...",scope="..."` challenge a registry
//! answers an anonymous request with.

/// Where and for what to ask for a registry token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

/// Parse a Bearer challenge; `None` for another scheme or one without a realm.
/// Parameter names are case-insensitive; values may be quoted (with `\"` escapes, and commas
/// inside quotes, as in `scope="repository:a/b:pull,push"`) or bare tokens.
pub fn parse(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, params) = header.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let (mut realm, mut service, mut scope) = (None, None, None);
    let mut rest = params.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let (value, after) = value(after.trim_start())?;
        match name.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value),
            "service" => service = Some(value),
            "scope" => scope = Some(value),
            _ => {}
        }
        rest = after.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        realm: realm.filter(|realm| !realm.is_empty())?,
        service,
        scope,
    })
}

/// One value and what follows it: a quoted string or a token up to the next comma.
fn value(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(',').unwrap_or(text.len());
        return Some((text[..end].trim().to_string(), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, ch)) = chars.next() {
        match ch {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &quoted[index + 1..])),
            _ => value.push(ch),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(realm: &str, service: Option<&str>, scope: Option<&str>) -> Option<Challenge> {
        Some(Challenge {
            realm: realm.into(),
            service: service.map(Into::into),
            scope: scope.map(Into::into),
        })
    }

    #[test]
    fn bearer_challenges_are_parsed_in_every_form_registries_send() {
        let table = [
            (
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#,
                challenge(
                    "https://ghcr.io/token",
                    Some("ghcr.io"),
                    Some("repository:acme/app:pull"),
                ),
            ),
            (
                r#"bearer  Realm="https://r/token", Service="r", Scope="repository:a/b:pull,push""#,
                challenge(
                    "https://r/token",
                    Some("r"),
                    Some("repository:a/b:pull,push"),
                ),
            ),
            (
                r#"Bearer realm="https://r/token""#,
                challenge("https://r/token", None, None),
            ),
            (
                r#"Bearer service=r,realm=https://r/token"#,
                challenge("https://r/token", Some("r"), None),
            ),
            (
                r#"Bearer realm="https://r/to\"ken",error="invalid_token""#,
                challenge("https://r/to\"ken", None, None),
            ),
        ];
        for (header, expected) in table {
            assert_eq!(parse(header), expected, "{header}");
        }
    }

    #[test]
    fn other_schemes_and_challenges_without_a_realm_are_not_bearer_challenges() {
        for header in [
            r#"Basic realm="registry""#,
            r#"Bearer service="ghcr.io""#,
            r#"Bearer realm="""#,
            r#"Bearer realm="unterminated"#,
            "Bearer",
            "",
        ] {
            assert_eq!(parse(header), None, "{header}");
        }
    }
}
