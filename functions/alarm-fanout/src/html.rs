//! Telegram HTML: escaping, and splitting a message into parts of at most N characters
//! without cutting a tag or an entity, closing the open tags at the end of each part and
//! reopening them at the start of the next.

/// Escapes text for Telegram's HTML parse mode (`<`, `>`, `&`, and `"` for attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Telegram counts message length in UTF-16 code units.
pub fn length(text: &str) -> usize {
    text.encode_utf16().count()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Open(&'a str, &'a str),
    Close(&'a str),
    Text(&'a str),
}

fn tokens(html: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < html.len() {
        let rest = &html[i..];
        let len = match bytes[i] {
            b'<' => rest.find('>').map(|e| e + 1),
            b'&' => rest.find(';').filter(|&e| e <= 10).map(|e| e + 1),
            _ => None,
        };
        match (bytes[i], len) {
            (b'<', Some(len)) => {
                let tag = &rest[..len];
                let inner = tag.trim_start_matches('<').trim_end_matches('>');
                if let Some(name) = inner.strip_prefix('/') {
                    out.push(Token::Close(&html[i + 2..i + 2 + name.len()]));
                } else {
                    let name_len = inner
                        .find(|c: char| c.is_whitespace())
                        .unwrap_or(inner.len());
                    out.push(Token::Open(&html[i + 1..i + 1 + name_len], tag));
                }
                i += len;
            }
            (b'&', Some(len)) => {
                out.push(Token::Text(&rest[..len]));
                i += len;
            }
            _ => {
                let c = rest.chars().next().map_or(1, char::len_utf8);
                out.push(Token::Text(&rest[..c]));
                i += c;
            }
        }
    }
    out
}

fn closers(stack: &[(&str, &str)]) -> String {
    stack
        .iter()
        .rev()
        .map(|(name, _)| format!("</{name}>"))
        .collect()
}

fn openers(stack: &[(&str, &str)]) -> String {
    stack.iter().map(|(_, tag)| *tag).collect()
}

/// Splits `html` into parts of at most `limit` UTF-16 units (for `limit` of at least a
/// few times the longest tag), preferring to cut after a line break in the second half
/// of a part. Every part has balanced tags.
pub fn split(html: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut stack: Vec<(&str, &str)> = Vec::new();
    let mut closing = 0; // length(closers(&stack)), kept up to date
    let mut cur = String::new();
    let mut cur_len = 0; // length(&cur), kept up to date
                         // The last line break: where it ends in `cur` and the tags open there.
    let mut last_break: Option<(usize, Vec<(&str, &str)>)> = None;
    let mut has_content = false;
    for token in tokens(html) {
        let close_tag;
        let (text, next_stack) = match token {
            Token::Open(name, tag) => {
                let mut next = stack.clone();
                next.push((name, tag));
                (tag, Some(next))
            }
            Token::Close(name) => {
                let mut next = stack.clone();
                if let Some(pos) = next.iter().rposition(|(n, _)| *n == name) {
                    next.truncate(pos);
                }
                close_tag = format!("</{name}>");
                (close_tag.as_str(), Some(next))
            }
            Token::Text(t) => (t, None),
        };
        let text_len = length(text);
        let next_closing = next_stack.as_ref().map_or(closing, |s| length(&closers(s)));
        if has_content && cur_len + text_len + next_closing > limit {
            match last_break
                .take()
                .filter(|(at, _)| length(&cur[..*at]) * 2 >= limit)
            {
                Some((at, open)) => {
                    parts.push(format!("{}{}", &cur[..at], closers(&open)));
                    let reopened = openers(&open);
                    has_content = cur.len() > at;
                    cur = format!("{reopened}{}", &cur[at..]);
                }
                None => {
                    parts.push(format!("{cur}{}", closers(&stack)));
                    cur = openers(&stack);
                    has_content = false;
                }
            }
            cur_len = length(&cur);
            // The carried-over tail can still be too long: cut it where it stands.
            if has_content && cur_len + text_len + next_closing > limit {
                parts.push(format!("{cur}{}", closers(&stack)));
                cur = openers(&stack);
                cur_len = length(&cur);
                has_content = false;
            }
        }
        cur.push_str(text);
        cur_len += text_len;
        if matches!(token, Token::Text(_)) {
            has_content = true;
        }
        if let Some(next) = next_stack {
            stack = next;
            closing = next_closing;
        }
        if token == Token::Text("\n") {
            last_break = Some((cur.len(), stack.clone()));
        }
    }
    if has_content || parts.is_empty() {
        parts.push(format!("{cur}{}", closers(&stack)));
    }
    parts
}

/// At most `max_parts` parts of at most `limit`; the last one marked when text was cut.
pub fn split_at_most(html: &str, limit: usize, max_parts: usize) -> Vec<String> {
    const MARK: &str = "\n… (truncated)";
    let mut parts = split(html, limit);
    if parts.len() > max_parts.max(1) {
        parts.truncate(max_parts.max(1));
        if let Some(last) = parts.pop() {
            let shorter = split(&last, limit.saturating_sub(length(MARK)));
            parts.push(format!(
                "{}{MARK}",
                shorter.first().cloned().unwrap_or_default()
            ));
        }
    }
    parts
}

#[cfg(test)]
pub(crate) fn strip_tags(html: &str) -> String {
    tokens(html)
        .into_iter()
        .filter_map(|t| match t {
            Token::Text(t) => Some(t),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
pub(crate) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn balanced(part: &str) -> bool {
        let mut stack = Vec::new();
        for t in tokens(part) {
            match t {
                Token::Open(n, _) => stack.push(n),
                Token::Close(n) => {
                    if stack.pop() != Some(n) {
                        return false;
                    }
                }
                Token::Text(_) => {}
            }
        }
        stack.is_empty()
    }

    #[test]
    fn escapes_the_three_and_quotes() {
        assert_eq!(escape("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
    }

    #[test]
    fn short_messages_are_one_part() {
        assert_eq!(split("<b>hi</b>", 4096), vec!["<b>hi</b>"]);
    }

    #[test]
    fn long_messages_split_on_lines_with_tags_reopened() {
        let line = format!("<b>{}</b>\n", "x".repeat(30));
        let html = format!("<i>{}</i>", line.repeat(20));
        let parts = split(&html, 200);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(length(p) <= 200, "{p}");
            assert!(balanced(p), "{p}");
            assert!(p.starts_with("<i>"), "{p}");
        }
        assert_eq!(
            parts.iter().map(|p| strip_tags(p)).collect::<String>(),
            strip_tags(&html)
        );
    }

    #[test]
    fn truncation_is_marked() {
        let html = escape(&"é<&".repeat(5000));
        let parts = split_at_most(&html, 4096, 2);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].ends_with("(truncated)"));
        assert!(parts.iter().all(|p| length(p) <= 4096));
    }

    proptest! {
        #[test]
        fn escape_round_trips_and_leaves_no_markup(s in ".{0,200}") {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"'));
            prop_assert_eq!(unescape(&e), s.clone());
            prop_assert_eq!(strip_tags(&e), e.clone());
        }

        #[test]
        fn split_keeps_every_character_within_the_limit(
            pieces in proptest::collection::vec((".{0,80}", 0usize..4), 0..40),
            limit in 120usize..400,
        ) {
            let mut html = String::new();
            let mut plain = String::new();
            for (text, style) in &pieces {
                let e = escape(text);
                plain.push_str(&e);
                match style {
                    0 => html.push_str(&e),
                    1 => html.push_str(&format!("<b>{e}</b>")),
                    2 => html.push_str(&format!("<a href=\"https://x.example/?a=1&amp;b=2\"><code>{e}</code></a>")),
                    _ => { html.push_str(&e); html.push('\n'); plain.push('\n'); }
                }
            }
            let parts = split(&html, limit);
            for p in &parts {
                prop_assert!(length(p) <= limit, "{} > {}: {}", length(p), limit, p);
                prop_assert!(balanced(p), "unbalanced: {}", p);
            }
            prop_assert_eq!(parts.iter().map(|p| strip_tags(p)).collect::<String>(), plain);
        }
    }
}
