//! [`Browser`]: headless Chromium driven over WebDriver with `fantoccini`, for tests of the
//! server-rendered pages.
//!
//! [`Browser::start`] starts `chromedriver` on a free loopback port (its own process group,
//! killed when the `Browser` is dropped), waits for it to say it is ready (bounded), and opens a
//! session on `chromium --headless=new --no-sandbox`. Screenshots go to
//! `<target dir>/test-output/<test name>/NN-<name>.png` where the target dir is
//! `$CARGO_TARGET_DIR`, else the directory the test binary was built in (`target/`);
//! `SLOTBOOK_TEST_OUTPUT` overrides the `test-output` root. Each start empties the test's folder.
//!
//! [`Browser::start_with`] takes [`Options`]: JavaScript off (Chrome's content setting
//! `profile.managed_default_content_settings.javascript = 2`, so pages run no script of their
//! own while WebDriver commands still work), the browser's time zone (`TZ` of chromedriver and
//! so of Chromium) and the window size. [`Browser::axe`] injects axe-core and returns the
//! serious and critical violations of the current page ([`axe_source`]: the copy `.ci/run`
//! installs with `npm ci --prefix .ci/axe`, or `$SLOTBOOK_AXE_JS`; missing, the test fails with
//! the install command).
//!
//! The binaries are `chromedriver` and `chromium` on `PATH` (Debian packages `chromium-driver`
//! and `chromium`; `.ci/run` installs them), or `SLOTBOOK_CHROMEDRIVER` / `SLOTBOOK_CHROMIUM`.
//! When either is missing the test **fails** with the install command: a browser test never
//! skips.

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Bound on chromedriver's start and on opening the browser session.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on one browser command ([`Browser::step`]).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// How to start the browser.
#[derive(Clone, Debug)]
pub struct Options {
    /// Run the pages' scripts (false: Chrome's JavaScript content setting is "block").
    pub javascript: bool,
    /// The browser's IANA time zone (`TZ`); `None` keeps the machine's.
    pub timezone: Option<String>,
    /// Window width and height in CSS pixels.
    pub window: (u32, u32),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            javascript: true,
            timezone: None,
            window: (1000, 900),
        }
    }
}

/// The axe-core version `.ci/axe/package.json` pins (checked against the loaded script).
pub const AXE_VERSION: &str = "4.14.1";

/// The source of axe-core (`axe.min.js`): `$SLOTBOOK_AXE_JS`, else `.ci/axe/node_modules/…` of
/// this checkout. Fails the test with the install command when it is missing.
pub fn axe_source() -> String {
    let path = match std::env::var_os("SLOTBOOK_AXE_JS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../.ci/axe/node_modules/axe-core/axe.min.js"),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core was not found at {} ({e}). The browser accessibility checks need it: run \
             `npm ci --prefix .ci/axe` in the repository root (installs axe-core {AXE_VERSION} \
             from .ci/axe/package-lock.json; .ci/run does this in CI), or point \
             SLOTBOOK_AXE_JS at an axe.min.js.",
            path.display()
        )
    })
}

/// One axe-core violation of impact `serious` or `critical`.
#[derive(Debug, Clone)]
pub struct AxeViolation {
    /// The rule id (`color-contrast`, `label`, …).
    pub id: String,
    /// `serious` or `critical`.
    pub impact: String,
    /// What the rule asks for.
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

/// A headless Chromium session and its chromedriver.
pub struct Browser {
    /// The WebDriver client (navigate, find, click, screenshot, …).
    pub client: Client,
    /// Where this test's screenshots go.
    pub output: PathBuf,
    shots: AtomicU32,
    axe: std::sync::OnceLock<String>,
    driver: Option<Child>,
    _profile: TempDir,
}

/// A temporary Chromium profile directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn find_binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn missing(what: &str, env: &str) -> ! {
    panic!(
        "{what} was not found on PATH (or in ${env}). The browser tests need Debian's \
         `chromium` and `chromium-driver`: run `sudo apt-get install -y chromium chromium-driver` \
         (.ci/run installs them in CI)."
    )
}

/// The folder of this test's screenshots (created, emptied).
pub fn output_dir(test: &str) -> PathBuf {
    let root = match std::env::var_os("SLOTBOOK_TEST_OUTPUT") {
        Some(p) => PathBuf::from(p),
        None => target_dir().join("test-output"),
    };
    let dir = root.join(test.replace("::", "-"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("creating the test output folder {}: {e}", dir.display()));
    dir
}

/// `$CARGO_TARGET_DIR`, else the target dir holding this test binary (`<target>/<profile>/deps/`).
fn target_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(p);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(std::env::temp_dir)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts chromedriver and waits (bounded) for its "started successfully" line.
fn start_driver(driver: &Path, port: u16, timezone: Option<&str>) -> Child {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(driver);
    if let Some(tz) = timezone {
        cmd.env("TZ", tz);
    }
    let mut child = cmd
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
    let stdout = child.stdout.take().expect("chromedriver stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref().map_while(Result::ok) {
            let ready = line.contains("started successfully");
            seen.push(line);
            if ready {
                let _ = tx.send(Ok(()));
                // Keep draining so chromedriver never blocks on a full pipe.
                for _ in lines.by_ref() {}
                return;
            }
        }
        let _ = tx.send(Err(seen.join("\n")));
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(Ok(())) => child,
        Ok(Err(out)) => {
            kill_group(&mut child);
            panic!("chromedriver exited before it was ready:\n{out}")
        }
        Err(_) => {
            kill_group(&mut child);
            panic!("chromedriver did not report ready within {START_TIMEOUT:?}")
        }
    }
}

/// Ends chromedriver and the browsers it started (one process group, ours by id).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session for the test `test` (the name of the
    /// screenshot folder). Fails the test when Chromium or chromedriver is missing.
    pub async fn start(test: &str) -> Browser {
        Self::start_with(test, Options::default()).await
    }

    /// As [`Browser::start`] with [`Options`] (JavaScript off, time zone, window size).
    pub async fn start_with(test: &str, options: Options) -> Browser {
        let driver = find_binary("SLOTBOOK_CHROMEDRIVER", &["chromedriver"])
            .unwrap_or_else(|| missing("chromedriver", "SLOTBOOK_CHROMEDRIVER"));
        let chromium = find_binary(
            "SLOTBOOK_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .unwrap_or_else(|| missing("chromium", "SLOTBOOK_CHROMIUM"));
        let output = output_dir(test);
        let profile = TempDir(std::env::temp_dir().join(format!(
            "slotbook-chromium-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        )));
        let port = free_port();
        let mut child = start_driver(&driver, port, options.timezone.as_deref());
        let mut caps = serde_json::Map::new();
        let (w, h) = options.window;
        let js = if options.javascript { 1 } else { 2 };
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": chromium.to_string_lossy(),
                "prefs": { "profile.managed_default_content_settings.javascript": js },
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    format!("--window-size={w},{h}"),
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let session = tokio::time::timeout(
            START_TIMEOUT,
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await;
        let client = match session {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                kill_group(&mut child);
                panic!("opening a Chromium session through chromedriver failed: {e}")
            }
            Err(_) => {
                kill_group(&mut child);
                panic!("opening a Chromium session took more than {START_TIMEOUT:?}")
            }
        };
        Browser {
            client,
            output,
            shots: AtomicU32::new(0),
            axe: std::sync::OnceLock::new(),
            driver: Some(child),
            _profile: profile,
        }
    }

    /// Runs one browser command with [`STEP_TIMEOUT`]; a failure or timeout fails the test
    /// naming `what`.
    pub async fn step<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> T {
        match tokio::time::timeout(STEP_TIMEOUT, fut).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => panic!("browser: {what}: {e}"),
            Err(_) => panic!("browser: {what}: no answer within {STEP_TIMEOUT:?}"),
        }
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.step(&format!("open {url}"), self.client.goto(url))
            .await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.step("read the URL", self.client.current_url())
            .await
            .to_string()
    }

    /// Waits (at most [`STEP_TIMEOUT`]) until the current URL satisfies `pred`; returns it.
    pub async fn wait_for_url(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            let url = self.url().await;
            if pred(&url) {
                return url;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("browser: waiting for {what}: still at {url} after {STEP_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (at most [`STEP_TIMEOUT`]) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) {
        self.step(
            &format!("wait for {css}"),
            self.client
                .wait()
                .at_most(STEP_TIMEOUT)
                .for_element(Locator::Css(css)),
        )
        .await;
    }

    /// The page's visible text (`document.body.innerText`).
    pub async fn text(&self) -> String {
        let body = self
            .step("find <body>", self.client.find(Locator::Css("body")))
            .await;
        self.step("read the text", body.text()).await
    }

    /// Types `text` into the element matching `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self
            .step(&format!("find {css}"), self.client.find(Locator::Css(css)))
            .await;
        self.step(&format!("type into {css}"), e.send_keys(text))
            .await;
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let e = self
            .step(&format!("find {css}"), self.client.find(Locator::Css(css)))
            .await;
        self.step(&format!("click {css}"), e.click()).await;
    }

    /// Saves a PNG screenshot of the viewport as `NN-<name>.png` in [`Browser::output`] and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .step("take a screenshot", self.client.screenshot())
            .await;
        let n = self.shots.fetch_add(1, Ordering::Relaxed) + 1;
        let path = self.output.join(format!("{n:02}-{name}.png"));
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("writing the screenshot {}: {e}", path.display()));
        path
    }

    /// The attribute `name` of the element matching `css` (`None` when it has none).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self
            .step(&format!("find {css}"), self.client.find(Locator::Css(css)))
            .await;
        self.step(&format!("read {name} of {css}"), e.attr(name))
            .await
    }

    /// The visible text of the element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        let e = self
            .step(&format!("find {css}"), self.client.find(Locator::Css(css)))
            .await;
        self.step(&format!("read the text of {css}"), e.text())
            .await
    }

    /// Empties the field matching `css`.
    pub async fn clear(&self, css: &str) {
        let e = self
            .step(&format!("find {css}"), self.client.find(Locator::Css(css)))
            .await;
        self.step(&format!("clear {css}"), e.clear()).await;
    }

    /// Selects the option labelled `label` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, label: &str) {
        let e = self
            .step(&format!("find {css}"), self.client.find(Locator::Css(css)))
            .await;
        self.step(
            &format!("select {label} in {css}"),
            e.select_by_label(label),
        )
        .await;
    }

    /// Resizes the window (CSS pixels), e.g. to a phone's 375 px width.
    pub async fn resize(&self, width: u32, height: u32) {
        self.step(
            &format!("resize the window to {width}x{height}"),
            self.client.set_window_size(width, height),
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) through WebDriver and returns
    /// its value. Works with the page's JavaScript off too: WebDriver's own scripts are not
    /// page scripts.
    pub async fn execute(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.step("run a script", self.client.execute(script, args))
            .await
    }

    /// Injects axe-core ([`axe_source`]) into the current page, runs it over the whole document
    /// with the WCAG 2.x A/AA and best-practice rules, and returns its violations of impact
    /// `serious` or `critical` (an empty list is a pass). Fails the test when axe-core is not
    /// installed or is not version [`AXE_VERSION`].
    pub async fn axe(&self) -> Vec<AxeViolation> {
        let source = self.axe.get_or_init(axe_source);
        let version = self
            .execute(&format!("{source}\n;return axe.version;"), vec![])
            .await;
        assert_eq!(
            version.as_str(),
            Some(AXE_VERSION),
            "the axe-core under .ci/axe is not the pinned version: run `npm ci --prefix .ci/axe`"
        );
        let out = self
            .step(
                "run axe-core",
                self.client.execute_async(
                    r#"const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"], runOnly: { type: "tag",
  values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } })
  .then(r => done(JSON.stringify(r.violations.map(v => ({ id: v.id, impact: v.impact,
    help: v.help, targets: v.nodes.map(n => n.target.join(" ")) })))))
  .catch(e => done("error: " + e));"#,
                    vec![],
                ),
            )
            .await;
        let text = out.as_str().unwrap_or_default();
        let list: Vec<serde_json::Value> = serde_json::from_str(text)
            .unwrap_or_else(|_| panic!("axe-core did not report: {text}"));
        list.into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| AxeViolation {
                id: v["id"].as_str().unwrap_or_default().to_owned(),
                impact: v["impact"].as_str().unwrap_or_default().to_owned(),
                help: v["help"].as_str().unwrap_or_default().to_owned(),
                targets: v["targets"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Ends the session (closes Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = tokio::time::timeout(STEP_TIMEOUT, client.close()).await;
        if let Some(mut d) = self.driver.take() {
            kill_group(&mut d);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            kill_group(&mut d);
        }
    }
}
