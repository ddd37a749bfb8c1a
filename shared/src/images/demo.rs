//! Generated badge images for demos and for badges created without an
//! image.
//!
//! The drawing uses shapes only, with no `<text>`, because the PNG renderer
//! loads no fonts. Colours and the ring of dots come from a hash of the
//! badge id, so the same id always gives the same SVG.

use std::f64::consts::PI;
use std::fmt::Write;

use super::xml::escape_text;

/// Centre of the hexagon, above the middle to leave room for the ribbons.
const CENTER: (f64, f64) = (256.0, 220.0);
/// Distance from the centre to a hexagon corner.
const HEXAGON_RADIUS: f64 = 190.0;
/// Share of each hexagon side used by the rounding at either corner.
const CORNER_ROUNDING: f64 = 0.16;

/// Emblem drawn in the middle of the badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Emblem {
    /// A screen with a play button.
    Webinar,
    /// A graduation cap.
    Course,
    /// Three people.
    Symposium,
    /// A gear.
    Workshop,
    /// A five-pointed star.
    Star,
}

impl Emblem {
    /// Picks the emblem for an event format name, matching words such as
    /// "Webinar", "Web Course" or "Symposium" in any case.
    fn for_format(format: Option<&str>) -> Emblem {
        let Some(format) = format else {
            return Emblem::Star;
        };
        let format = format.to_lowercase();
        let mentions = |words: &[&str]| words.iter().any(|word| format.contains(word));
        if mentions(&["webinar", "livestream", "online session"]) {
            Emblem::Webinar
        } else if mentions(&["course", "class", "lecture", "training", "module"]) {
            Emblem::Course
        } else if mentions(&[
            "symposium",
            "conference",
            "congress",
            "summit",
            "meetup",
            "forum",
        ]) {
            Emblem::Symposium
        } else if mentions(&["workshop", "hackathon"]) {
            Emblem::Workshop
        } else {
            Emblem::Star
        }
    }
}

/// Draws a demo badge as an SVG document with a 512×512 view box.
///
/// The badge is a rounded hexagon on two ribbon tails, coloured from a hash
/// of `badge_id`. The emblem depends on words in `format`: a screen for
/// webinars, a graduation cap for courses, three people for symposia and
/// conferences, a gear for workshops, and a star otherwise. `name` becomes
/// the `<title>`, XML-escaped, which gives the image its accessible name.
/// The result passes [`check_upload`](super::check_upload).
pub fn demo_badge_svg(badge_id: &str, name: &str, format: Option<&str>) -> String {
    let hash = fnv1a_64(badge_id.as_bytes());
    let hue = (hash % 360) as f64;
    // Element ids carry the hash, so several badges inlined in one HTML
    // page do not share a gradient id.
    let suffix = format!("{:08x}", hash >> 32);

    // Yellow, green and cyan look brighter than other hues at the same HSL
    // lightness, so they get darker fills to keep the white emblem readable.
    let lightness = if (40.0..200.0).contains(&hue) {
        0.44
    } else {
        0.56
    };
    let light = hsl_to_hex(hue, 0.70, lightness);
    let dark = hsl_to_hex(hue, 0.65, lightness - 0.24);
    let ribbon = hsl_to_hex((hue + 150.0) % 360.0, 0.60, 0.50);
    let ribbon_shade = hsl_to_hex((hue + 150.0) % 360.0, 0.60, 0.38);
    let dot_count = 8 + (hash >> 16) % 9;

    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512" role="img" aria-labelledby="title-{suffix}">
<title id="title-{suffix}">{title}</title>
<defs>
<linearGradient id="fill-{suffix}" x1="0" y1="0" x2="0" y2="1">
<stop offset="0" stop-color="{light}"/>
<stop offset="1" stop-color="{dark}"/>
</linearGradient>
</defs>
<path d="M186 330 L136 496 L184 472 L214 506 L256 360 Z" fill="{ribbon_shade}"/>
<path d="M326 330 L376 496 L328 472 L298 506 L256 360 Z" fill="{ribbon}"/>
<path d="{hexagon}" fill="url(#fill-{suffix})" stroke="{dark}" stroke-width="12" stroke-linejoin="round"/>
<circle cx="256" cy="220" r="128" fill="none" stroke="#ffffff" stroke-opacity="0.45" stroke-width="8"/>
"##,
        title = escape_text(name),
        hexagon = rounded_hexagon_path(),
    );
    svg.push_str(&dot_ring(dot_count));
    svg.push_str(&emblem_shapes(Emblem::for_format(format), &dark));
    svg.push_str("</svg>\n");
    svg
}

/// Returns path data for a pointy-top hexagon around [`CENTER`] whose
/// corners are rounded with quadratic curves.
fn rounded_hexagon_path() -> String {
    let corners: Vec<(f64, f64)> = (0..6)
        .map(|index| {
            let angle = PI / 3.0 * index as f64 - PI / 2.0;
            (
                CENTER.0 + HEXAGON_RADIUS * angle.cos(),
                CENTER.1 + HEXAGON_RADIUS * angle.sin(),
            )
        })
        .collect();
    let towards = |from: (f64, f64), to: (f64, f64)| {
        (
            from.0 + (to.0 - from.0) * CORNER_ROUNDING,
            from.1 + (to.1 - from.1) * CORNER_ROUNDING,
        )
    };

    let mut path = String::new();
    for index in 0..=6 {
        let corner = corners[index % 6];
        let previous = corners[(index + 5) % 6];
        let next = corners[(index + 1) % 6];
        let entry = towards(corner, previous);
        let exit = towards(corner, next);
        if index == 0 {
            let _ = write!(path, "M{:.1} {:.1}", exit.0, exit.1);
        } else {
            let _ = write!(
                path,
                " L{:.1} {:.1} Q{:.1} {:.1} {:.1} {:.1}",
                entry.0, entry.1, corner.0, corner.1, exit.0, exit.1
            );
        }
    }
    path.push_str(" Z");
    path
}

/// Returns `count` small white circles evenly spaced on a ring inside the
/// hexagon.
fn dot_ring(count: u64) -> String {
    let mut dots = String::from("<g fill=\"#ffffff\" fill-opacity=\"0.8\">\n");
    for index in 0..count {
        let angle = 2.0 * PI * index as f64 / count as f64 - PI / 2.0;
        let _ = writeln!(
            dots,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\"/>",
            CENTER.0 + 150.0 * angle.cos(),
            CENTER.1 + 150.0 * angle.sin()
        );
    }
    dots.push_str("</g>\n");
    dots
}

/// Returns the emblem as white shapes centred on [`CENTER`]; `dark` is used
/// for details cut into the white.
fn emblem_shapes(emblem: Emblem, dark: &str) -> String {
    match emblem {
        Emblem::Webinar => format!(
            r##"<g fill="#ffffff">
<rect x="168" y="152" width="176" height="116" rx="12"/>
<rect x="182" y="166" width="148" height="88" rx="4" fill="{dark}"/>
<path d="M240 186 L240 234 L280 210 Z"/>
<rect x="240" y="268" width="32" height="16"/>
<rect x="206" y="282" width="100" height="12" rx="6"/>
</g>
"##
        ),
        Emblem::Course => r##"<g fill="#ffffff">
<path d="M256 146 L360 190 L256 234 L152 190 Z"/>
<path d="M196 214 L196 262 Q256 296 316 262 L316 214 L256 240 Z"/>
<rect x="341" y="194" width="6" height="62"/>
<circle cx="344" cy="262" r="10"/>
</g>
"##
        .to_owned(),
        Emblem::Symposium => r##"<g fill="#ffffff">
<circle cx="196" cy="186" r="22"/>
<circle cx="316" cy="186" r="22"/>
<path d="M158 270 Q158 218 196 218 Q234 218 234 270 Z"/>
<path d="M278 270 Q278 218 316 218 Q354 218 354 270 Z"/>
<circle cx="256" cy="166" r="28"/>
<path d="M206 284 Q206 204 256 204 Q306 204 306 284 Z"/>
</g>
"##
        .to_owned(),
        Emblem::Workshop => format!(
            "<path d=\"{}\" fill=\"#ffffff\"/>\n<circle cx=\"256\" cy=\"220\" r=\"30\" fill=\"{dark}\"/>\n",
            gear_path(10, 86.0, 66.0)
        ),
        Emblem::Star => format!(
            "<path d=\"{}\" fill=\"#ffffff\"/>\n",
            star_path(5, 96.0, 40.0)
        ),
    }
}

/// Returns path data for a star with `points` tips around [`CENTER`].
fn star_path(points: usize, outer: f64, inner: f64) -> String {
    let mut path = String::new();
    for index in 0..points * 2 {
        let radius = if index % 2 == 0 { outer } else { inner };
        let angle = PI * index as f64 / points as f64 - PI / 2.0;
        let command = if index == 0 { 'M' } else { 'L' };
        let _ = write!(
            path,
            "{command}{:.1} {:.1} ",
            CENTER.0 + radius * angle.cos(),
            CENTER.1 + radius * angle.sin()
        );
    }
    path.push('Z');
    path
}

/// Returns path data for a gear with `teeth` square teeth around
/// [`CENTER`], reaching from `inner` to `outer`.
fn gear_path(teeth: usize, outer: f64, inner: f64) -> String {
    let step = 2.0 * PI / teeth as f64;
    let mut path = String::new();
    for tooth in 0..teeth {
        let start = step * tooth as f64;
        // Each tooth spans the middle 40 % of its step at the outer radius.
        let angles_and_radii = [
            (start, inner),
            (start + step * 0.3, inner),
            (start + step * 0.35, outer),
            (start + step * 0.65, outer),
            (start + step * 0.7, inner),
        ];
        for (index, (angle, radius)) in angles_and_radii.into_iter().enumerate() {
            let command = if tooth == 0 && index == 0 { 'M' } else { 'L' };
            let _ = write!(
                path,
                "{command}{:.1} {:.1} ",
                CENTER.0 + radius * angle.cos(),
                CENTER.1 + radius * angle.sin()
            );
        }
    }
    path.push('Z');
    path
}

/// FNV-1a, 64-bit: a small, stable hash, so colours do not change between
/// Rust versions the way `DefaultHasher` output may.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Converts HSL (hue in degrees, saturation and lightness from 0 to 1) to
/// an sRGB `#rrggbb` colour.
fn hsl_to_hex(hue: f64, saturation: f64, lightness: f64) -> String {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue / 60.0;
    let second = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (red, green, blue) = match sector as u32 {
        0 => (chroma, second, 0.0),
        1 => (second, chroma, 0.0),
        2 => (0.0, chroma, second),
        3 => (0.0, second, chroma),
        4 => (second, 0.0, chroma),
        _ => (chroma, 0.0, second),
    };
    let offset = lightness - chroma / 2.0;
    let channel = |value: f64| ((value + offset) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        channel(red),
        channel(green),
        channel(blue)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::{ImageFormat, check_upload, render_png};

    #[test]
    fn passes_upload_check() {
        for format in [
            None,
            Some("Webinar"),
            Some("Web Course"),
            Some("Symposium"),
            Some("Workshop"),
        ] {
            let svg = demo_badge_svg("badge-1", "Rust & <Friends>", format);
            let checked = check_upload(svg.as_bytes(), ImageFormat::Svg);
            assert!(checked.is_ok(), "{format:?}: {checked:?}");
        }
    }

    #[test]
    fn renders_to_checked_png() {
        for format in [
            None,
            Some("Webinar"),
            Some("Web Course"),
            Some("Symposium"),
            Some("Workshop"),
        ] {
            let svg = demo_badge_svg("badge-1", "Demo", format);
            let png = render_png(svg.as_bytes(), 256).unwrap();
            let checked = check_upload(&png, ImageFormat::Png).unwrap();
            assert_eq!(checked.pixel_size, Some((256, 256)), "{format:?}");
        }
    }

    #[test]
    fn same_id_gives_same_svg() {
        assert_eq!(
            demo_badge_svg("abc", "Name", Some("Webinar")),
            demo_badge_svg("abc", "Name", Some("Webinar"))
        );
    }

    #[test]
    fn different_ids_give_different_colours() {
        let first = demo_badge_svg("badge-1", "Name", None);
        let second = demo_badge_svg("badge-2", "Name", None);
        assert_ne!(first, second);
    }

    #[test]
    fn title_is_escaped() {
        let svg = demo_badge_svg("x", "<script>alert(\"1\")</script> & Co", None);
        assert!(
            svg.contains(">&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; Co</title>"),
            "{svg}"
        );
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn title_keeps_non_latin_scripts() {
        let name = "Ünïcödé 徽章 بطاقة 🎓";
        let svg = demo_badge_svg("x", name, None);
        assert!(svg.contains(&format!(">{name}</title>")), "{svg}");
        assert!(check_upload(svg.as_bytes(), ImageFormat::Svg).is_ok());
    }

    #[test]
    fn has_no_text_elements() {
        let svg = demo_badge_svg("x", "Name", Some("Symposium"));
        assert!(!svg.contains("<text"));
    }

    #[test]
    fn emblem_follows_format() {
        assert_eq!(Emblem::for_format(Some("Webinar")), Emblem::Webinar);
        assert_eq!(Emblem::for_format(Some("Web Course")), Emblem::Course);
        assert_eq!(Emblem::for_format(Some("SYMPOSIUM")), Emblem::Symposium);
        assert_eq!(Emblem::for_format(Some("Workshop")), Emblem::Workshop);
        assert_eq!(Emblem::for_format(Some("Other")), Emblem::Star);
        assert_eq!(Emblem::for_format(None), Emblem::Star);
    }

    #[test]
    fn hsl_conversion_matches_css() {
        assert_eq!(hsl_to_hex(0.0, 1.0, 0.5), "#ff0000");
        assert_eq!(hsl_to_hex(120.0, 1.0, 0.5), "#00ff00");
        assert_eq!(hsl_to_hex(240.0, 1.0, 0.25), "#000080");
        assert_eq!(hsl_to_hex(359.0, 0.0, 1.0), "#ffffff");
    }
}
