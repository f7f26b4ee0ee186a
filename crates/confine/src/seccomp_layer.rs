//! seccomp: the profile's one program (errno answers and the allow-list; any
//! other call kills the process). The supervisor compiled it from
//! `profiles/seccomp/*.toml` (agentbox-profiles).

use agentbox_profiles::{SeccompBpf, from_insns};

pub(crate) fn apply(profile: &SeccompBpf) -> Result<(), String> {
    if profile.filter.is_empty() {
        return Err(format!("profile {}: empty program", profile.name));
    }
    seccompiler::apply_filter(&from_insns(&profile.filter)).map_err(|e| e.to_string())
}
