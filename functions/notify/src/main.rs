//! Lambda entry point of the notification worker, triggered by the table's
//! stream.

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();

    let config = aws_config::load_from_env().await;
    let resources = badges_shared::aws::Resources::from_env(&config)?;
    let settings = badges_shared::aws::settings_from_env()?;
    let mailer = badges_shared::aws::ses_mailer(&config)?;
    let app = badges_shared::aws::app(&config, &resources, settings, mailer);

    run(service_fn(|event: LambdaEvent<Event>| {
        let app = app.clone();
        async move { Ok::<_, Error>(badges_notify::handle_stream(&app, &event.payload).await) }
    }))
    .await
}
