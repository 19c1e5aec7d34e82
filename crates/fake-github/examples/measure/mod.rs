//! What the bench examples measure of a janitor run: its exit code and its own peak memory.

use std::process::Child;
use std::time::Duration;

/// Wait for `child` and return its exit code (-1 when a signal ended it) and its peak RSS
/// in KiB, read from `VmHWM` in /proc every 2 ms while it runs. Not wait4's `ru_maxrss`:
/// Linux carries the spawning process's high-water mark over `exec` (the fake in the bench
/// process holds every version and request), so that figure is the bench's, not the
/// janitor's.
pub fn wait_measured(mut child: Child) -> anyhow::Result<(i32, i64)> {
    let pid = child.id();
    let watcher = std::thread::spawn(move || peak_rss(pid));
    let status = child.wait()?;
    let peak = watcher.join().unwrap_or(0);
    Ok((status.code().unwrap_or(-1), peak))
}

fn peak_rss(pid: u32) -> i64 {
    let path = format!("/proc/{pid}/status");
    let mut peak = 0;
    while let Ok(status) = std::fs::read_to_string(&path) {
        let hwm = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok());
        match hwm {
            Some(kib) => peak = peak.max(kib),
            // A zombie has no memory lines any more: it has exited.
            None if peak > 0 => break,
            None => {}
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    peak
}
