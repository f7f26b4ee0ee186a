//! seccomp: the profile's errno answers, then its allow-list (default: kill).

use agentbox_profiles::SeccompProfile;

pub(crate) fn apply(profile: &SeccompProfile) -> Result<(), String> {
    let compiled = profile.compile().map_err(|e| e.to_string())?;
    if let Some(errno) = &compiled.errno_filter {
        seccompiler::apply_filter(errno).map_err(|e| format!("errno filter: {e}"))?;
    }
    seccompiler::apply_filter(&compiled.allow_filter).map_err(|e| format!("allow-list: {e}"))?;
    Ok(())
}
