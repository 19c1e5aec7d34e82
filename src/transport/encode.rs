//! Percent-encoding for what goes into a URL: a path segment, or text with a chosen set of
//! bytes kept.

/// Percent-encode one path segment (package names may contain `/`, which must be `%2F`).
/// A segment of dots only (`.`, `..`) is encoded whole, so that no name from the server
/// can become a dot segment that moves the request to another route.
pub fn encode_segment(segment: &str) -> String {
    if !segment.is_empty() && segment.bytes().all(|byte| byte == b'.') {
        return percent_encode(segment, b"");
    }
    percent_encode(segment, b"-._~")
}

/// Percent-encode `text`, keeping ASCII letters, digits and the bytes in `keep`.
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_percent_encoded_as_one_segment() {
        let cases = [
            ("app", "app"),
            ("team/app", "team%2Fapp"),
            ("a b", "a%20b"),
            ("x.y_z-1", "x.y_z-1"),
            ("..", "%2E%2E"),
            (".", "%2E"),
            ("...x", "...x"),
        ];
        for (name, expected) in cases {
            assert_eq!(encode_segment(name), expected);
        }
    }
}
