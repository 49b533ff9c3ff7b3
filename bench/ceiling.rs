//! The framework ceiling for `bench/run.sh`: a minimal actix-web server
//! answering every GET with the same 2 KB JSON document, measured in the
//! same run as newsdesk so that every figure is a ratio on one machine.
//!
//! `cargo run --release --example ceiling -- 127.0.0.1:9000`

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let item = r#"{"id":42,"slug":"fighting-for-freedom","title":"Fighting for Freedom: a benchmark headline","excerpt":"South Korea and the United States held talks on human rights in the North.","view_count":1532,"comment_count":12}"#;
    let body = format!(
        "{{\"data\":[{}]}}",
        std::iter::repeat_n(item, 2048 / item.len() + 1)
            .collect::<Vec<_>>()
            .join(",")
    );
    let body = web::Bytes::from(body);
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }))
    })
    .bind(addr)?
    .run()
    .await
}
