//! `tokio::io` in memory: [`duplex`] and [`simplex`] pipes whose every read, write and shutdown
//! is a scheduling point (a full pipe blocks the writer, an empty one the reader, until the
//! peer acts), and [`split`] halves that share their stream through a detest lock.
//!
//! ```ignore
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let (mut client, mut server) = tokio::io::duplex(64);
//! tokio::spawn(async move { client.write_all(b"ping").await.unwrap() }); // then drops: EOF
//! let mut got = String::new();
//! server.read_to_string(&mut got).await.unwrap();
//! assert_eq!(got, "ping");
//! ```
//!
//! The traits (`AsyncRead`, `AsyncWrite`, `AsyncBufRead`, `AsyncSeek`, `ReadBuf`) are tokio's
//! own, so streams from other crates implement them, and so are the adapters that only poll
//! the stream they wrap and never touch a runtime: the `*Ext` traits' futures, `BufReader`,
//! `BufWriter`, `BufStream`, `Lines`, `Take`, `Chain`, `copy`, `copy_buf`,
//! `copy_bidirectional`, `join`, `empty`, `sink`, `repeat`. What needs tokio's I/O driver or
//! blocking pool (`stdin`, `stdout`, `stderr`, `unix::AsyncFd`) does not exist in detest
//! mode, so code using it fails to compile:
//!
//! ```compile_fail
//! // error[E0425]: cannot find function `stdin` in module `detest_tokio::io`
//! let _ = detest_tokio::io::stdin();
//! ```

mod pipe;
mod split;

pub use pipe::{duplex, simplex, DuplexStream, SimplexStream};
pub use split::{split, ReadHalf, WriteHalf};

pub use real_tokio::io::{
    copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, empty, join, repeat, sink,
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite,
    AsyncWriteExt, BufReader, BufStream, BufWriter, Chain, Empty, Error, ErrorKind, Join, Lines,
    ReadBuf, Repeat, Result, SeekFrom, Sink, Split, Take,
};
