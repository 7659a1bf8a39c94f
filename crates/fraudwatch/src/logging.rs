//! Structured logs on stderr (stdout is for a command's output).

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use crate::settings::LogSettings;

pub fn init(log: &LogSettings) {
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|e| {
        eprintln!(
            "warning: log filter {:?} is invalid ({e}); using \"info\"",
            log.level
        );
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
