//! HTML snippets that learners paste into their own pages and email
//! signatures. Every value is escaped here, once, so a snippet is valid
//! HTML whatever the names contain.

/// Escapes text for HTML element content and double- or single-quoted
/// attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// The award page and image of a snippet.
#[derive(Clone, Debug)]
pub struct SnippetImage<'a> {
    /// The award page.
    pub award_url: &'a str,
    /// Public URL of the baked PNG.
    pub image_url: &'a str,
    pub alt: &'a str,
    /// Pixel size of the image, when known, to keep its aspect ratio.
    pub pixel_size: Option<(u32, u32)>,
}

/// Default width of the embedded image, in CSS pixels.
pub const EMBED_WIDTH: u32 = 150;
/// Width of the image in an email signature, in CSS pixels.
pub const SIGNATURE_WIDTH: u32 = 80;

/// Returns the height that keeps the aspect ratio at `width`.
pub fn scaled_height(pixel_size: Option<(u32, u32)>, width: u32) -> u32 {
    match pixel_size {
        Some((w, h)) if w > 0 => ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)) as u32,
        _ => width,
    }
}

/// Returns the embed snippet: a link to the award page around the image.
pub fn embed_html(image: &SnippetImage<'_>, width: u32) -> String {
    format!(
        "<a href=\"{href}\"><img src=\"{src}\" alt=\"{alt}\" width=\"{width}\" height=\"{height}\"></a>",
        href = escape_html(image.award_url),
        src = escape_html(image.image_url),
        alt = escape_html(image.alt),
        height = scaled_height(image.pixel_size, width),
    )
}

/// Returns the email-signature snippet: a small linked image and the badge
/// name as a link, with inline styles because mail clients drop style
/// sheets.
pub fn signature_html(image: &SnippetImage<'_>, badge_name: &str, issuer_name: &str) -> String {
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse\"><tr>\
         <td style=\"padding:0 8px 0 0;vertical-align:middle\"><a href=\"{href}\"><img src=\"{src}\" alt=\"{alt}\" \
         width=\"{width}\" height=\"{height}\" style=\"border:0;display:block\"></a></td>\
         <td style=\"vertical-align:middle;font-family:Arial,sans-serif;font-size:13px;line-height:1.4\">\
         <a href=\"{href}\" style=\"color:#1d4ed8\">{name}</a><br>Verified badge from {issuer}</td></tr></table>",
        href = escape_html(image.award_url),
        src = escape_html(image.image_url),
        alt = escape_html(image.alt),
        width = SIGNATURE_WIDTH,
        height = scaled_height(image.pixel_size, SIGNATURE_WIDTH),
        name = escape_html(badge_name),
        issuer = escape_html(issuer_name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(alt: &str) -> SnippetImage<'_> {
        SnippetImage {
            award_url: "https://badges.example.org/awards/abc",
            image_url: "https://img.example.org/images/awards/abc/badge.png?a=1&b=2",
            alt,
            pixel_size: Some((600, 300)),
        }
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape_html("<b>\"O'Brien\" & co</b>"), "&lt;b&gt;&quot;O&#39;Brien&quot; &amp; co&lt;/b&gt;");
        assert_eq!(escape_html("编目 Ω"), "编目 Ω");
    }

    #[test]
    fn embed_snippet_escapes_once() {
        let html = embed_html(&image("Zoë \"<script>\" & 编目"), 150);
        assert_eq!(
            html,
            "<a href=\"https://badges.example.org/awards/abc\"><img src=\"https://img.example.org/images/awards/abc/badge.png?a=1&amp;b=2\" \
             alt=\"Zoë &quot;&lt;script&gt;&quot; &amp; 编目\" width=\"150\" height=\"75\"></a>"
        );
    }

    #[test]
    fn signature_snippet_escapes_names() {
        let html = signature_html(&image("alt"), "A <i>&</i> B", "O'Neil & Sons");
        assert!(html.contains(">A &lt;i&gt;&amp;&lt;/i&gt; B</a>"), "{html}");
        assert!(html.contains("Verified badge from O&#39;Neil &amp; Sons"), "{html}");
        assert!(html.contains("width=\"80\" height=\"40\""), "{html}");
    }

    #[test]
    fn height_keeps_ratio_or_defaults_square() {
        assert_eq!(scaled_height(Some((600, 600)), 150), 150);
        assert_eq!(scaled_height(Some((3, 2)), 100), 67);
        assert_eq!(scaled_height(None, 120), 120);
        assert_eq!(scaled_height(Some((0, 5)), 120), 120);
    }
}
