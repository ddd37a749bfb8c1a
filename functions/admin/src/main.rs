//! Lambda entry point of the staff routes under /admin.

use lambda_http::{Error, run, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The log format (JSON) and level come from the function's logging configuration.
    tracing::init_default_subscriber();

    let app = badges_shared::aws::http_app_from_env().await?;
    let router = badges_shared::web::finish(badges_admin::router(app.clone()), &app.settings);
    run(router).await
}
