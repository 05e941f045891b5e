//! The `/docs` page's `curl` examples, run as a reader would run them: copied from the page, in a shell, against
//! the server. They once failed as written (an upload that sent no file, a `-X HEAD` that hung).

use std::process::Command;

use beer_catalog::storage::ImportRecord;

use crate::helpers::{Backend, TestApp, sample_beer};

/// The text of every `<pre class="example"><code>` on the page, unescaped.
fn examples(html: &str) -> Vec<String> {
    html.split("<pre class=\"example\"><code>")
        .skip(1)
        .map(|rest| {
            rest.split("</code></pre>")
                .next()
                .unwrap()
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The status of the last answer in curl's output (`-i`, `-I` and `-D -` all print the status line).
fn last_status(output: &str) -> Option<u16> {
    output
        .lines()
        .rev()
        .filter(|line| line.starts_with("HTTP/"))
        .find_map(|line| line.split_whitespace().nth(1)?.parse().ok())
}

/// Beer 1 as each example expects it: present, with a label.
async fn reset_beer_1(app: &TestApp, label: &[u8]) {
    let fields = serde_json::from_value(sample_beer("Example Pale")).unwrap();
    let record = ImportRecord {
        id: Some(1),
        fields,
        image: None,
    };
    app.catalog.writes().import(&[record], &|_| {}).await.unwrap();
    let response = app
        .client
        .put(app.url("/beers/1/image"))
        .bearer_auth("docs-key")
        .body(label.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs bash, curl and jq, as the page's examples do: run with --include-ignored (.ci/run does)"]
async fn every_example_on_the_docs_page_works_as_written() {
    let app = TestApp::spawn_with(Backend::Sqlite, &["--api-keys", "docs-key"], |_| {}).await;
    let html = app.get("/docs").await.text().await.unwrap();
    let examples = examples(&html);
    assert!(examples.len() >= 14, "{} examples", examples.len());
    let dir = std::env::temp_dir().join(format!("docs-examples-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let label = crate::images::png(8, 8, 1);
    std::fs::write(dir.join("label.png"), &label).unwrap();
    let mut failures = Vec::new();
    for example in &examples {
        assert!(example.contains(&app.address), "the page's own address: {example}");
        reset_beer_1(&app, &label).await;
        // Bounded: an example that waits for an answer that never comes (`curl -X HEAD`) fails instead of hanging.
        let output = Command::new("timeout")
            .args(["20", "bash", "-c", example])
            .current_dir(&dir)
            .env("API_KEY", "docs-key")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let status = last_status(&stdout);
        if !output.status.success() || !status.is_some_and(|s| (200..300).contains(&s)) {
            failures.push(format!(
                "{example}\n=> exit {:?}, status {status:?}\n{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if example.contains("-o label-copy.png") {
            assert_eq!(std::fs::read(dir.join("label-copy.png")).unwrap(), label, "{example}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
