//! Choosing between HTML and JSON from the `Accept` header.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

/// Returns true when the client prefers an HTML page to JSON.
///
/// Media ranges are weighed by their `q` value; an exact type outranks a
/// wildcard of the same weight. A request without `Accept`, or with only
/// `*/*`, gets JSON: browsers always ask for `text/html` by name.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let mut html = (0.0_f32, 0_u8);
    let mut json = (0.0_f32, 0_u8);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| parameter.trim().strip_prefix("q="))
            .find_map(|value| value.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let (for_html, for_json) = match media.as_str() {
            "text/html" | "application/xhtml+xml" => (2, 0),
            "application/json" | "application/ld+json" => (0, 2),
            "text/*" => (1, 0),
            "application/*" => (0, 1),
            _ => (0, 0),
        };
        if for_html > 0 && (quality, for_html) > html {
            html = (quality, for_html);
        }
        if for_json > 0 && (quality, for_json) > json {
            json = (quality, for_json);
        }
    }
    html.0 > 0.0 && html > json
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_get_html() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers_html(&with_accept(firefox)));
    }

    #[test]
    fn api_clients_get_json() {
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&with_accept("*/*")));
        assert!(!prefers_html(&with_accept("application/ld+json")));
        assert!(!prefers_html(&with_accept("application/ld+json, application/json;q=0.9, text/html;q=0.5")));
    }

    #[test]
    fn exact_type_beats_wildcard_at_equal_weight() {
        assert!(!prefers_html(&with_accept("text/*, application/json")));
        assert!(prefers_html(&with_accept("text/html, application/*")));
    }
}
