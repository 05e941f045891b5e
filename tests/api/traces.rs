//! Traces, against the real binary and an OTLP receiver in this process (HTTP/protobuf, decoded with
//! `opentelemetry-proto`): a request's spans arrive with the request span as the parent of its store call, with
//! route, method, status and the store operation as attributes, continuing an incoming `traceparent`; the trace and
//! span ids in the JSON log lines are those of the exported spans. With the collector down or never answering,
//! requests are not slowed, memory stays bounded and one warning is logged, not one per batch.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::Value;

use crate::helpers::{Backend, TestDatabase, beer_catalog_on, sample_beer};

/// Spans the receiver was sent, with their service's name.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

impl Received {
    fn spans(&self) -> Vec<(String, Span)> {
        self.0.lock().unwrap().clone()
    }
}

async fn export(State(received): State<Received>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
    let mut spans = received.0.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|resource| &resource.attributes)
            .find(|attribute| attribute.key == "service.name")
            .and_then(|attribute| text(attribute.value.as_ref()?.value.as_ref()?))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            spans.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
        }
    }
    ExportTraceServiceResponse::default().encode_to_vec()
}

fn text(value: &AnyValue) -> Option<String> {
    match value {
        AnyValue::StringValue(text) => Some(text.clone()),
        AnyValue::IntValue(number) => Some(number.to_string()),
        _ => None,
    }
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| text(attribute.value.as_ref()?.value.as_ref()?))
}

/// An OTLP/HTTP receiver on a free port: its endpoint URL and what it receives.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let router = axum::Router::new()
        .route("/v1/traces", post(export))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (endpoint, received)
}

/// A collector that accepts connections and never answers (a hung one).
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    endpoint
}

/// An address nothing listens on (a collector that is down).
fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary serving on a free port with JSON logs at info, its stderr lines collected; killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
    client: reqwest::Client,
    _database: TestDatabase,
}

impl Server {
    /// `otel`: the endpoint to export to, or none (traces off); every request traced.
    async fn start(otel: Option<&str>) -> Self {
        Self::start_sampling(otel, Some("parentbased_always_on")).await
    }

    /// As [`Server::start`], with `OTEL_TRACES_SAMPLER` set to `sampler` (`None`: the service's default).
    async fn start_sampling(otel: Option<&str>, sampler: Option<&str>) -> Self {
        let database = TestDatabase::create(Backend::Sqlite).await;
        let port = free_port();
        let mut command = beer_catalog_on(&database.url);
        command
            .env("PORT", port.to_string())
            .env("BIND_ADDRESS", "127.0.0.1")
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "info")
            .env("RATE_LIMIT_PER_HOUR", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(endpoint) = otel {
            // Batches every 100 ms rather than 5 s, so the test does not wait. Everything else is the default.
            command
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
                .env("OTEL_SERVICE_NAME", "beer-catalog-test")
                .env("OTEL_BSP_SCHEDULE_DELAY", "100");
            if let Some(sampler) = sampler {
                command.env("OTEL_TRACES_SAMPLER", sampler);
            }
        }
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            client: reqwest::Client::new(),
            _database: database,
        };
        let started = Instant::now();
        while server.client.get(server.url("/health")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the server did not start: {:?}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The JSON log lines whose message is `message`.
    fn lines(&self, message: &str) -> Vec<Value> {
        self.log()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["message"] == message)
            .collect()
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// `requests` GETs of the list over 8 connections; the 99th percentile of their latencies.
    async fn p99_of(&self, requests: usize) -> Duration {
        let url = self.url("/beers");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (client, url) = (self.client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    for _ in 0..requests / 8 {
                        let started = Instant::now();
                        let response = client.get(&url).send().await.unwrap();
                        assert_eq!(response.status(), 200);
                        response.bytes().await.unwrap();
                        latencies.push(started.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        latencies.sort_unstable();
        latencies[latencies.len() * 99 / 100]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{what} did not arrive within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";
const UNSAMPLED_TRACE_ID: &str = "5c0a1e2b3d4f5a6b7c8d9e0f1a2b3c4d";
const LAST_TRACE_ID: &str = "6d1b2f3c4e5a6b7c8d9e0f1a2b3c4d5e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_and_its_store_call_are_exported_as_parent_and_child_continuing_the_callers_trace() {
    let (endpoint, received) = receiver().await;
    let server = Server::start(Some(&endpoint)).await;

    let response = server
        .client
        .post(server.url("/beers"))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .json(&sample_beer("Traced Ale"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let (request, store) = wait_for("the request's spans", || {
        let spans = received.spans();
        let find = |name: &str| {
            spans
                .iter()
                .find(|(_, span)| span.name == name && hex(&span.trace_id) == TRACE_ID)
                .cloned()
        };
        Some((find("request")?, find("store.create")?))
    })
    .await;
    let ((service, request), (_, store)) = (request, store);
    assert_eq!(service, "beer-catalog-test", "OTEL_SERVICE_NAME names the service");
    // The caller's trace, continued: the request span's parent is the caller's span.
    assert_eq!(hex(&request.parent_span_id), CALLER_SPAN_ID);
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(attribute(&request, "route").as_deref(), Some("/beers"));
    assert_eq!(attribute(&request, "method").as_deref(), Some("POST"));
    assert_eq!(attribute(&request, "status").as_deref(), Some("201"));
    // The store call is the request's child, named by its operation.
    assert_eq!(store.parent_span_id, request.span_id);
    assert_eq!(attribute(&store, "db.operation.name").as_deref(), Some("create"));
    assert!(store.start_time_unix_nano >= request.start_time_unix_nano);
    assert!(store.end_time_unix_nano <= request.end_time_unix_nano);

    // The request's log line carries the exported ids: from the trace in X-Ray to its log lines.
    let line = wait_for("the request's log line", || {
        server
            .lines("request")
            .into_iter()
            .find(|line| line["method"] == "POST")
    })
    .await;
    assert_eq!(line["trace_id"], TRACE_ID, "{line}");
    assert_eq!(line["span_id"], hex(&request.span_id), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_traceparent_starts_a_trace_whose_id_its_log_line_names() {
    let (endpoint, received) = receiver().await;
    let server = Server::start(Some(&endpoint)).await;
    assert_eq!(
        server
            .client
            .get(server.url("/beers/404404"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let request = wait_for("the request span", || {
        received
            .spans()
            .into_iter()
            .map(|(_, span)| span)
            .find(|span| span.name == "request" && attribute(span, "route").as_deref() == Some("/beers/{id}"))
    })
    .await;
    assert!(request.parent_span_id.is_empty(), "a root span");
    assert_eq!(attribute(&request, "status").as_deref(), Some("404"));
    let line = wait_for("the request's log line", || server.lines("request").into_iter().next()).await;
    assert_eq!(line["trace_id"], hex(&request.trace_id), "{line}");
    assert_eq!(line["span_id"], hex(&request.span_id), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_nothing_is_exported_and_log_lines_have_no_trace_ids() {
    let server = Server::start(None).await;
    assert_eq!(
        server.client.get(server.url("/beers")).send().await.unwrap().status(),
        200
    );
    let line = wait_for("the request's log line", || server.lines("request").into_iter().next()).await;
    assert!(line.get("trace_id").is_none(), "{line}");
}

/// Without `OTEL_TRACES_SAMPLER`, about one request in twenty starts a trace (X-Ray's default rate), and a caller's
/// decision is followed: its `traceparent` says it samples, always; it does not, never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_twentieth_of_requests_are_traced_and_a_sampled_caller_always_is() {
    let (endpoint, received) = receiver().await;
    let server = Server::start_sampling(Some(&endpoint), None).await;
    for _ in 0..400 {
        assert_eq!(
            server.client.get(server.url("/beers")).send().await.unwrap().status(),
            200
        );
    }
    let caller = server
        .client
        .get(server.url("/beers"))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(caller.status(), 200);
    for _ in 0..50 {
        let unsampled = server
            .client
            .get(server.url("/beers"))
            .header("traceparent", format!("00-{UNSAMPLED_TRACE_ID}-{CALLER_SPAN_ID}-00"))
            .send()
            .await
            .unwrap();
        assert_eq!(unsampled.status(), 200);
    }
    let last = server
        .client
        .get(server.url("/beers"))
        .header("traceparent", format!("00-{LAST_TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 200);
    wait_for("the sampled callers' spans", || {
        received
            .spans()
            .iter()
            .any(|(_, span)| hex(&span.trace_id) == LAST_TRACE_ID)
            .then_some(())
    })
    .await;
    let spans = received.spans();
    assert!(spans.iter().any(|(_, span)| hex(&span.trace_id) == TRACE_ID));
    // Exported in order, so by the time the last caller's span is in, an unsampled caller's would be too.
    assert!(
        !spans.iter().any(|(_, span)| hex(&span.trace_id) == UNSAMPLED_TRACE_ID),
        "a caller that does not sample was traced"
    );
    let roots = spans
        .iter()
        .filter(|(_, span)| {
            span.name == "request" && ![TRACE_ID, LAST_TRACE_ID].contains(&hex(&span.trace_id).as_str())
        })
        .count();
    // 5% of 400 is 20; the odds of fewer than 4 or more than 50 are below one in a million.
    assert!((4..=50).contains(&roots), "{roots} of 400 requests traced");
}

/// A sampler this build does not know (X-Ray's remote rules, say) is not guessed at: the service serves without
/// traces and says why, naming the rules it knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_sampler_turns_traces_off_saying_which_rules_work() {
    let (endpoint, received) = receiver().await;
    let server = Server::start_sampling(Some(&endpoint), Some("xray")).await;
    assert_eq!(
        server.client.get(server.url("/beers")).send().await.unwrap().status(),
        200
    );
    let warning = wait_for("the warning", || server.lines("traces are OFF").into_iter().next()).await;
    let error = warning["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("OTEL_TRACES_SAMPLER=\"xray\"") && error.contains("parentbased_traceidratio"),
        "{warning}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(received.spans().is_empty(), "nothing is exported");
}

/// The same short run with traces off, and exporting to a collector that is down, then to one that never
/// answers: no request waits on the exporter, memory stays bounded while spans cannot leave, and the failure is
/// logged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_or_hung_costs_requests_nothing_and_is_logged_once() {
    const RUN: usize = 2_000;
    let off = Server::start(None).await;
    off.p99_of(RUN).await; // warm-up
    let p99_off = off.p99_of(RUN).await;
    drop(off);

    for (what, endpoint) in [("down", closed_endpoint()), ("hung", black_hole().await)] {
        let server = Server::start(Some(&endpoint)).await;
        // Warm-up: the exporter's queue fills, and the allocator's per-thread pages reach their working set (with
        // mimalloc one run of 2,000 was not enough: the next 8,000 still grew by 4-5 MiB, then by under 50 KiB).
        for _ in 0..3 {
            server.p99_of(RUN).await;
        }
        let rss_before = server.rss_kib();
        let p99 = server.p99_of(RUN).await;
        for _ in 0..3 {
            server.p99_of(RUN).await;
        }
        let grown_kib = server.rss_kib().saturating_sub(rss_before);
        eprintln!("collector {what}: p99 {p99:?} (traces off: {p99_off:?}), memory grew {grown_kib} KiB");
        // Unbounded, 8,000 requests' spans (about 1 KiB each) would hold about 8 MiB.
        assert!(
            grown_kib < 4 * 1024,
            "collector {what}: memory grew {grown_kib} KiB over 8,000 requests"
        );
        // A request that waited on the exporter would wait for its timeout (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s), or
        // for a connect to a black hole: seconds. Half a second tells that apart from a loaded machine's noise
        // (p99s of 30-90 ms were seen under a load average of 17) without timing the service; what tracing costs
        // per request is measured by `bench/instructions --telemetry`, not here.
        let bound = Duration::from_millis(500).max(p99_off * 2);
        assert!(
            p99 <= bound,
            "collector {what}: p99 {p99:?} against {p99_off:?} with traces off: requests wait on the exporter"
        );
        if what == "down" {
            let warnings: Vec<String> = server
                .log()
                .into_iter()
                .filter(|line| line.contains("cannot export traces"))
                .collect();
            assert_eq!(warnings.len(), 1, "one warning, not one per batch: {warnings:#?}");
            assert!(warnings[0].contains("\"level\":\"WARN\""), "{}", warnings[0]);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
