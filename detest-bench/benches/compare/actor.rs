//! A tokio-style workload: an actor behind a bounded channel, three clients sending three
//! requests each and awaiting a oneshot reply. On detest it is written against tokio's API
//! (detest-tokio in detest mode, what a user's `#[tokio::test]` runs); shuttle has no tokio
//! layer, so its version is the same program on shuttle's executor with the `futures`
//! channels (the closest shuttle-tokio-style usage).

/// The sum of the replies: every request `10 * client + i` doubled.
const TOTAL: u64 = 2 * (3 + 33 + 63);

pub fn on_detest() {
    use detest_tokio::sync::{mpsc, oneshot};
    detest_tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async {
            let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(2);
            let actor = detest_tokio::spawn(async move {
                let mut served = 0;
                while let Some((v, reply)) = rx.recv().await {
                    let _ = reply.send(v * 2);
                    served += 1;
                }
                served
            });
            let clients: Vec<_> = (0..3u64)
                .map(|c| {
                    let tx = tx.clone();
                    detest_tokio::spawn(async move {
                        let mut sum = 0;
                        for i in 0..3 {
                            let (reply, answer) = oneshot::channel();
                            tx.send((10 * c + i, reply)).await.unwrap();
                            sum += answer.await.unwrap();
                        }
                        sum
                    })
                })
                .collect();
            drop(tx);
            let mut total = 0;
            for c in clients {
                total += c.await.unwrap();
            }
            assert_eq!(actor.await.unwrap(), 9);
            assert_eq!(total, TOTAL);
        });
}

pub fn on_shuttle() {
    use futures_channel::{mpsc, oneshot};
    use futures_util::{SinkExt, StreamExt};
    shuttle::future::block_on(async {
        let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(2);
        let actor = shuttle::future::spawn(async move {
            let mut served = 0;
            while let Some((v, reply)) = rx.next().await {
                let _ = reply.send(v * 2);
                served += 1;
            }
            served
        });
        let clients: Vec<_> = (0..3u64)
            .map(|c| {
                let mut tx = tx.clone();
                shuttle::future::spawn(async move {
                    let mut sum = 0;
                    for i in 0..3 {
                        let (reply, answer) = oneshot::channel();
                        tx.send((10 * c + i, reply)).await.unwrap();
                        sum += answer.await.unwrap();
                    }
                    sum
                })
            })
            .collect();
        drop(tx);
        let mut total = 0;
        for c in clients {
            total += c.await.unwrap();
        }
        assert_eq!(actor.await.unwrap(), 9);
        assert_eq!(total, TOTAL);
    });
}
