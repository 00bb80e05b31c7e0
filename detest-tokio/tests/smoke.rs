extern crate detest_tokio as tokio;

#[tokio::test]
async fn spawn_and_join() {
    let t = tokio::spawn(async { 1 + 1 });
    assert_eq!(t.await.unwrap(), 2);
}
