//! Lambda entry point of the SES event consumer, subscribed to the SNS
//! topic of the configuration set's event destination.

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsEvent;
use badges_shared::adapters::aws::dynamo::DynamoStore;
use badges_shared::ports::SystemClock;
use badges_ses_events::{Context, handle_sns};
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();

    let config = aws_config::load_from_env().await;
    let table = badges_shared::aws::required("BADGES_TABLE")?;
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table));

    run(service_fn(|event: LambdaEvent<SnsEvent>| {
        let store = store.clone();
        async move {
            let context = Context { store: store.as_ref(), clock: &SystemClock };
            handle_sns(&context, &event.payload).await.map_err(Error::from)
        }
    }))
    .await
}
