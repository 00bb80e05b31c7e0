//! `tokio::net` is not modelled in detest mode (a simulated network is planned). Its entry
//! points exist so that code using them fails to build with this message, naming the item,
//! instead of silently opening real sockets inside an execution.
//!
//! ```compile_fail
//! // error: "tokio::net (TcpListener::bind, ...) is not modelled by detest-tokio's `detest`
//! // feature yet ..."
//! detest_tokio::runtime::Runtime::new().unwrap().block_on(async {
//!     let _ = detest_tokio::net::TcpListener::bind("127.0.0.1:0").await;
//! });
//! ```

use std::io;
use std::marker::PhantomData;

struct Unmodelled<A>(PhantomData<A>);

impl<A> Unmodelled<A> {
    // Evaluated when a use is compiled (monomorphised): `cargo build`/`test` fail there.
    const NET: () = panic!(
        "tokio::net (TcpListener::bind, TcpStream::connect, UdpSocket::bind) is not modelled \
         by detest-tokio's `detest` feature yet: test networking code against an in-memory \
         transport, or keep it out of detest-mode tests"
    );
}

/// Not modelled: using it fails to compile in detest mode.
#[derive(Debug)]
pub struct TcpListener(());

impl TcpListener {
    pub async fn bind<A>(_addr: A) -> io::Result<TcpListener> {
        #[allow(clippy::let_unit_value)]
        let () = Unmodelled::<A>::NET;
        unreachable!()
    }
}

/// Not modelled: using it fails to compile in detest mode.
#[derive(Debug)]
pub struct TcpStream(());

impl TcpStream {
    pub async fn connect<A>(_addr: A) -> io::Result<TcpStream> {
        #[allow(clippy::let_unit_value)]
        let () = Unmodelled::<A>::NET;
        unreachable!()
    }
}

/// Not modelled: using it fails to compile in detest mode.
#[derive(Debug)]
pub struct UdpSocket(());

impl UdpSocket {
    pub async fn bind<A>(_addr: A) -> io::Result<UdpSocket> {
        #[allow(clippy::let_unit_value)]
        let () = Unmodelled::<A>::NET;
        unreachable!()
    }
}
