//! One `tools/call`: the arguments checked, one confined invocation on the
//! tool's pool (cancellable, with progress and log notifications), and its
//! outcome as an MCP result. Every failure of the tool or the sandbox is a
//! result with `isError`; only an unknown tool is a JSON-RPC error.

#![allow(deprecated)] // rmcp 3 marks the logging types deprecated (SEP-2577)

use crate::catalog::{Entry, State};
use crate::server::{Session, next_id, rank};
use agentbox_audit::McpCall;
use agentbox_host::Invocation;
use agentbox_ipc::{LogLevel, Outcome};
use agentbox_policy::ToolKind;
use agentbox_supervisor::{CallHooks, Cancel, LogSink, RunOutput, refused, status};
use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ErrorData, JsonObject, LoggingLevel,
    LoggingMessageNotificationParam, MetaObject, ProgressNotificationParam, ProgressToken,
};
use rmcp::service::RequestContext;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a call busy-waits for its worker when a core is free.
const SPIN: Duration = Duration::from_micros(200);

pub(crate) async fn call(
    session: &Session,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    let shared = session.shared.clone();
    let catalog = shared.catalog();
    let name = request.name.to_string();
    let Some(entry) = catalog.tools.get(&name) else {
        return Err(ErrorData::invalid_params(
            format!("unknown tool `{name}`"),
            None,
        ));
    };
    let mcp = McpCall {
        session: session_id(session, &context),
        request: serde_json::to_string(&context.id).unwrap_or_default(),
    };
    let args = Value::Object(request.arguments.unwrap_or_default());
    let manifest = catalog.manifest.clone();
    // Refused before any worker: audited and answered.
    let refuse = |outcome, detail| {
        let out = refused(&entry.spec, outcome, detail, status::CANNOT_RUN);
        shared.sup.audit_refusal(
            &manifest,
            &entry.spec,
            &shared.audit,
            Some(mcp.clone()),
            &out,
        );
        Ok(result_of(entry, out))
    };
    // A monitor rule paused the tool: answered, audited, no worker.
    if let Some((rule, why)) = shared.watch.paused(&name) {
        return Ok(paused(&shared, entry, rule, why, &mcp));
    }
    let pool = match &entry.state {
        State::Broken(why) => {
            return refuse(Outcome::Error, format!("tool `{name}` cannot run: {why}"));
        }
        State::Ready { pool, input, .. } => match input.check_limited(
            &args,
            usize::try_from(entry.spec.guards.max_input).unwrap_or(usize::MAX),
            entry.spec.guards.input_schema,
        ) {
            Err(e) => return refuse(Outcome::InvalidInput, e.to_string()),
            Ok(()) => pool.clone(),
        },
    };
    let inv = invocation(entry.spec.kind, &args);

    // Wait for a slot (or for the client to give up).
    let _permit = tokio::select! {
        p = shared.slots.acquire() => p.map_err(|_| ErrorData::internal_error("the server is stopping", None))?,
        () = context.ct.cancelled() => return Err(ErrorData::internal_error("cancelled", None)),
    };
    let progress = context.meta.get_progress_token();
    if let Some(token) = &progress {
        progress_note(&context, token, 0.0, format!("{name}: started")).await;
    }
    let (sink, forward) = forward_logs(session, &context, &name);

    let cancel = Cancel::new();
    let id = next_id(&shared);
    if let Ok(mut m) = shared.inflight.lock() {
        m.insert(id, (name.clone(), cancel.clone()));
    }
    // Paused while this call waited for its slot: it does not start (and a
    // kill from now on finds it in the table above).
    if let Some((rule, why)) = shared.watch.paused(&name) {
        if let Ok(mut m) = shared.inflight.lock() {
            m.remove(&id);
        }
        return Ok(paused(&shared, entry, rule, why, &mcp));
    }
    // The client's notifications/cancelled (or the server stopping) kills the
    // invocation's worker.
    let watch = {
        let ct = context.ct.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            ct.cancelled().await;
            cancel.cancel();
        })
    };
    // Busy-waiting for the worker's answer pays only while a core is free for it.
    let running = shared.max_concurrent - shared.slots.available_permits();
    let hooks = CallHooks {
        cancel: Some(cancel),
        on_log: sink,
        spin: Some(if running * 2 <= shared.cores {
            SPIN
        } else {
            Duration::ZERO
        }),
        // A wait that outlasts the spin hands this runtime thread's other tasks
        // to another thread first; a call answered within the spin never does.
        blocking: Some(Arc::new(|f: &mut dyn FnMut()| {
            tokio::task::block_in_place(f);
        })),
    };
    // Run on this runtime thread: no hand-off to a blocking pool and back on
    // every call.
    let out = shared
        .tracker
        .track_future(async { pool.call(&manifest, &inv, &shared.audit, hooks, Some(mcp)) })
        .await;
    watch.abort();
    if let Ok(mut m) = shared.inflight.lock() {
        m.remove(&id);
    }
    if let Some(forward) = forward {
        let _ = forward.await;
    }
    if let Some(token) = &progress {
        progress_note(
            &context,
            token,
            1.0,
            format!("{name}: {}", out.report.outcome),
        )
        .await;
    }
    Ok(result_of(entry, out))
}

/// The answer to a call of a paused tool, recorded as `monitor_refused` (no
/// invocation ran, so it is not a run and feeds no rule).
fn paused(
    shared: &crate::server::Shared,
    entry: &Entry,
    rule: usize,
    why: String,
    mcp: &McpCall,
) -> CallToolResult {
    let _ = shared.audit.record(&agentbox_audit::Event::MonitorRefused {
        rule,
        tool: entry.spec.name.clone(),
        mcp: Some(mcp.clone()),
        detail: why.clone(),
    });
    result_of(
        entry,
        refused(&entry.spec, Outcome::Denied, why, status::DENIED),
    )
}

async fn progress_note(
    context: &RequestContext<RoleServer>,
    token: &ProgressToken,
    progress: f64,
    message: String,
) {
    let note = ProgressNotificationParam::new(token.clone(), progress)
        .with_total(1.0)
        .with_message(message);
    let _ = context.peer.notify_progress(note).await;
}

/// Guest log lines, forwarded in order while the invocation runs — only to a
/// client that asked for them with `logging/setLevel`, at or above its level.
/// The task ends when the sink (held by the invocation) is dropped.
fn forward_logs(
    session: &Session,
    context: &RequestContext<RoleServer>,
    tool: &str,
) -> (Option<LogSink>, Option<tokio::task::JoinHandle<()>>) {
    let wanted = session.level.clone();
    if !wanted.lock().is_ok_and(|l| l.is_some()) {
        return (None, None);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(LogLevel, String)>();
    let sink: LogSink = Arc::new(move |level, line: &str| {
        let _ = tx.send((level, line.to_string()));
    });
    let peer = context.peer.clone();
    let logger = tool.to_string();
    let forward = tokio::spawn(async move {
        while let Some((level, line)) = rx.recv().await {
            let level = mcp_level(level);
            let min = wanted.lock().ok().and_then(|g| *g);
            if min.is_some_and(|min| rank(level) >= rank(min)) {
                let note = LoggingMessageNotificationParam::new(level, json!(line))
                    .with_logger(logger.clone());
                let _ = peer.notify_logging_message(note).await;
            }
        }
    });
    (Some(sink), Some(forward))
}

fn session_id(session: &Session, context: &RequestContext<RoleServer>) -> String {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| session.shared.stdio_session.clone())
}

fn mcp_level(l: LogLevel) -> LoggingLevel {
    match l {
        LogLevel::Debug => LoggingLevel::Debug,
        LogLevel::Info => LoggingLevel::Info,
        LogLevel::Warn => LoggingLevel::Warning,
        LogLevel::Error => LoggingLevel::Error,
    }
}

/// The invocation for checked arguments: kind tool gets them as its JSON
/// input; kind command gets `args` and `stdin`.
fn invocation(kind: ToolKind, args: &Value) -> Invocation {
    match kind {
        ToolKind::Command => Invocation {
            args: args
                .get("args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            stdin: args
                .get("stdin")
                .and_then(Value::as_str)
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default(),
            ..Invocation::default()
        },
        _ => Invocation {
            input: args.to_string(),
            ..Invocation::default()
        },
    }
}

/// The MCP result of an invocation (mcp.md "Calls").
pub(crate) fn result_of(entry: &Entry, out: RunOutput) -> CallToolResult {
    let report = &out.report;
    let meta = meta(&out);
    let command = entry.spec.kind == ToolKind::Command;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let failure = |detail: String, extra: Option<JsonObject>| {
        let mut structured = json!({
            "outcome": report.outcome.as_str(),
            "limit": report.limit.map(|l| l.as_str()),
            "detail": detail,
        });
        if let (Some(extra), Some(obj)) = (extra, structured.as_object_mut()) {
            obj.extend(extra);
        }
        let mut r = CallToolResult::error(vec![ContentBlock::text(detail)]);
        r.structured_content = Some(structured);
        r.meta = Some(meta.clone());
        r
    };
    if command && matches!(report.outcome, Outcome::Ok | Outcome::Exit) {
        let code = if report.outcome == Outcome::Ok {
            0
        } else {
            report.exit_code
        };
        let streams = json!({
            "exit_code": code,
            "stdout": text(&out.stdout),
            "stderr": text(&out.stderr),
        });
        if report.outcome == Outcome::Exit {
            let detail = format!("the command exited with status {code}");
            return failure(detail, streams.as_object().cloned());
        }
        let mut r = CallToolResult::success(vec![ContentBlock::text(streams.to_string())]);
        r.structured_content = Some(streams);
        r.meta = Some(meta);
        return r;
    }
    match (report.outcome, &out.output) {
        (Outcome::Ok, Some(json_text)) => {
            let value: Value = serde_json::from_str(json_text).unwrap_or(Value::Null);
            let structured = match value {
                Value::Object(_) => value,
                other => json!({"result": other}),
            };
            if let State::Ready {
                output: Some(schema),
                ..
            } = &entry.state
                && let Err(e) = schema.check(&structured)
            {
                let detail = format!(
                    "the tool's result does not match its output schema: {}",
                    e.to_string().trim_start_matches("invalid arguments: ")
                );
                let mut r = failure(detail, None);
                if let Some(s) = r.structured_content.as_mut().and_then(Value::as_object_mut) {
                    s.insert("outcome".into(), json!(Outcome::ToolError.as_str()));
                }
                return r;
            }
            let mut r = CallToolResult::success(vec![ContentBlock::text(json_text.clone())]);
            r.structured_content = Some(structured);
            r.meta = Some(meta);
            r
        }
        _ => {
            // The tool's own error text when it gave one; agentbox's words otherwise.
            let detail = match (&out.tool_error, report.outcome) {
                (Some(t), Outcome::ToolError) => t.clone(),
                _ => report.detail.clone(),
            };
            failure(detail, None)
        }
    }
}

/// `_meta.agentbox`: how the invocation went, for clients that look.
fn meta(out: &RunOutput) -> MetaObject {
    let mut m = JsonObject::new();
    m.insert(
        "agentbox".into(),
        json!({
            "outcome": out.report.outcome.as_str(),
            "exit_code": out.report.exit_code,
            "duration_ms": out.report.duration_ms,
            "http": {"allowed": out.report.http.allowed, "denied": out.report.http.denied},
            "secrets_used": out.report.secrets_used.keys().collect::<Vec<_>>(),
            "guards": out.report.guards,
        }),
    );
    MetaObject(m)
}
