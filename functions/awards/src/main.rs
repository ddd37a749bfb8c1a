//! Lambda entry point of the public Open Badges documents and pages.

use lambda_http::{Error, run, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The log format (JSON) and level come from the function's logging configuration.
    tracing::init_default_subscriber();

    let app = badges_shared::aws::awards_app_from_env().await?;
    badges_shared::aws::require_server_key(&app.settings)?;
    let router = badges_shared::web::finish(badges_awards::router(app.clone()), &app.settings);
    run(router).await
}
