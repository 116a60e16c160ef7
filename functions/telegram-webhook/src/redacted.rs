//! Text that leaves the function in a direct action's answer and may carry the bot token:
//! what Telegram echoes back (a webhook URL with the token in its path, an error message
//! quoting it). The token is masked when the value is made, so the raw text is not in the
//! answer to be serialised or printed.

use std::fmt;

use groundcrew::http::redact;
use groundcrew::secrets::reveal;
use secrecy::SecretString;
use serde::Serialize;

/// A string with every occurrence of the bot token replaced by `[REDACTED]` (the mask of
/// `groundcrew::http::redact`); there is no way to build one from unmasked text. It
/// serialises as the masked string itself.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    pub fn new(text: &str, token: &SecretString) -> Self {
        Self(redact(text, &[reveal(token)]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_masked_wherever_it_appears() {
        let token = SecretString::from("123:ABC");
        let r = Redacted::new("https://x.example/bot123:ABC/hook?t=123:ABC", &token);
        let expected = "https://x.example/bot[REDACTED]/hook?t=[REDACTED]";
        assert_eq!(r.as_str(), expected);
        assert_eq!(serde_json::to_value(&r).unwrap(), expected);
        assert_eq!(format!("{r:?}"), format!("{expected:?}"));
        assert_eq!(Redacted::new("no secret", &token).as_str(), "no secret");
    }
}
