//! Opaque, tamper-proof page tokens.
//!
//! A token carries the position after the last item returned (creation time and sequence
//! number) and a truncated HMAC-SHA256 over that position and the request's scope (method,
//! parent and filter). A token that was altered, or that belongs to another list (another
//! parent or filter), fails the check and the request gets 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const MAC_LEN: usize = 16;

/// Seals and opens page tokens with one secret.
#[derive(Clone)]
pub struct PageTokens {
    secret: Vec<u8>,
}

impl PageTokens {
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret }
    }

    fn mac(&self, scope: &str, cursor: &[u8]) -> Vec<u8> {
        let mut mac = match HmacSha256::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => return vec![0; MAC_LEN],
        };
        mac.update(&(scope.len() as u64).to_le_bytes());
        mac.update(scope.as_bytes());
        mac.update(cursor);
        mac.finalize().into_bytes()[..MAC_LEN].to_vec()
    }

    /// A token for the position `(create_us, seq)` in the list `scope`.
    pub fn seal(&self, scope: &str, create_us: i64, seq: u64) -> String {
        let mut buf = Vec::with_capacity(16 + MAC_LEN);
        buf.extend_from_slice(&create_us.to_be_bytes());
        buf.extend_from_slice(&seq.to_be_bytes());
        let mac = self.mac(scope, &buf);
        buf.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// The position in a token, if the token is genuine and belongs to `scope`.
    pub fn open(&self, scope: &str, token: &str) -> Option<(i64, u64)> {
        let buf = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
        if buf.len() != 16 + MAC_LEN {
            return None;
        }
        let (cursor, mac) = buf.split_at(16);
        let expected = self.mac(scope, cursor);
        // Constant-time comparison.
        let diff = expected
            .iter()
            .zip(mac)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return None;
        }
        let create = i64::from_be_bytes(cursor[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(cursor[8..16].try_into().ok()?);
        Some((create, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let p = PageTokens::new(b"secret".to_vec());
        let t = p.seal("a", 42, 7);
        assert_eq!(p.open("a", &t), Some((42, 7)));
        assert_eq!(p.open("b", &t), None);
        let mut bytes = t.into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(p.open("a", &tampered), None);
        assert_eq!(p.open("a", "!!!"), None);
        assert_eq!(
            PageTokens::new(b"other".to_vec()).open("a", &p.seal("a", 1, 1)),
            None
        );
    }
}
