//! Limits: the shipped defaults and a tool's `[tools.<name>.limits]`.

use super::*;

/// The shipped default limits (`profiles/limits.toml`), embedded at build time.
pub const DEFAULT_LIMITS_TOML: &str = include_str!("../../../../profiles/limits.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitsFile {
    defaults: crate::raw::RawLimits,
}

/// Limits from the embedded defaults file; every key must be present there.
pub(super) fn limits_from_profile() -> Result<Limits, String> {
    let f: LimitsFile = toml::from_str(DEFAULT_LIMITS_TOML).map_err(|e| e.to_string())?;
    let d = f.defaults;
    let size = |v: Option<Spanned<RawSize>>, k: &str| -> Result<u64, String> {
        match v.map(Spanned::into_inner) {
            Some(RawSize::Bytes(n)) if n > 0 => Ok(n as u64),
            Some(RawSize::Text(t)) => parse_size(&t).ok_or(format!("defaults.{k}: bad size {t}")),
            _ => Err(format!("defaults.{k} is missing")),
        }
    };
    let dur = |v: Option<Spanned<String>>, k: &str| -> Result<Duration, String> {
        let t = v.ok_or(format!("defaults.{k} is missing"))?.into_inner();
        parse_duration(&t).ok_or(format!("defaults.{k}: bad duration {t}"))
    };
    let num = |v: Option<Spanned<i64>>, k: &str| -> Result<u32, String> {
        v.map(Spanned::into_inner)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(format!("defaults.{k} is missing"))
    };
    Ok(Limits {
        memory: size(d.memory, "memory")?,
        timeout: dur(d.timeout, "timeout")?,
        cpu: dur(d.cpu, "cpu")?,
        output: size(d.output, "output")?,
        http_requests: num(d.http_requests, "http_requests")?,
        http_bytes: size(d.http_bytes, "http_bytes")?,
        processes: num(d.processes, "processes")?,
        compile_memory: size(d.compile_memory, "compile_memory")?,
        compile_timeout: dur(d.compile_timeout, "compile_timeout")?,
    })
}

/// The shipped default limits. The embedded file is checked by a unit test; should
/// it ever fail to parse, the same small values apply rather than anything larger.
pub fn default_limits() -> Limits {
    limits_from_profile().unwrap_or(Limits {
        memory: 64 << 20,
        timeout: Duration::from_secs(10),
        cpu: Duration::from_secs(5),
        output: 1 << 20,
        http_requests: 20,
        http_bytes: 8 << 20,
        processes: 16,
        compile_memory: 1 << 30,
        compile_timeout: Duration::from_secs(120),
    })
}

/// Upper bounds beyond which a limit is refused outright.
pub(super) struct Bounds;

impl Bounds {
    const MEMORY: u64 = 4 << 30;
    const TIMEOUT: Duration = Duration::from_secs(24 * 3600);
    const OUTPUT: u64 = 1 << 30;
    const HTTP_REQUESTS: i64 = 100_000;
    const HTTP_BYTES: u64 = 16 << 30;
    const PROCESSES: i64 = 4096;
}

pub(super) fn size(
    cx: &Ctx<'_>,
    v: &Spanned<RawSize>,
    key: &str,
    max: u64,
) -> Result<u64, ManifestError> {
    let n = match v.get_ref() {
        RawSize::Bytes(n) if *n > 0 => *n as u64,
        RawSize::Bytes(_) => {
            return Err(cx.invalid(
                &v.span(),
                key,
                format!("must be greater than zero; allowed: {SIZE_HELP}"),
            ));
        }
        RawSize::Text(t) => parse_size(t).ok_or_else(|| {
            cx.invalid(
                &v.span(),
                key,
                format!("invalid size \"{t}\"; allowed: {SIZE_HELP}"),
            )
        })?,
    };
    if n == 0 {
        return Err(cx.invalid(&v.span(), key, "must be greater than zero"));
    }
    if n > max {
        return Err(cx.invalid(
            &v.span(),
            key,
            format!(
                "{} is over the maximum of {}",
                crate::units::format_size(n),
                crate::units::format_size(max)
            ),
        ));
    }
    Ok(n)
}

pub(super) fn duration(
    cx: &Ctx<'_>,
    v: &Spanned<String>,
    key: &str,
) -> Result<Duration, ManifestError> {
    let d = parse_duration(v.get_ref()).ok_or_else(|| {
        cx.invalid(
            &v.span(),
            key,
            format!(
                "invalid duration \"{}\"; allowed: {DURATION_HELP}",
                v.get_ref()
            ),
        )
    })?;
    if d.is_zero() {
        return Err(cx.invalid(&v.span(), key, "must be greater than zero"));
    }
    if d > Bounds::TIMEOUT {
        return Err(cx.invalid(&v.span(), key, "is over the maximum of 24h"));
    }
    Ok(d)
}

pub(super) fn count(
    cx: &Ctx<'_>,
    v: &Spanned<i64>,
    key: &str,
    max: i64,
) -> Result<u32, ManifestError> {
    let n = *v.get_ref();
    if n <= 0 || n > max {
        return Err(cx.invalid(
            &v.span(),
            key,
            format!("must be a whole number from 1 to {max}"),
        ));
    }
    Ok(n as u32)
}

pub(super) fn resolve_limits(
    cx: &Ctx<'_>,
    tname: &str,
    kind: ToolKind,
    raw: Option<&Spanned<crate::raw::RawLimits>>,
) -> Result<Limits, ManifestError> {
    let mut l = default_limits();
    let Some(raw) = raw else { return Ok(l) };
    let raw = raw.get_ref();
    let k = |key: &str| format!("tools.{tname}.limits.{key}");
    if let Some(v) = &raw.memory {
        l.memory = size(cx, v, &k("memory"), Bounds::MEMORY)?;
        if l.memory < 1 << 20 {
            return Err(cx.invalid(&v.span(), &k("memory"), "must be at least 1MiB"));
        }
    }
    if let Some(v) = &raw.timeout {
        l.timeout = duration(cx, v, &k("timeout"))?;
    }
    if let Some(v) = &raw.cpu {
        l.cpu = duration(cx, v, &k("cpu"))?;
    }
    if let Some(v) = &raw.output {
        l.output = size(cx, v, &k("output"), Bounds::OUTPUT)?;
    }
    if let Some(v) = &raw.http_requests {
        l.http_requests = count(cx, v, &k("http_requests"), Bounds::HTTP_REQUESTS)?;
    }
    if let Some(v) = &raw.http_bytes {
        l.http_bytes = size(cx, v, &k("http_bytes"), Bounds::HTTP_BYTES)?;
    }
    if let Some(v) = &raw.processes {
        if kind != ToolKind::Native {
            return Err(cx.invalid(
                &v.span(),
                &k("processes"),
                format!(
                    "`processes` is only for kind \"native\" (a {} runs as one process)",
                    kind.as_str()
                ),
            ));
        }
        l.processes = count(cx, v, &k("processes"), Bounds::PROCESSES)?;
    }
    if let Some(v) = &raw.compile_memory {
        l.compile_memory = size(cx, v, &k("compile_memory"), Bounds::MEMORY)?;
        if l.compile_memory < 256 << 20 {
            return Err(cx.invalid(&v.span(), &k("compile_memory"), "must be at least 256MiB"));
        }
    }
    if let Some(v) = &raw.compile_timeout {
        l.compile_timeout = duration(cx, v, &k("compile_timeout"))?;
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_limits_parse_and_are_small() {
        let l = limits_from_profile().unwrap_or_else(|e| panic!("profiles/limits.toml: {e}"));
        assert_eq!(l.memory, 64 << 20);
        assert_eq!(l.timeout, Duration::from_secs(10));
        assert_eq!(l.cpu, Duration::from_secs(5));
        assert_eq!(l.output, 1 << 20);
        assert_eq!(l.http_requests, 20);
        assert_eq!(l.http_bytes, 8 << 20);
        assert_eq!(l.processes, 16);
        assert_eq!(l.compile_memory, 1 << 30);
        assert_eq!(l.compile_timeout, Duration::from_secs(120));
    }
}
