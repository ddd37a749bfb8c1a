//! Share links: LinkedIn "Add to profile", and feed posts on LinkedIn,
//! Facebook and X. Every value is percent-encoded, with only the RFC 3986
//! unreserved characters left as they are.

use chrono::{DateTime, Datelike, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters encoded in query values: everything but `A-Z a-z 0-9 - . _ ~`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The issuing organisation as an "Add to profile" link names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Organization<'a> {
    /// The numeric id of the organisation's LinkedIn page, which links the
    /// certification to that page.
    Id(&'a str),
    /// The organisation's name, shown as plain text.
    Name(&'a str),
}

/// The fields of a LinkedIn "Add to profile" certification.
#[derive(Clone, Debug)]
pub struct Certification<'a> {
    pub name: &'a str,
    pub organization: Organization<'a>,
    pub issued_on: DateTime<Utc>,
    pub expires_on: Option<DateTime<Utc>>,
    /// The award page, which verifies the certification.
    pub cert_url: &'a str,
    /// The credential id: the award id.
    pub cert_id: &'a str,
}

/// Builds the "Add to profile" URL. Months are 1 to 12 from the UTC date.
pub fn add_to_profile_url(cert: &Certification<'_>) -> String {
    let mut query = vec![("startTask", "CERTIFICATION_NAME".to_owned()), ("name", cert.name.to_owned())];
    match cert.organization {
        Organization::Id(id) => query.push(("organizationId", id.to_owned())),
        Organization::Name(name) => query.push(("organizationName", name.to_owned())),
    }
    query.push(("issueYear", cert.issued_on.year().to_string()));
    query.push(("issueMonth", cert.issued_on.month().to_string()));
    if let Some(expires) = cert.expires_on {
        query.push(("expirationYear", expires.year().to_string()));
        query.push(("expirationMonth", expires.month().to_string()));
    }
    query.push(("certUrl", cert.cert_url.to_owned()));
    query.push(("certId", cert.cert_id.to_owned()));
    with_query("https://www.linkedin.com/profile/add", &query)
}

/// Returns the LinkedIn link that starts a feed post about `url`.
pub fn linkedin_feed_url(url: &str) -> String {
    with_query("https://www.linkedin.com/sharing/share-offsite/", &[("url", url.to_owned())])
}

/// Returns the Facebook link that shares `url`.
pub fn facebook_share_url(url: &str) -> String {
    with_query("https://www.facebook.com/sharer/sharer.php", &[("u", url.to_owned())])
}

/// Returns the X (Twitter) link that starts a post with `text` and `url`.
pub fn x_share_url(text: &str, url: &str) -> String {
    with_query("https://x.com/intent/tweet", &[("text", text.to_owned()), ("url", url.to_owned())])
}

fn with_query(base: &str, query: &[(&str, String)]) -> String {
    let pairs: Vec<String> = query.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn certification<'a>(organization: Organization<'a>, expires_on: Option<DateTime<Utc>>) -> Certification<'a> {
        Certification {
            name: "RDA Serials Cataloging Update",
            organization,
            issued_on: time("2020-05-22T00:00:00Z"),
            expires_on,
            cert_url: "https://badges.example.org/awards/abc",
            cert_id: "abc",
        }
    }

    #[test]
    fn linkedin_dates_from_utc_months() {
        let url = add_to_profile_url(&certification(Organization::Name("Example"), Some(time("2030-01-01T00:00:00Z"))));
        assert!(url.contains("issueYear=2020&issueMonth=5&expirationYear=2030&expirationMonth=1"), "{url}");
    }

    #[test]
    fn linkedin_full_url() {
        let url = add_to_profile_url(&certification(Organization::Id("1234567"), None));
        assert_eq!(
            url,
            "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=RDA%20Serials%20Cataloging%20Update\
             &organizationId=1234567&issueYear=2020&issueMonth=5\
             &certUrl=https%3A%2F%2Fbadges.example.org%2Fawards%2Fabc&certId=abc"
        );
    }

    #[test]
    fn linkedin_month_uses_utc_not_offset() {
        // 23:30 on 31 December in New York is already January in UTC.
        let issued = DateTime::parse_from_rfc3339("2024-12-31T23:30:00-05:00").unwrap().with_timezone(&Utc);
        let mut cert = certification(Organization::Name("Example"), None);
        cert.issued_on = issued;
        let url = add_to_profile_url(&cert);
        assert!(url.contains("issueYear=2025&issueMonth=1&"), "{url}");
    }

    #[test]
    fn linkedin_encodes_names() {
        let mut cert = certification(Organization::Name("Société & Co <Ltd> \"Ω\""), None);
        cert.name = "Catalogage 编目 #1 + more?";
        let url = add_to_profile_url(&cert);
        assert!(url.contains("&name=Catalogage%20%E7%BC%96%E7%9B%AE%20%231%20%2B%20more%3F&"), "{url}");
        assert!(url.contains("&organizationName=Soci%C3%A9t%C3%A9%20%26%20Co%20%3CLtd%3E%20%22%CE%A9%22&"), "{url}");
    }

    #[test]
    fn feed_links_encode_url() {
        let award = "https://badges.example.org/awards/abc?x=1&y=2";
        assert_eq!(
            linkedin_feed_url(award),
            "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fbadges.example.org%2Fawards%2Fabc%3Fx%3D1%26y%3D2"
        );
        assert!(facebook_share_url(award).starts_with("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2F"));
        assert_eq!(
            x_share_url("I earned “A & B”", "https://b.example/a"),
            "https://x.com/intent/tweet?text=I%20earned%20%E2%80%9CA%20%26%20B%E2%80%9D&url=https%3A%2F%2Fb.example%2Fa"
        );
    }
}
