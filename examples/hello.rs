//! The ceiling for the load benchmark: a bare actix-web handler, built with the same settings.

use actix_web::{get, App, HttpServer, Responder};

#[get("/")]
async fn hello() -> impl Responder {
    "hello"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("HELLO_ADDR").unwrap_or_else(|_| "127.0.0.1:18199".into());
    HttpServer::new(|| App::new().service(hello))
        .bind(addr)?
        .run()
        .await
}
