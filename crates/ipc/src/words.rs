//! The words agentbox reports in, typed once: the host, the protocol, the
//! supervisor and the CLI all use these enums, and each serialises (JSON report,
//! audit log) to the same snake_case word it always had.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Defines a word enum: serde names, `as_str`, `Display`, `ALL` and `parse`.
macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $w:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $w)] $v,)+
        }

        impl $name {
            /// Every word, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$v,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$v => $w,)+
                }
            }

            /// The value for a word, if it is one.
            pub fn parse(word: &str) -> Option<Self> {
                match word {
                    $($w => Some(Self::$v),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words! {
    /// How a run ended (`outcome` in the report and the audit log).
    Outcome {
        /// Kind tool: `call` returned `Ok`; kind command or native: exit status 0.
        Ok = "ok",
        /// Kind tool: `call` returned `Err`.
        ToolError = "tool_error",
        /// Kind command or native: a non-zero exit status.
        Exit = "exit",
        /// Wall clock or CPU time ran out.
        Timeout = "timeout",
        /// Another limit (memory, output, processes, HTTP budget).
        Limit = "limit",
        /// Stopped by policy (a forbidden system call).
        Denied = "denied",
        /// The guest trapped, or the worker died from a signal.
        Trap = "trap",
        /// The sandbox could not be set up, or the worker broke the protocol.
        SandboxError = "sandbox_error",
        /// Anything else that kept the tool from running.
        Error = "error",
        /// Worker → supervisor only: a native program was killed by a signal
        /// (`exit_code` is 128 + the signal). The supervisor replaces it with the
        /// outcome that signal means before anything reports it.
        Signal = "signal",
        /// Supervisor only: the caller cancelled the invocation (an MCP client's
        /// `notifications/cancelled`, or the server stopping); its worker was killed.
        Cancelled = "cancelled",
        /// Supervisor only: the input failed the tool's input schema; no worker
        /// was started.
        InvalidInput = "invalid_input",
        /// Supervisor only: an output guard blocked what the tool returned
        /// (guards.md); nothing of the output left.
        Guarded = "guarded",
    }
}

words! {
    /// A limit that ended a run or was enforced during it (`limit`, `limits_hit`).
    Limit {
        Timeout = "timeout",
        Cpu = "cpu",
        Memory = "memory",
        Output = "output",
        Processes = "processes",
        HttpRequests = "http_requests",
        HttpBytes = "http_bytes",
        /// A refused table growth (only ever in `limits_hit`).
        Table = "table",
    }
}

words! {
    /// What Landlock reported for the worker's ruleset.
    LandlockStatus {
        FullyEnforced = "fully_enforced",
        PartiallyEnforced = "partially_enforced",
        NotEnforced = "not_enforced",
        /// The operator disabled the layer with `--dangerously-disable-layer`.
        Disabled = "disabled",
    }
}

/// A report nothing was read into says nothing is enforced.
impl Default for LandlockStatus {
    fn default() -> Self {
        Self::NotEnforced
    }
}

words! {
    /// An OS confinement layer, as `--dangerously-disable-layer` names it.
    Layer {
        Namespaces = "namespaces",
        Landlock = "landlock",
        Seccomp = "seccomp",
        Rlimits = "rlimits",
        Capabilities = "capabilities",
        Cgroup = "cgroup",
    }
}

words! {
    /// A guest log line's level (the WIT `log` interface's levels).
    LogLevel {
        Debug = "debug",
        Info = "info",
        Warn = "warn",
        Error = "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips_through_json_and_parse() {
        fn check<T: Copy + Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug>(
            all: &[T],
            word: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                let json = serde_json::to_string(&v).expect("serialise");
                assert_eq!(json, format!("\"{}\"", word(v)));
                assert_eq!(serde_json::from_str::<T>(&json).expect("parse"), v);
                assert_eq!(parse(word(v)), Some(v));
            }
            assert_eq!(parse("no-such-word"), None);
        }
        check(Outcome::ALL, Outcome::as_str, Outcome::parse);
        check(Limit::ALL, Limit::as_str, Limit::parse);
        check(
            LandlockStatus::ALL,
            LandlockStatus::as_str,
            LandlockStatus::parse,
        );
        check(Layer::ALL, Layer::as_str, Layer::parse);
        check(LogLevel::ALL, LogLevel::as_str, LogLevel::parse);
    }

    #[test]
    fn the_report_words_are_the_contracts() {
        let words: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(
            words,
            [
                "ok",
                "tool_error",
                "exit",
                "timeout",
                "limit",
                "denied",
                "trap",
                "sandbox_error",
                "error",
                "signal",
                "cancelled",
                "invalid_input",
                "guarded"
            ]
        );
    }
}
