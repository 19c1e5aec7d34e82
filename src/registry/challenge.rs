//! The `www-authenticate: Bearer realm="...",service="...",scope="..."` challenge a registry
//! answers an anonymous request with, and whether its realm may receive the GitHub token.

use http::Uri;

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

/// Whether the GitHub token may be sent to `realm`, a challenge's token realm, for the
/// registry at `registry` (`registry-url`): only when the realm is on the registry's own host
/// (compared without case; any port), over https, or over http when `registry-url` itself
/// is http (a local registry under test). A realm with credentials of its own
/// (`user@host`), without a host, or not an absolute http(s) URL is refused. `Err` names
/// the realm's host (or, without one, the realm as given, cut short) for the error.
pub fn trust(realm: &str, registry: &str) -> Result<(), String> {
    let Ok(uri) = realm.parse::<Uri>() else {
        return Err(cut(realm));
    };
    let Some(host) = uri.host().filter(|host| !host.is_empty()) else {
        return Err(cut(realm));
    };
    let registry = registry.parse::<Uri>().ok();
    let registry_host = registry.as_ref().and_then(Uri::host);
    let registry_http = registry.as_ref().and_then(Uri::scheme_str) == Some("http");
    let scheme_ok = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => registry_http,
        _ => false,
    };
    let userinfo = uri
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'));
    let same_host = registry_host.is_some_and(|own| own.eq_ignore_ascii_case(host));
    if scheme_ok && same_host && !userinfo {
        Ok(())
    } else {
        Err(cut(host))
    }
}

/// At most 100 characters of `text`, for an error message.
fn cut(text: &str) -> String {
    text.chars().take(100).collect()
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
mod tests;
