//! seccomp: the profile's errno answers, then its allow-list (default: kill).
//! The BPF was compiled by the supervisor from `profiles/seccomp/*.toml`.

use agentbox_profiles::{SeccompBpf, from_insns};

pub(crate) fn apply(profile: &SeccompBpf) -> Result<(), String> {
    if profile.allow_filter.is_empty() {
        return Err(format!("profile {}: empty allow-list", profile.name));
    }
    if let Some(errno) = &profile.errno_filter {
        seccompiler::apply_filter(&from_insns(errno)).map_err(|e| format!("errno filter: {e}"))?;
    }
    seccompiler::apply_filter(&from_insns(&profile.allow_filter))
        .map_err(|e| format!("allow-list: {e}"))?;
    Ok(())
}
