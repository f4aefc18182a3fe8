//! The HTML page of one run: the data as one JSON block, the page's own script and style
//! compiled into the binary, and a Content-Security-Policy that blocks (and reports) any fetch.

use super::model::Picture;
use super::svg;

/// The page's style.
const STYLE: &str = include_str!("page.css");
/// The page's script: draws the run on a canvas, the operations as SVG, and handles the view.
const SCRIPT: &str = include_str!("page.js");
/// Installed in its own earlier script, so even a syntax error in [`SCRIPT`] is reported.
const ERROR_HOOK: &str = include_str!("errors.js");

/// JSON that is safe inside `<script>`: `<`, `>`, `&`, U+2028 and U+2029 escaped (serde_json
/// does not escape `</script>`).
pub fn script_safe_json<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("picture data serializes");
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Text escaped for HTML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The policy: nothing from anywhere, inline script and style only.
pub const CSP: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/// A page around `body` with the shared head: policy, error hook, style.
pub fn page(title: &str, style: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <title>{}</title>\n<script>{ERROR_HOOK}</script>\n<style>{style}</style>\n</head>\n{body}</html>\n",
        escape(title)
    )
}

/// The self-contained page of one run.
pub fn render(picture: &Picture) -> String {
    let witness = svg::render(picture);
    let body = format!(
        "<body data-ready=\"0\" data-errors=\"0\" data-blocked=\"0\">\n\
         <noscript>This page draws the run with its own inline script.</noscript>\n\
         <div id=\"app\"></div>\n<template id=\"witness-svg\">{witness}</template>\n\
         <script type=\"application/json\" id=\"data\">{}</script>\n<script>{SCRIPT}</script>\n</body>\n",
        script_safe_json(picture)
    );
    page(&picture.meta.source.title, STYLE, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_cannot_close_the_script_element() {
        let json = script_safe_json(&"</script><!-- & \u{2028}");
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        assert!(!json.contains('\u{2028}'));
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, "</script><!-- & \u{2028}");
    }
}
