//! Lambda entry point of the follow-up job, invoked by an EventBridge
//! schedule.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();

    let config = aws_config::load_from_env().await;
    let resources = badges_shared::aws::Resources::from_env(&config)?;
    let settings = badges_shared::aws::settings_from_env()?;
    let mailer = badges_shared::aws::ses_mailer(&config)?;
    let app = badges_shared::aws::app(&config, &resources, settings, mailer);

    run(service_fn(|event: LambdaEvent<EventBridgeEvent>| {
        let app = app.clone();
        async move {
            let stop_by = badges_reminders::stop_by(event.context.deadline);
            badges_reminders::handle_schedule(&app, &event.payload, Some(stop_by)).await.map_err(Error::from)
        }
    }))
    .await
}
