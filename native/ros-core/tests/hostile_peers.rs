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

//! Peers that open sockets and do not speak (slow loris), or open too many: an instance closes
//! them, so that nobody can use up the TaskManager's file descriptors, and keeps serving.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{InstanceSpec, client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits for the instance to close `socket`; returns how long that took, or `None` if it stayed
/// open for `limit`.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buffer = [0u8; 256];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(start.elapsed()),
            socket.read(&mut buffer),
        )
        .await
        {
            Err(_) => return None,
            // Closed (EOF) or reset: either way the instance let go of it.
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            // The server's own preface and settings; keep reading.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_start_http2_are_closed_after_the_handshake_timeout() {
    let handshake = Duration::from_millis(300);
    let instance = InstanceSpec::echo()
        .workers(1, 16)
        .config(|c| c.handshake_timeout = handshake)
        .start()
        .await;

    // 50 silent sockets, and one that stalls halfway through the preface.
    let mut sockets = Vec::new();
    for _ in 0..50 {
        sockets.push(TcpStream::connect(&instance.address).await.unwrap());
    }
    let mut partial = TcpStream::connect(&instance.address).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    sockets.push(partial);

    for socket in &mut sockets {
        let waited = closed_within(socket, Duration::from_secs(5))
            .await
            .expect("the instance closes a connection that never starts HTTP/2");
        // Bounded by the handshake timeout plus scheduling slack, never far beyond it.
        assert!(waited < Duration::from_secs(2), "closed after {waited:?}");
    }
    assert_eq!(instance.server.stats().handshake_timeouts, 51);

    // A real caller is served as before.
    let client = client(|_| {});
    client.update_endpoints([instance.address.clone()]).unwrap();
    let reply = client.call("echo", Bytes::from_static(b"hi"), None).await;
    assert!(reply.is_ok(), "{reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_closed_on_arrival_and_places_free_up() {
    let instance = InstanceSpec::echo()
        .workers(1, 16)
        .config(|c| {
            c.max_connections = 3;
            c.handshake_timeout = Duration::from_secs(60);
        })
        .start()
        .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(&instance.address).await.unwrap());
    }

    // The fourth is accepted and closed at once.
    let mut extra = TcpStream::connect(&instance.address).await.unwrap();
    let waited = closed_within(&mut extra, Duration::from_secs(5))
        .await
        .expect("a connection over the limit is closed");
    assert!(waited < Duration::from_secs(1), "closed after {waited:?}");
    assert_eq!(instance.server.stats().rejected_connections, 1);
    // The held ones are still open: the limit closes newcomers, not the connections it keeps.
    for socket in &mut held {
        assert_eq!(
            closed_within(socket, Duration::from_millis(200)).await,
            None
        );
    }

    // Once one of them goes, a real caller gets its place.
    drop(held.pop());
    let client = client(|c| {
        c.max_attempts = 1;
        c.ejection_min = Duration::from_millis(10);
        c.ejection_max = Duration::from_millis(50);
    });
    client.update_endpoints([instance.address.clone()]).unwrap();
    let start = Instant::now();
    loop {
        // The instance notices the dropped socket when it reads its EOF; until then a call is
        // refused at connect and fails UNAVAILABLE at once.
        if client
            .call("echo", Bytes::from_static(b"hi"), None)
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "a caller never got the freed place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
