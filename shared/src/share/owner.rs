//! The owner cookie: proof that this browser opened a claim link of a
//! recipient, so award pages show that recipient the share tools.
//!
//! The value is `v1.{expiry}.{signature}`: the expiry in Unix seconds and
//! the unpadded base64url HMAC-SHA256 of `v1`, the expiry and the
//! case-folded email. The email itself is not in the cookie, so a page
//! checks a cookie against the email of the award it shows. One cookie
//! covers every award of the same recipient.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::EmailAddress;
use crate::settings::Settings;
use crate::share::ServerKey;

/// Name of the owner cookie.
pub const OWNER_COOKIE: &str = "badges_owner";

/// How long an owner cookie is valid, in days. Reopening the claim link
/// sets a new one.
pub const OWNER_COOKIE_DAYS: i64 = 90;

const VERSION: &str = "v1";
const PURPOSE: &str = "badges owner cookie v1";

fn signature(key: &ServerKey, email: &EmailAddress, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.derive(PURPOSE)).expect("HMAC accepts 32-byte keys");
    mac.update(format!("{VERSION}.{expires}.").as_bytes());
    mac.update(email.as_str().as_bytes());
    mac
}

/// Returns the cookie value for `email`, valid for [`OWNER_COOKIE_DAYS`]
/// from `now`.
pub fn cookie_value(key: &ServerKey, email: &EmailAddress, now: DateTime<Utc>) -> String {
    let expires = (now + Duration::days(OWNER_COOKIE_DAYS)).timestamp();
    let tag = signature(key, email, expires).finalize().into_bytes();
    format!("{VERSION}.{expires}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Returns the `Set-Cookie` header of a new owner cookie: HttpOnly,
/// SameSite=Lax, Path=/, and Secure when the base URL is https. `None`
/// when the deployment has no server key.
pub fn set_cookie_header(settings: &Settings, email: &EmailAddress, now: DateTime<Utc>) -> Option<HeaderValue> {
    let key = settings.server_key.as_ref()?;
    let value = cookie_value(key, email, now);
    let max_age = Duration::days(OWNER_COOKIE_DAYS).num_seconds();
    let secure = if settings.is_https() { "; Secure" } else { "" };
    let header = format!("{OWNER_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&header).ok()
}

/// Returns true when the request carries an unexpired owner cookie
/// signed for `email`.
pub fn is_owner(settings: &Settings, headers: &HeaderMap, email: &EmailAddress, now: DateTime<Utc>) -> bool {
    let Some(key) = settings.server_key.as_ref() else {
        return false;
    };
    cookie_values(headers, OWNER_COOKIE).any(|value| check_value(key, value, email, now))
}

fn check_value(key: &ServerKey, value: &str, email: &EmailAddress, now: DateTime<Utc>) -> bool {
    let mut parts = value.split('.');
    let (Some(VERSION), Some(expires), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    if expires <= now.timestamp() {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    // verify_slice compares in constant time.
    signature(key, email, expires).verify_slice(&tag).is_ok()
}

/// Returns false when a form post comes from another site: its `Origin`
/// (or, without one, its `Referer`) is not this deployment's. A request
/// with neither header passes, because the `SameSite=Lax` cookie already
/// stays home on cross-site posts.
pub fn same_origin(settings: &Settings, headers: &HeaderMap) -> bool {
    let base = settings.base_url.as_str();
    // The origin is the base URL up to its path.
    let origin_end = base.find("://").map_or(base.len(), |scheme| {
        base[scheme + 3..].find('/').map_or(base.len(), |path| scheme + 3 + path)
    });
    let origin = &base[..origin_end];
    if let Some(value) = headers.get(axum::http::header::ORIGIN) {
        return value.to_str().is_ok_and(|value| value == origin);
    }
    if let Some(value) = headers.get(axum::http::header::REFERER) {
        return value.to_str().is_ok_and(|value| value == base || value.starts_with(&format!("{base}/")));
    }
    true
}

/// Returns the values of every cookie named `name` in the `Cookie` headers.
fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(move |pair| {
            let (cookie_name, value) = pair.trim().split_once('=')?;
            (cookie_name.trim() == name).then_some(value.trim())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Issuer;

    fn settings(base_url: &str) -> Settings {
        let issuer = Issuer { name: "Example".into(), url: "https://www.example.org".into(), email: "badges@example.org".into() };
        Settings::new(base_url, issuer).with_server_key(ServerKey::from_secret(&"x".repeat(40)).unwrap())
    }

    fn email(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    fn request_with(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    fn value_of(header: &HeaderValue) -> String {
        let text = header.to_str().unwrap();
        text.split(';').next().unwrap().strip_prefix("badges_owner=").unwrap().to_owned()
    }

    #[test]
    fn header_attributes_follow_scheme() {
        let now = Utc::now();
        let https = set_cookie_header(&settings("https://badges.example.org"), &email("a@example.org"), now).unwrap();
        let https = https.to_str().unwrap();
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure", "Max-Age=7776000"] {
            assert!(https.contains(attribute), "{attribute} missing: {https}");
        }
        let http = set_cookie_header(&settings("http://127.0.0.1:3000"), &email("a@example.org"), now).unwrap();
        assert!(!http.to_str().unwrap().contains("Secure"), "{http:?}");
    }

    #[test]
    fn cookie_proves_owner_of_same_email_only() {
        let settings = settings("http://127.0.0.1:3000");
        let now = Utc::now();
        let header = set_cookie_header(&settings, &email("Owner@Example.org"), now).unwrap();
        let headers = request_with(&format!("other=1; badges_owner={}", value_of(&header)));
        assert!(is_owner(&settings, &headers, &email("owner@example.org"), now));
        assert!(!is_owner(&settings, &headers, &email("someone@example.org"), now));
    }

    #[test]
    fn expired_or_tampered_cookie_rejected() {
        let settings = settings("http://127.0.0.1:3000");
        let owner = email("owner@example.org");
        let issued = Utc::now() - Duration::days(OWNER_COOKIE_DAYS + 1);
        let old = value_of(&set_cookie_header(&settings, &owner, issued).unwrap());
        assert!(!is_owner(&settings, &request_with(&format!("badges_owner={old}")), &owner, Utc::now()));

        let fresh = value_of(&set_cookie_header(&settings, &owner, Utc::now()).unwrap());
        let (version, rest) = fresh.split_once('.').unwrap();
        let (expires, tag) = rest.split_once('.').unwrap();
        let later = format!("{version}.{}.{tag}", expires.parse::<i64>().unwrap() + 1);
        assert!(!is_owner(&settings, &request_with(&format!("badges_owner={later}")), &owner, Utc::now()));
        assert!(!is_owner(&settings, &request_with("badges_owner=v1.99999999999.AAAA"), &owner, Utc::now()));
    }

    #[test]
    fn cross_site_posts_rejected() {
        let settings = settings("https://badges.example.org/base");
        let with = |name: axum::http::HeaderName, value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_str(value).unwrap());
            headers
        };
        use axum::http::header::{ORIGIN, REFERER};
        assert!(same_origin(&settings, &with(ORIGIN, "https://badges.example.org")));
        assert!(!same_origin(&settings, &with(ORIGIN, "https://evil.example")));
        assert!(!same_origin(&settings, &with(ORIGIN, "null")));
        assert!(same_origin(&settings, &with(REFERER, "https://badges.example.org/base/awards/x")));
        assert!(!same_origin(&settings, &with(REFERER, "https://badges.example.org/basement")));
        assert!(same_origin(&settings, &HeaderMap::new()));
    }

    #[test]
    fn other_key_rejects_cookie() {
        let first = settings("http://127.0.0.1:3000");
        let second = Settings::new("http://127.0.0.1:3000", first.issuer.clone())
            .with_server_key(ServerKey::from_secret(&"y".repeat(40)).unwrap());
        let owner = email("owner@example.org");
        let value = value_of(&set_cookie_header(&first, &owner, Utc::now()).unwrap());
        assert!(!is_owner(&second, &request_with(&format!("badges_owner={value}")), &owner, Utc::now()));
    }
}
