//! The start of every confined worker: receive the start message, confine this
//! process by [`crate::apply`], tell the supervisor. Shared by the production worker
//! and the breakout suite's native probe (`agentbox-probe`), so that the probe runs
//! under exactly the confinement a tool gets.

use crate::{ConfineError, Grant, Plan};
use agentbox_ipc::{Channel, MAX_START_FRAME, Start, ToSupervisor, ToWorker};

/// Why a worker could not get to the point of running its tool.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("no supervisor socket: {0}")]
    Socket(#[from] crate::SpawnError),
    #[error("channel: {0}")]
    Ipc(#[from] agentbox_ipc::IpcError),
    #[error("protocol: {0}")]
    Protocol(String),
    /// Confinement failed; the supervisor was told which step.
    #[error("confinement failed at {0}")]
    Refused(String),
}

/// The confinement plan of a start message.
pub fn plan_for(start: &Start) -> Plan {
    Plan {
        sandbox: start.confine.sandbox.clone(),
        seccomp: start.confine.seccomp.clone(),
        profile_name: start.confine.profile.clone(),
        grants: start
            .spec
            .fs
            .iter()
            .map(|g| Grant {
                host: g.host.clone(),
                // Where it is mounted; its preopen keeps the grant's name.
                guest: g.mount_point(),
                writable: g.access == agentbox_spec::Access::Rw,
                scratch: None,
            })
            .chain(start.spec.scratch.iter().map(|s| Grant {
                host: std::path::PathBuf::new(),
                guest: s.guest.clone(),
                writable: true,
                scratch: Some((s.size, s.files)),
            }))
            .collect(),
        // RLIMIT_CPU is cumulative per process: a backstop for one-shot workers
        // only (a pooled worker's lifetime total would trip it).
        cpu_seconds: if start.pooled {
            0
        } else {
            start.spec.limits.cpu.as_secs().max(1)
        },
        disabled: start.confine.disabled_layers.clone(),
        supervisor_ns: start.confine.supervisor_ns.clone(),
        keep_fd: crate::WORKER_FD,
        fault: start.confine.inject_fault.clone(),
    }
}

/// Receives the start message on fd 3, confines the process and reports `Ready`
/// (or `SetupFailed`, then returns [`EntryError::Refused`]). On success the grants
/// of the returned start name their paths inside the sandbox. Must be called first
/// thing, while the process is single-threaded.
pub fn start_confined() -> Result<(Start, Channel), EntryError> {
    let mut ch = crate::worker_channel()?;
    let mut start = match ch.recv::<ToWorker>(MAX_START_FRAME, None)? {
        ToWorker::Start(s) => *s,
        other => {
            return Err(EntryError::Protocol(format!(
                "expected Start, got {other:?}"
            )));
        }
    };
    if start.component_len > 0 {
        let len = usize::try_from(start.component_len)
            .map_err(|_| EntryError::Protocol("component length".into()))?;
        // Mapped, and its descriptor closed, before confinement: nothing of it is
        // left but a read-only mapping.
        let fd = ch.recv_fd()?;
        start.component = agentbox_ipc::ComponentBytes::Mapped(std::sync::Arc::new(
            agentbox_ipc::MappedComponent::map(fd, len, MAX_START_FRAME)?,
        ));
    }
    let report = match crate::apply(&plan_for(&start)) {
        Ok(r) => r,
        Err(ConfineError::Step { step, message }) => {
            ch.send(&ToSupervisor::SetupFailed {
                step: step.into(),
                message,
            })?;
            return Err(EntryError::Refused(step.into()));
        }
    };
    ch.send(&ToSupervisor::Ready(report))?;
    // Inside the sandbox root the grants live at their mount points (their guest
    // paths, or under PREOPEN_MOUNTS for grants named `/` or by a relative name).
    if !start
        .confine
        .disabled_layers
        .contains(&agentbox_ipc::Layer::Namespaces)
    {
        for g in &mut start.spec.fs {
            g.host = std::path::PathBuf::from(g.mount_point());
        }
        // Scratch spaces are read-write directories of the sandbox from here on
        // (preopened like the grants, after them).
        for s in &start.spec.scratch {
            start.spec.fs.push(agentbox_spec::FsGrant {
                host: std::path::PathBuf::from(&s.guest),
                guest: s.guest.clone(),
                access: agentbox_spec::Access::Rw,
                rationale: s.rationale.clone(),
            });
        }
    }
    Ok((start, ch))
}
