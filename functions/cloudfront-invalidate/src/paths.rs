//! Path normalisation: what a deploy says changed, as CloudFront invalidation paths.
//!
//! CloudFront paths start with `/`, are case-sensitive, may end with one `*` and are at
//! most 4,000 characters; unsafe and non-ASCII characters must be percent-encoded. Inputs
//! arrive percent-encoded (URLs), form-encoded (S3 event keys: `+` is a space) or raw (S3
//! listings); all three normalise to the same encoded text, so duplicates collapse.

use std::borrow::Cow;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// Longest path CloudFront accepts, the trailing `*` included.
pub const MAX_PATH_CHARS: usize = 4000;

/// Characters encoded in a path: RFC 1738's unsafe ones, `?` (a path, not a query) and
/// `*` (only a trailing `*` is a wildcard, and only when the input says so).
const PATH_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'*');

/// How the text of a path was encoded where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A URL path: `%XX` escapes; a trailing `*` is a wildcard.
    Url,
    /// An S3 event notification key: form-encoded (`+` is a space).
    S3Event,
    /// A raw S3 object key (from a listing): no escapes at all.
    Raw,
}

/// A normalised path: percent-encoded, starting with `/`; for a wildcard the text is the
/// prefix without its `*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NormPath {
    pub text: String,
    pub wildcard: bool,
}

impl NormPath {
    /// The path as CloudFront takes it.
    pub fn rendered(&self) -> String {
        if self.wildcard {
            format!("{}*", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// Normalises one path; the error says what is wrong with it (without the whole path
/// when it is very long).
pub fn normalize(raw: &str, encoding: Encoding) -> Result<NormPath, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("a path is empty".to_string());
    }
    let (body, wildcard) = match encoding {
        Encoding::Url => match trimmed.strip_suffix('*') {
            Some(rest) => (rest, true),
            None => (trimmed, false),
        },
        _ => (trimmed, false),
    };
    // Borrowed where nothing changes (a raw key, a key without escapes): bucket listings
    // normalise every key of the site, so each copy counts.
    let decoded: Cow<'_, str> = match encoding {
        Encoding::Raw => Cow::Borrowed(body),
        Encoding::Url | Encoding::S3Event => {
            let spaced;
            let source = if encoding == Encoding::S3Event {
                spaced = body.replace('+', " ");
                spaced.as_str()
            } else {
                body
            };
            Cow::Owned(
                percent_decode_str(source)
                    .decode_utf8()
                    .map_err(|_| format!("path {} is not UTF-8 once percent-decoded", short(raw)))?
                    .into_owned(),
            )
        }
    };
    if decoded.contains('*') && encoding == Encoding::Url {
        return Err(format!(
            "path {} has a `*` that is not at its end (CloudFront wildcards end a path)",
            short(raw)
        ));
    }
    let encoded: Cow<'_, str> = utf8_percent_encode(&decoded, PATH_UNSAFE).into();
    let text = if encoded.starts_with('/') {
        encoded.into_owned()
    } else {
        let mut text = String::with_capacity(encoded.len() + 1);
        text.push('/');
        text.push_str(&encoded);
        text
    };
    // The rendered length (`rendered()` adds the wildcard's `*`), without rendering it.
    if text.len() + usize::from(wildcard) > MAX_PATH_CHARS {
        return Err(format!(
            "path {} is longer than CloudFront's {MAX_PATH_CHARS} characters",
            short(raw)
        ));
    }
    Ok(NormPath { text, wildcard })
}

/// Normalises an immutable prefix (`/_next/static/`) the same way as paths.
pub fn normalize_prefix(raw: &str) -> Result<String, String> {
    let path = normalize(raw.trim_end_matches('*'), Encoding::Url)?;
    Ok(path.text)
}

/// Longest cache tag CloudFront accepts.
pub const MAX_TAG_CHARS: usize = 256;

/// A cache tag, as the `#tag` item CloudFront invalidates. CloudFront's rules: at most 256
/// characters, printable ASCII (33 to 126) without commas, no wildcards; tags are
/// case-insensitive, so the item is lower-cased (and `#Home` and `#home` are one item).
pub fn cache_tag_item(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let tag = trimmed.strip_prefix('#').unwrap_or(trimmed);
    if tag.is_empty() {
        return Err("a cache tag is empty".to_string());
    }
    if let Some(c) = tag.chars().find(|c| !('!'..='~').contains(c) || *c == ',') {
        return Err(format!(
            "cache tag {} has {c:?}: tags are printable ASCII without spaces or commas",
            short(raw)
        ));
    }
    if tag.contains('*') {
        return Err(format!(
            "cache tag {} has a `*`: cache tags take no wildcards",
            short(raw)
        ));
    }
    if tag.len() > MAX_TAG_CHARS {
        return Err(format!(
            "cache tag {} is longer than CloudFront's {MAX_TAG_CHARS} characters",
            short(raw)
        ));
    }
    Ok(format!("#{}", tag.to_ascii_lowercase()))
}

/// The directory path an index document stands for: `/blog/index.html` → `/blog/`.
pub fn index_directory(path: &NormPath, index_document: &str) -> Option<NormPath> {
    if path.wildcard || index_document.is_empty() {
        return None;
    }
    let dir = path.text.strip_suffix(index_document)?;
    dir.ends_with('/').then(|| NormPath {
        text: dir.to_string(),
        wildcard: false,
    })
}

/// Maps an S3 key under a bucket's origin prefix to its site path (`None` when the key
/// lies outside the prefix).
pub fn key_to_path<'a>(key: &'a str, origin_prefix: &str) -> Option<&'a str> {
    let prefix = origin_prefix.trim_matches('/');
    if prefix.is_empty() {
        return Some(key);
    }
    key.strip_prefix(prefix)?.strip_prefix('/')
}

fn short(raw: &str) -> String {
    if raw.chars().count() <= 80 {
        format!("{raw:?}")
    } else {
        let head: String = raw.chars().take(60).collect();
        format!("{head:?}… ({} characters)", raw.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> NormPath {
        normalize(raw, Encoding::Url).unwrap()
    }

    #[test]
    fn adds_the_leading_slash_and_keeps_case() {
        assert_eq!(url("Blog/Post.html").text, "/Blog/Post.html");
        assert_eq!(url("/a").text, "/a");
    }

    #[test]
    fn encodings_meet_in_one_form() {
        let a = normalize("/docs/my file ü.html", Encoding::Raw).unwrap();
        let b = normalize("docs/my+file+%C3%BC.html", Encoding::S3Event).unwrap();
        let c = normalize("/docs/my%20file%20%C3%BC.html", Encoding::Url).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.text, "/docs/my%20file%20%C3%BC.html");
        // Normalising a normalised path changes nothing.
        assert_eq!(url(&a.text), a);
    }

    #[test]
    fn a_trailing_star_is_a_wildcard_only_in_urls() {
        let w = url("/blog/*");
        assert!(w.wildcard);
        assert_eq!(w.rendered(), "/blog/*");
        let k = normalize("odd*name", Encoding::Raw).unwrap();
        assert!(!k.wildcard);
        assert_eq!(k.text, "/odd%2Aname");
        assert!(normalize("/a*/b", Encoding::Url)
            .unwrap_err()
            .contains("`*`"));
    }

    #[test]
    fn rejects_empty_long_and_non_utf8() {
        assert!(normalize(" ", Encoding::Url).is_err());
        let long = format!("/{}", "a".repeat(4000));
        let err = normalize(&long, Encoding::Url).unwrap_err();
        assert!(err.contains("4000") && err.len() < 200, "{err}");
        assert!(normalize("/%FF", Encoding::Url)
            .unwrap_err()
            .contains("UTF-8"));
    }

    #[test]
    fn index_documents_and_keys() {
        assert_eq!(
            index_directory(&url("/blog/index.html"), "index.html")
                .unwrap()
                .text,
            "/blog/"
        );
        assert_eq!(
            index_directory(&url("/index.html"), "index.html")
                .unwrap()
                .text,
            "/"
        );
        assert!(index_directory(&url("/blog/myindex.html"), "index.html").is_none());
        assert!(index_directory(&url("/blog/index.html"), "").is_none());
        assert_eq!(key_to_path("site/a.html", "/site/"), Some("a.html"));
        assert_eq!(key_to_path("other/a.html", "site"), None);
        assert_eq!(key_to_path("a.html", ""), Some("a.html"));
    }

    #[test]
    fn cache_tags() {
        assert_eq!(cache_tag_item("product-42").unwrap(), "#product-42");
        assert_eq!(cache_tag_item("#home").unwrap(), "#home");
        assert_eq!(cache_tag_item("Home").unwrap(), "#home", "case-insensitive");
        assert_eq!(cache_tag_item(&"a".repeat(256)).unwrap().len(), 257);
        for (bad, why) in [
            ("#", "empty"),
            ("a b", "' '"),
            ("a,b", "','"),
            ("prod*", "wildcards"),
            ("caf\u{e9}", "'\u{e9}'"),
            ("tab\there", "'\\t'"),
        ] {
            let err = cache_tag_item(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let err = cache_tag_item(&"a".repeat(257)).unwrap_err();
        assert!(err.contains("256"), "{err}");
    }
}
