//! Pages of the learner-facing mail routes: the "Where's my badge?" form
//! and the unsubscribe confirmation.

use askama::Template;

use crate::web::pages::Site;

/// The form that requests new claim links.
#[derive(Template)]
#[template(path = "resend.html")]
pub struct ResendPage {
    pub site: Site,
    /// The address to show in the field, as the learner typed it.
    pub email: String,
    /// Problem with the address, after a rejected submission.
    pub error: Option<String>,
}

/// The response to a submitted form. It is the same whether or not the
/// address has badges, and whether or not an email was sent.
#[derive(Template)]
#[template(path = "resend_sent.html")]
pub struct ResendSentPage {
    pub site: Site,
    pub email: String,
    /// Shortest time between two emails to one address, in minutes.
    pub interval_minutes: i64,
}

/// Asks to confirm an unsubscribe link opened in a browser. Following the
/// link does not unsubscribe, because mail scanners open links too.
#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub struct UnsubscribePage {
    pub site: Site,
    pub token: String,
    pub masked_email: String,
}

/// Confirms an unsubscribe.
#[derive(Template)]
#[template(path = "unsubscribed.html")]
pub struct UnsubscribedPage {
    pub site: Site,
    pub masked_email: String,
}
