//! HTTP to an MLflow tracking server: JSON calls under `api/2.0/mlflow/`, artifact files under
//! `api/2.0/mlflow-artifacts/artifacts/`. Every request has a timeout; connection failures and
//! 5xx answers are retried a few times with a growing pause, anything else is reported at once
//! with MLflow's `error_code` and message.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::RegistryError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Generous: a bundle with a large reference sample is megabytes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(200);
/// MLflow's messages can carry a whole SQL statement; the first line says what matters.
const MESSAGE_LIMIT: usize = 400;

#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `http(s)://host:port/prefix/`.
    base: Url,
}

impl Client {
    pub(crate) fn new(base: Url) -> Result<Self, RegistryError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| RegistryError::BadUrl {
                url: base.to_string(),
                reason: format!("cannot build an HTTP client: {}", chain(&e)),
            })?;
        Ok(Client { http, base })
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// `GET api/2.0/mlflow/<endpoint>?query`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> Result<T, RegistryError> {
        let url = self.api_url(endpoint, query)?;
        let response = self.send(Method::GET, url.clone(), |r| r).await?;
        read_json(&Method::GET, &url, response).await
    }

    /// `POST` (or `DELETE`, `PATCH`) `api/2.0/mlflow/<endpoint>` with a JSON body.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<T, RegistryError> {
        let url = self.api_url(endpoint, &[])?;
        let response = self
            .send(method.clone(), url.clone(), |r| r.json(body))
            .await?;
        read_json(&method, &url, response).await
    }

    /// Uploads one artifact file (`path` as in the run's `mlflow-artifacts:/` URI).
    pub(crate) async fn put_artifact(
        &self,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), RegistryError> {
        let url = self.artifact_url(path)?;
        self.send(Method::PUT, url, |r| {
            r.header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone())
        })
        .await
        .map(drop)
    }

    /// Downloads one artifact file.
    pub(crate) async fn get_artifact(&self, path: &str) -> Result<Vec<u8>, RegistryError> {
        let url = self.artifact_url(path)?;
        let response = self.send(Method::GET, url.clone(), |r| r).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| no_answer(&Method::GET, &url, 1, &e))?;
        Ok(bytes.to_vec())
    }

    fn api_url(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Url, RegistryError> {
        let mut url = self.join(&format!("api/2.0/mlflow/{endpoint}"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn artifact_url(&self, path: &str) -> Result<Url, RegistryError> {
        let mut url = self.join("api/2.0/mlflow-artifacts/artifacts")?;
        url.path_segments_mut()
            .map_err(|()| self.bad_base("it cannot have a path"))?
            .extend(path.split('/').filter(|s| !s.is_empty()));
        Ok(url)
    }

    fn join(&self, path: &str) -> Result<Url, RegistryError> {
        self.base
            .join(path)
            .map_err(|e| self.bad_base(&e.to_string()))
    }

    fn bad_base(&self, reason: &str) -> RegistryError {
        RegistryError::BadUrl {
            url: self.base.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Sends a request, retrying connection failures and 5xx answers; returns a 2xx response or
    /// the error answer as [`RegistryError::Mlflow`].
    async fn send(
        &self,
        method: Method,
        url: Url,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let mut pause = FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            let last = attempt == ATTEMPTS;
            let request = build(self.http.request(method.clone(), url.clone()));
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if response.status().is_server_error() && !last => {
                    tracing::warn!(%method, %url, status = %response.status(), attempt, "MLflow failed; retrying");
                }
                Ok(response) => return Err(error_answer(&method, &url, response).await),
                // Not sent at all, so safe to repeat; a timeout may have been acted on, so not.
                Err(e) if e.is_connect() && !last => {
                    tracing::warn!(%method, %url, error = %chain(&e), attempt, "MLflow unreachable; retrying");
                }
                Err(e) => return Err(no_answer(&method, &url, attempt, &e)),
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
            attempt += 1;
        }
    }
}

async fn read_json<T: DeserializeOwned>(
    method: &Method,
    url: &Url,
    response: Response,
) -> Result<T, RegistryError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| no_answer(method, url, 1, &e))?;
    serde_json::from_slice(&bytes).map_err(|e| RegistryError::Corrupt {
        what: format!("{method} {url}"),
        reason: format!(
            "unexpected answer ({e}): {}",
            clip(&String::from_utf8_lossy(&bytes))
        ),
    })
}

/// MLflow's error document `{"error_code": …, "message": …}`, or the start of whatever else
/// answered (a proxy's HTML page, say).
async fn error_answer(method: &Method, url: &Url, response: Response) -> RegistryError {
    #[derive(serde::Deserialize)]
    struct ErrorDocument {
        error_code: String,
        #[serde(default)]
        message: String,
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let (error_code, message) = match serde_json::from_str::<ErrorDocument>(&text) {
        Ok(doc) => (doc.error_code, clip(&doc.message)),
        Err(_) => (
            String::new(),
            format!(
                "not an MLflow error answer: {}",
                clip(&text.split_whitespace().collect::<Vec<_>>().join(" "))
            ),
        ),
    };
    RegistryError::Mlflow {
        method: method.to_string(),
        url: url.to_string(),
        status: status.as_u16(),
        error_code,
        message,
    }
}

fn no_answer(method: &Method, url: &Url, attempts: u32, e: &reqwest::Error) -> RegistryError {
    // reqwest's own message repeats the URL; its causes say what happened.
    let causes = std::error::Error::source(e).map_or_else(|| e.to_string(), chain);
    let reason = if e.is_timeout() {
        format!("timed out ({causes})")
    } else {
        causes
    };
    RegistryError::Unreachable {
        method: method.to_string(),
        url: url.to_string(),
        attempts,
        reason,
    }
}

/// An error with its causes ("error sending request: … : Connection refused").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

fn clip(text: &str) -> String {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    match first.char_indices().nth(MESSAGE_LIMIT) {
        Some((at, _)) => format!("{}…", &first[..at]),
        None => first.to_string(),
    }
}

/// Whether an answer has this status and MLflow error code.
pub(crate) fn is_answer(e: &RegistryError, status: StatusCode, code: &str) -> bool {
    e.http_status() == Some(status.as_u16()) && e.mlflow_code() == Some(code)
}
