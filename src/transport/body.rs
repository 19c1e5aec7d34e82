//! The one capped read of an answer's body, for both clients: frame by frame, refused as soon
//! as it passes the cap, so no answer holds more than the cap in memory.

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

/// Why a body was not read whole.
#[derive(Debug)]
pub enum BodyError<E> {
    /// The connection failed while the body was read.
    Transport(E),
    /// The body is longer than this many bytes.
    TooLarge(usize),
}

/// Read `body` frame by frame, stopping as soon as it passes `cap` bytes. Trailers and other
/// frames that are not data are skipped.
pub async fn read_capped<E>(
    mut body: BoxBody<Bytes, E>,
    cap: usize,
) -> Result<Vec<u8>, BodyError<E>> {
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Transport)?;
        if let Ok(data) = frame.into_data() {
            if data.len() > cap.saturating_sub(bytes.len()) {
                return Err(BodyError::TooLarge(cap));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{Empty, Full};

    use super::*;

    fn body(bytes: &'static [u8]) -> BoxBody<Bytes, Infallible> {
        if bytes.is_empty() {
            Empty::new().boxed()
        } else {
            Full::new(Bytes::from_static(bytes)).boxed()
        }
    }

    /// (body sent, cap, what is read; `None` when it is refused as too large)
    type Case = (&'static [u8], usize, Option<&'static [u8]>);

    #[tokio::test]
    async fn a_body_up_to_the_cap_is_read_and_one_byte_more_is_refused() {
        let cases: [Case; 4] = [
            (b"", 0, Some(b"")),
            (b"four", 4, Some(b"four")),
            (b"four", 3, None),
            (b"four", 0, None),
        ];
        for (sent, cap, expected) in cases {
            match read_capped(body(sent), cap).await {
                Ok(read) => assert_eq!(Some(read.as_slice()), expected, "cap {cap}"),
                Err(BodyError::TooLarge(named)) => {
                    assert_eq!(expected, None, "cap {cap}");
                    assert_eq!(named, cap);
                }
                Err(BodyError::Transport(never)) => match never {},
            }
        }
    }
}
