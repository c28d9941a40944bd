//! The ceiling for `webhook_bench`: the same HTTP stack as telegate (axum 0.8,
//! tokio, tower-http's body limit) answering 200 to every webhook POST
//! without checking or storing anything.
//!
//! Usage: `bare_webhook 127.0.0.1:8001` (the listen address; that is the default).

use axum::{Router, body::Bytes, http::StatusCode, routing::get, routing::post};
use tokio::{net::TcpListener, signal::unix};
use tower_http::limit::RequestBodyLimitLayer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8001".into());
    let app = Router::new()
        // The body is read, as telegate's webhook reads it.
        .route(
            "/telegram/webhook",
            post(|_body: Bytes| async { StatusCode::OK }),
        )
        .route("/health", get(|| async { "ok\n" }))
        .layer(RequestBodyLimitLayer::new(telegate::http::MAX_BODY_BYTES));
    let listener = TcpListener::bind(&addr).await?;
    let mut terminate = unix::signal(unix::SignalKind::terminate())?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            terminate.recv().await;
        })
        .await?;
    Ok(())
}
