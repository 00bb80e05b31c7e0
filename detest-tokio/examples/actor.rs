//! An actor written against tokio: requests over `mpsc`, replies over `oneshot`, callers with
//! a `timeout`. With detest-tokio as this crate's dev-dependency (`detest` feature) it runs as
//! one detest execution: `cargo run -p detest-tokio --example actor`.

extern crate detest_tokio as tokio;

use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

enum Request {
    Add(u64),
    Get(oneshot::Sender<u64>),
}

async fn actor(mut inbox: mpsc::Receiver<Request>) {
    let mut total = 0;
    while let Some(request) = inbox.recv().await {
        match request {
            Request::Add(n) => total += n,
            Request::Get(reply) => {
                let _ = reply.send(total);
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let (tx, rx) = mpsc::channel(4);
    let handle = tokio::spawn(actor(rx));
    let adders: Vec<_> = (1..=3)
        .map(|n| {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(Request::Add(n)).await.unwrap() })
        })
        .collect();
    for a in adders {
        a.await.unwrap();
    }
    let (reply, answer) = oneshot::channel();
    tx.send(Request::Get(reply)).await.unwrap();
    let total = tokio::time::timeout(Duration::from_secs(1), answer)
        .await
        .expect("the actor answers within a second")
        .unwrap();
    assert_eq!(total, 6);
    drop(tx);
    handle.await.unwrap();
    println!("total = {total}");
}
