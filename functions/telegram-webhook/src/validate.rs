//! What Telegram accepts, checked before anything calls it: webhook URLs, update types,
//! secret references, `max_connections`, secret tokens, bot tokens. Each check returns the
//! reason only; the caller names the property or environment variable.

/// Update types Telegram knows (Bot API `Update` fields).
pub const KNOWN_UPDATE_TYPES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
];

/// Ports Telegram delivers webhooks to.
pub const ALLOWED_PORTS: &[u16] = &[443, 80, 88, 8443];

/// A secret reference (Secrets Manager name or ARN, `ssm:` parameter).
pub fn secret_reference(reference: &str) -> Result<(), String> {
    groundcrew::secrets::SecretRef::parse(reference)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Every item is an update type Telegram knows.
pub fn update_types(list: &[String]) -> Result<(), String> {
    match list
        .iter()
        .find(|item| !KNOWN_UPDATE_TYPES.contains(&item.as_str()))
    {
        None => Ok(()),
        Some(item) => Err(format!(
            "unknown update type {:?}",
            groundcrew::http::excerpt(item, 40)
        )),
    }
}

/// `max_connections`: 1 to 100 (Bot API, `setWebhook`).
pub fn max_connections(n: u64) -> Result<u32, String> {
    if (1..=100).contains(&n) {
        Ok(n as u32)
    } else {
        Err(format!("{n} is outside 1..100"))
    }
}

/// HTTPS, a host, one of Telegram's ports, no fragment, no user info.
pub fn webhook_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
    if url.scheme() != "https" {
        return Err("must be an https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain user information".into());
    }
    if url.fragment().is_some() {
        return Err("must not contain a #fragment".into());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    if !ALLOWED_PORTS.contains(&port) {
        return Err(format!(
            "port {port} is not allowed; Telegram only delivers to ports 443, 80, 88 and 8443"
        ));
    }
    if raw.len() > 2048 {
        return Err("is longer than 2,048 characters".into());
    }
    Ok(())
}

/// Telegram's `secret_token`: 1 to 256 of `A-Z a-z 0-9 _ -`.
pub fn valid_secret_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The bot's numeric id (public) from a token `<id>:<secret>`, or `None` when the text
/// is not shaped like a bot token.
pub fn bot_id(token: &str) -> Option<&str> {
    let (id, rest) = token.split_once(':')?;
    let ok = !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_tokens_and_bot_ids() {
        assert!(valid_secret_token("abc_DEF-123"));
        assert!(!valid_secret_token(""));
        assert!(!valid_secret_token("has space"));
        assert!(!valid_secret_token(&"a".repeat(257)));
        assert_eq!(bot_id("123456:AAE-x_y"), Some("123456"));
        assert_eq!(bot_id("nonsense"), None);
        assert_eq!(bot_id("12a:xyz"), None);
        assert_eq!(bot_id("12:"), None);
    }
}
