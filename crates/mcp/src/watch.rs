//! Reload: the manifest (or a component it names) changing on disk is
//! validated and served (its `[monitor]` rules too), and announced with `notifications/tools/list_changed`;
//! an invalid edit keeps what is served and says why on stderr.

use crate::catalog::Catalog;
use crate::say;
use crate::server::Shared;
use agentbox_policy::Manifest;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the files are looked at (a stat each: cheap, and no inotify
/// limits or missed events on editors that replace files).
const POLL: Duration = Duration::from_millis(250);

/// What identifies a file's version: device, inode, size, modification time.
type Stamp = Option<(u64, u64, u64, i64, i64)>;

fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

/// The manifest and every component the served catalog runs.
fn stamps(manifest: &Path, catalog: &Catalog) -> Vec<(PathBuf, Stamp)> {
    let mut paths = vec![manifest.to_path_buf()];
    paths.extend(
        catalog
            .tools
            .values()
            .filter_map(|e| e.spec.component.clone()),
    );
    paths.into_iter().map(|p| (p.clone(), stamp(&p))).collect()
}

pub(crate) async fn watch(shared: Arc<Shared>, manifest: PathBuf) {
    let mut seen = stamps(&manifest, &shared.catalog());
    loop {
        tokio::time::sleep(POLL).await;
        let now = stamps(&manifest, &shared.catalog());
        if now == seen {
            continue;
        }
        // Let a write in progress finish before reading.
        tokio::time::sleep(POLL).await;
        seen = stamps(&manifest, &shared.catalog());
        let path = manifest.clone();
        let loaded = tokio::task::spawn_blocking(move || Manifest::load(&path)).await;
        let next = match loaded {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                say(format!(
                    "{} changed but is not valid; still serving the previous version: {e}",
                    manifest.display()
                ));
                continue;
            }
            Err(_) => continue,
        };
        // The monitor's rules change with the manifest; a baseline that cannot
        // be read keeps everything as it was.
        let policy = next.monitor.clone();
        let baseline =
            match tokio::task::spawn_blocking(move || crate::monitor::load_baseline(&policy)).await
            {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    say(format!(
                        "{} changed but {e}; still serving the previous version",
                        manifest.display()
                    ));
                    continue;
                }
                Err(_) => continue,
            };
        shared.watch.set(&next.monitor, baseline);
        let build = shared.clone();
        let built = tokio::task::spawn_blocking(move || {
            Catalog::build(&build.sup, next, build.max_concurrent)
        })
        .await;
        let Ok(catalog) = built else { continue };
        let names: Vec<String> = catalog.tools.keys().cloned().collect();
        // The components it now runs are watched from here on.
        seen = stamps(&manifest, &catalog);
        let old = shared.replace_catalog(catalog);
        // Tearing its idle workers down blocks: not on the runtime's threads.
        tokio::task::spawn_blocking(move || drop(old));
        say(format!(
            "reloaded {}: serving {}",
            manifest.display(),
            names.join(", ")
        ));
        shared.announce_list_changed().await;
    }
}
