//! Connections a slow or hostile client holds open (issue 19, slowloris): headers trickled byte by byte are cut at
//! the header-read deadline, idle keep-alive connections at the idle deadline, and past the connection cap (or
//! near the open-file limit) new clients get a fast 503 instead of a hang.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_independent_tests;
use crate::helpers::{TestApp, binary, free_port};

/// Reads until the server closes the connection (or `limit` passes): what it sent, and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (String::from_utf8_lossy(&received).into_owned(), Some(started.elapsed()));
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), None),
        }
    }
}

/// One request on a fresh connection, `Connection: close`: the status line, or what went wrong, within `limit`.
async fn status_line(port: u16, path: &str, limit: Duration) -> Result<String, String> {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let (answer, _) = read_until_closed(&mut stream, limit).await;
        answer
            .lines()
            .next()
            .map(str::to_owned)
            .ok_or_else(|| "no answer".to_owned())
    };
    tokio::time::timeout(limit, attempt)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {limit:?}")))
}

/// A connection that has sent the start of a request and never finishes its headers.
async fn unfinished_request(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nx-slow: ")
        .await
        .unwrap();
    stream
}

backend_independent_tests! {
    async fn headers_trickled_byte_by_byte_are_cut_at_the_header_read_deadline(backend) {
        let app = TestApp::spawn_with(backend, &["--header-read-timeout-secs", "1"], |_| {}).await;
        let mut stream = unfinished_request(app.port()).await;
        let started = Instant::now();
        // One byte every 200 ms: each byte arrives well within any per-read timeout, the head never completes.
        let mut closed_after = None;
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if stream.write_all(b"a").await.is_err() {
                closed_after = Some(started.elapsed());
                break;
            }
            let mut probe = [0u8; 1];
            if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await {
                closed_after = Some(started.elapsed());
                break;
            }
        }
        let closed_after = closed_after.expect("the trickling connection was still open after 5 s");
        assert!(closed_after < Duration::from_secs(3), "closed after {closed_after:?}, deadline 1 s");
        // The server is fine for everyone else.
        assert_eq!(status_line(app.port(), "/health", Duration::from_secs(5)).await.unwrap(), "HTTP/1.1 200 OK");
    }

    async fn an_idle_keep_alive_connection_is_closed_at_the_idle_deadline_not_the_header_one(backend) {
        let app = TestApp::spawn_with(
            backend,
            &["--header-read-timeout-secs", "1", "--keep-alive-timeout-secs", "3"],
            |_| {},
        )
        .await;
        let mut stream = TcpStream::connect(("127.0.0.1", app.port())).await.unwrap();
        let request = b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n";
        let mut buffer = [0u8; 4096];
        for _ in 0..2 {
            stream.write_all(request).await.unwrap();
            let n = stream.read(&mut buffer).await.unwrap();
            assert!(buffer[..n].starts_with(b"HTTP/1.1 200 OK"), "{}", String::from_utf8_lossy(&buffer[..n]));
            // Idle for longer than the header-read deadline: keep-alive must outlast it.
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        let (_, closed_after) = read_until_closed(&mut stream, Duration::from_secs(6)).await;
        let closed_after = closed_after.expect("the idle connection was still open 6 s later");
        assert!(
            closed_after < Duration::from_secs(3),
            "closed {closed_after:?} after 1.5 s idle; deadline 3 s idle"
        );
    }

    async fn a_connection_over_the_cap_gets_a_fast_503_and_service_resumes_below_it(backend) {
        let app = TestApp::spawn_with(
            backend,
            &["--max-connections", "4", "--header-read-timeout-secs", "30"],
            |_| {},
        )
        .await;
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(unfinished_request(app.port()).await);
        }
        // Let the server accept all four before the fifth arrives.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let mut stream = TcpStream::connect(("127.0.0.1", app.port())).await.unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{answer}");
        assert!(answer.contains("retry-after: 1\r\n") && answer.contains("cache-control: no-store\r\n"), "{answer}");
        assert!(answer.contains(r#""detail":"the server is at its connection limit; retry shortly""#), "{answer}");
        assert!(closed.is_some() && started.elapsed() < Duration::from_secs(1), "refusal took {:?}", started.elapsed());
        drop(held);
        let mut answered = None;
        for _ in 0..50 {
            if let Ok(line) = status_line(app.port(), "/health", Duration::from_secs(2)).await
                && line == "HTTP/1.1 200 OK"
            {
                answered = Some(line);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(answered.is_some(), "still refused after the held connections closed");
    }

    async fn a_head_over_64_kib_is_refused_not_buffered(backend) {
        let app = TestApp::spawn(backend).await;
        let mut stream = TcpStream::connect(("127.0.0.1", app.port())).await.unwrap();
        let header = format!("GET /health HTTP/1.1\r\nhost: localhost\r\nx-big: {}\r\n\r\n", "a".repeat(70 * 1024));
        let _ = stream.write_all(header.as_bytes()).await;
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        assert!(closed.is_some(), "the connection stayed open after a 431");
    }
}

/// The reviewer's scenario: the process may open 128 files, 150 connections hold unfinished headers. Before, every
/// accept failed with EMFILE and `GET /health` timed out; now the cap fits under the limit, clients over it get a
/// fast 503, and once the header-read deadline cuts the held connections the service answers 200 again.
#[test]
fn held_connections_under_a_128_file_limit_degrade_to_fast_refusals_not_accept_errors() {
    let dir = std::env::temp_dir().join(format!("fd-limit-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut server = std::process::Command::new("prlimit")
        .arg("--nofile=128:128")
        .arg(binary().get_program())
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", format!("sqlite://{}/beers.db", dir.display()))
        .env("LOG_LEVEL", "warn")
        .env("LOG_FORMAT", "json")
        .env("PORT", port.to_string())
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("HEADER_READ_TIMEOUT_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime.block_on(async {
        let mut ready = false;
        for _ in 0..100 {
            if status_line(port, "/health", Duration::from_secs(1)).await.is_ok() {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "the server did not start");
        let mut held = Vec::new();
        for _ in 0..150 {
            held.push(unfinished_request(port).await);
        }
        // The server refuses the held connections over the cap (each refusal takes at most 750 ms).
        tokio::time::sleep(Duration::from_millis(1000)).await;
        // While they are held: every new client is answered at once (200 while under the cap, else 503).
        let mut answers = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let line = status_line(port, "/health", Duration::from_secs(2)).await;
            answers.push((line, started.elapsed()));
        }
        // After the header-read deadline the held connections are gone and the service answers 200.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let after = status_line(port, "/health", Duration::from_secs(2)).await;
        drop(held);
        (answers, after)
    });
    let _ = server.kill();
    let output = server.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (answers, after) = outcome;
    for (line, took) in &answers {
        let line = line
            .as_deref()
            .unwrap_or_else(|error| panic!("no answer while connections were held: {error}"));
        assert!(
            line == "HTTP/1.1 503 Service Unavailable" || line == "HTTP/1.1 200 OK",
            "{line}"
        );
        assert!(*took < Duration::from_secs(1), "answered after {took:?}");
    }
    assert!(
        answers
            .iter()
            .any(|(line, _)| line.as_deref() == Ok("HTTP/1.1 503 Service Unavailable")),
        "{answers:?}"
    );
    assert_eq!(after.as_deref(), Ok("HTTP/1.1 200 OK"));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("connection cap reached"), "{log}");
}
