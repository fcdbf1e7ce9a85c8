// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! An instance's listener, guarded against peers that hold sockets without speaking: it accepts at
//! most a bounded number of connections, and closes a connection that has not sent the HTTP/2
//! preface within the handshake timeout. Either way a misbehaving peer cannot use up the
//! TaskManager's file descriptors.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Length of the HTTP/2 client connection preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`).
const PREFACE_BYTES: usize = 24;

/// How long the listener waits after a failed `accept` (e.g. out of file descriptors) before it
/// tries again, so that the failure does not turn into a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Bounds on the connections an instance keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Connections open at most; more are closed as soon as they are accepted.
    pub(crate) max_connections: usize,
    /// Time a new connection has to send the HTTP/2 preface.
    pub(crate) handshake_timeout: Duration,
}

/// Connections the listener closed, by reason.
#[derive(Debug, Default)]
pub(crate) struct ConnectionRefusals {
    pub(crate) over_limit: AtomicU64,
    pub(crate) handshake_timeouts: AtomicU64,
}

/// Accepted connections, each holding one of `limits.max_connections` places until it closes.
pub(crate) fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
    refusals: Arc<ConnectionRefusals>,
) -> impl Stream<Item = io::Result<GuardedConnection>> {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    futures_util::stream::unfold(
        (listener, places, refusals),
        move |(listener, places, refusals)| async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let Ok(place) = places.clone().try_acquire_owned() else {
                    let refused = refusals.over_limit.fetch_add(1, Ordering::Relaxed);
                    if refused.is_multiple_of(1000) {
                        tracing::warn!(
                            %peer,
                            limit = limits.max_connections,
                            refused = refused + 1,
                            "connection refused: the instance holds its maximum of connections \
                             (server option maxConnections)"
                        );
                    }
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let connection = GuardedConnection {
                    stream,
                    _place: place,
                    handshake: Some(Box::pin(tokio::time::sleep(limits.handshake_timeout))),
                    preface_left: PREFACE_BYTES,
                    refusals: refusals.clone(),
                };
                return Some((Ok(connection), (listener, places, refusals)));
            }
        },
    )
}

/// A connection that holds a place under the limit while it is open, and fails its first read
/// once the handshake timeout passes without the full preface.
pub(crate) struct GuardedConnection {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
    handshake: Option<Pin<Box<Sleep>>>,
    preface_left: usize,
    refusals: Arc<ConnectionRefusals>,
}

impl AsyncRead for GuardedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.handshake.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            this.handshake = None;
            this.refusals
                .handshake_timeouts
                .fetch_add(1, Ordering::Relaxed);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer did not start HTTP/2 within the handshake timeout",
            )));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if this.handshake.is_some() && matches!(read, Poll::Ready(Ok(()))) {
            let received = buf.filled().len() - before;
            this.preface_left = this.preface_left.saturating_sub(received);
            if this.preface_left == 0 {
                this.handshake = None;
            }
        }
        read
    }
}

impl AsyncWrite for GuardedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Connected for GuardedConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}
