//! Running one folder: a fresh database, one engine, the fixture life-cycle around the case
//! files, and each case's steps checked in order (a case passes iff every step passes).
//!
//! A case is replayed once per selected transport that its pytest class lists (HTTP always),
//! each replay a result of its own with the fixtures of one test method around it, as pytest's
//! `transport` parametrization did. Subscription step files and the Python-only protocol
//! checks run as [`Scenario`]s over the WebSocket transports.

use crate::case_file::{CaseFile, Step, load_case};
use crate::compare::{CompareOptions, StepVerdict, check_step, compact, is_error_body};
use crate::database::DbServer;
use crate::discovery::{FolderPlan, PlannedCase};
use crate::engine::{Engine, EngineConfig, log_path_for, random_secret};
use crate::fixtures::{run_all, run_teardowns};
use crate::report::{CaseResult, CaseStatus, FolderResult};
use crate::scenarios::{PlannedScenario, Scenario, ScenarioContext};
use crate::transport::{HttpClient, Reply, Request, Transport};
use crate::ws_step::{send_step, socket_expectation, ws_eligible};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Settings shared by every folder of a run.
pub struct RunContext {
    pub db: DbServer,
    pub graft_bin: PathBuf,
    pub log_dir: PathBuf,
    pub compare: CompareOptions,
    pub request_timeout: Duration,
    pub health_timeout: Duration,
    /// The transports selected on the command line, HTTP first when present.
    pub transports: Vec<Transport>,
    /// How long a socket waits for one expected frame.
    pub frame_timeout: Duration,
    /// Webhook mode (HARNESS.md 4.4): graft behind an admin secret and the runner's auth
    /// webhook, role headers sent as a bearer token; results keyed `path@webhook`.
    pub webhook: bool,
}

/// The result-key suffix of webhook mode.
pub const WEBHOOK_SUFFIX: &str = "@webhook";

/// What one replay does.
enum Work<'a> {
    Steps(&'a [Step]),
    Scenario(Scenario),
}

/// One result to produce: a case (or Python-only test) over one transport.
struct Unit<'a> {
    /// Path under `queries/` without the transport.
    path: String,
    transport: Transport,
    work: Work<'a>,
}

/// Whether a case's steps are replayed over `transport`.
fn replays_over(case: &PlannedCase, steps: &[Step], transport: Transport) -> bool {
    transport == Transport::Http
        || (case
            .transports
            .iter()
            .any(|t| t == transport.appendix_name())
            && steps.iter().any(|step| ws_eligible(step, transport)))
}

/// The replays of a folder in order (each case over its transports, then the folder's
/// Python-only tests), and the results of cases that cannot run (reported only when HTTP is
/// selected: a WebSocket-only run is about the cases it replays).
fn plan_units<'a>(
    plan: &FolderPlan,
    loaded: &'a [(&'a PlannedCase, CaseFile)],
    transports: &[Transport],
) -> (Vec<Unit<'a>>, Vec<CaseResult>) {
    let mut units = Vec::new();
    let mut not_runnable = Vec::new();
    let scenario_units = |planned: &PlannedScenario, units: &mut Vec<Unit<'a>>| {
        let mut any = false;
        for transport in transports.iter().filter(|t| planned.transports.contains(t)) {
            units.push(Unit {
                path: planned.path.clone(),
                transport: *transport,
                work: Work::Scenario(planned.scenario),
            });
            any = true;
        }
        any
    };
    for (case, file) in loaded {
        if let Some(planned) = crate::scenarios::for_case_file(&case.path) {
            if !scenario_units(&planned, &mut units) {
                not_runnable.push(case_result(
                    plan,
                    &case.path,
                    Transport::Http,
                    CaseStatus::NotRunnable,
                    "subscription steps over a WebSocket: run with --transport websocket or graphql-transport-ws".into(),
                    Vec::new(),
                    Duration::ZERO,
                ));
            }
            continue;
        }
        match file {
            CaseFile::Steps(steps) => {
                for transport in transports {
                    if replays_over(case, steps, *transport) {
                        units.push(Unit {
                            path: case.path.clone(),
                            transport: *transport,
                            work: Work::Steps(steps),
                        });
                    }
                }
            }
            CaseFile::NotRunnable(reason) => not_runnable.push(case_result(
                plan,
                &case.path,
                Transport::Http,
                CaseStatus::NotRunnable,
                reason.clone(),
                Vec::new(),
                Duration::ZERO,
            )),
        }
    }
    for planned in crate::scenarios::for_folder(&plan.folder, plan.admin_secret) {
        scenario_units(&planned, &mut units);
    }
    if !transports.contains(&Transport::Http) {
        not_runnable.clear();
    }
    (units, not_runnable)
}

/// Runs one folder; `index` makes its database name (`conf_<index>`) unique in the run.
pub async fn run_folder(ctx: &RunContext, plan: &FolderPlan, index: usize) -> FolderResult {
    let mut result = FolderResult {
        folder: plan.folder.clone(),
        style: plan.fixtures.style_name(),
        cases: Vec::new(),
        notes: Vec::new(),
    };
    let loaded: Vec<(&PlannedCase, CaseFile)> = plan
        .cases
        .iter()
        .map(|case| (case, load_case(&case.file)))
        .collect();
    let (units, not_runnable) = plan_units(plan, &loaded, &ctx.transports);
    result.cases.extend(not_runnable);
    if units.is_empty() {
        return result;
    }
    let db_name = format!("conf_{index}");
    let outcome = run_with_engine(ctx, plan, &db_name, &units, &mut result).await;
    if let Err(reason) = outcome {
        for unit in &units {
            result.cases.push(case_result(
                plan,
                &unit.path,
                unit.transport,
                CaseStatus::Fail,
                reason.clone(),
                Vec::new(),
                Duration::ZERO,
            ));
        }
    }
    for extra in extra_source_databases(plan, &db_name) {
        let _ = ctx.db.drop_database(&extra.1).await;
    }
    if let Err(e) = ctx.db.drop_database(&db_name).await {
        result.notes.push(format!("cannot drop {db_name}: {e}"));
    }
    // Manifest order, each case's transports together; Python-only tests last.
    let order: Vec<&str> = plan.cases.iter().map(|c| c.path.as_str()).collect();
    result.cases.sort_by_key(|c| {
        let base = base_path(c);
        order.iter().position(|p| *p == base).unwrap_or(order.len())
    });
    if ctx.webhook {
        for case in &mut result.cases {
            case.path.push_str(WEBHOOK_SUFFIX);
        }
    }
    result
}

/// A result's case path without its transport suffix.
fn base_path(result: &CaseResult) -> &str {
    let suffix = format!("@{}", result.transport.name());
    match result.transport {
        Transport::Http => &result.path,
        _ => result.path.strip_suffix(&suffix).unwrap_or(&result.path),
    }
}

/// Starts the engine and runs the cases; `Err` = every runnable case fails with that reason.
async fn run_with_engine(
    ctx: &RunContext,
    plan: &FolderPlan,
    db_name: &str,
    units: &[Unit<'_>],
    result: &mut FolderResult,
) -> Result<(), String> {
    let database_url = ctx
        .db
        .create_database(db_name)
        .await
        .map_err(|e| format!("database setup failed: {e}"))?;
    let admin_secret = (plan.admin_secret || ctx.webhook).then(random_secret);
    let mut env = plan.env.clone();
    // Kept until the engine stops.
    let hook = match ctx.webhook {
        true => Some(
            crate::auth_webhook::start()
                .await
                .map_err(|e| format!("auth webhook start failed: {e}"))?,
        ),
        false => None,
    };
    if let Some(hook) = &hook {
        env.push(("HASURA_GRAPHQL_AUTH_HOOK".to_string(), hook.url.clone()));
    }
    for (variable, name) in extra_source_databases(plan, db_name) {
        let url = ctx
            .db
            .create_database(&name)
            .await
            .map_err(|e| format!("database setup failed: {e}"))?;
        env.push((variable, url));
    }
    let config = EngineConfig {
        bin: ctx.graft_bin.clone(),
        database_url,
        admin_secret: admin_secret.clone(),
        env,
        log_path: log_path_for(&ctx.log_dir, &plan.folder),
    };
    let mut engine = Engine::start(&config)
        .await
        .map_err(|e| format!("engine start failed: {e}"))?;
    if let Err(e) = engine.wait_healthy(ctx.health_timeout).await {
        let _ = engine.stop().await;
        return Err(format!("engine not healthy: {e}"));
    }
    let outcome = run_units(ctx, plan, &engine, admin_secret.as_deref(), units, result).await;
    if let Some(note) = engine.stop().await {
        result.notes.push(note);
    }
    outcome
}

async fn run_units(
    ctx: &RunContext,
    plan: &FolderPlan,
    engine: &Engine,
    admin_secret: Option<&str>,
    units: &[Unit<'_>],
    result: &mut FolderResult,
) -> Result<(), String> {
    let client =
        HttpClient::new(&engine.base_url, ctx.request_timeout).map_err(|e| e.to_string())?;
    let fixtures = &plan.fixtures;
    run_all(&client, &plan.dir, &fixtures.once_before, admin_secret)
        .await
        .map_err(|e| e.to_string())?;
    for unit in units {
        let started = Instant::now();
        let mut warnings = Vec::new();
        let outcome = match run_all(&client, &plan.dir, &fixtures.before_each, admin_secret).await {
            Err(e) => Err(e.to_string()),
            Ok(()) => match &unit.work {
                Work::Steps(steps) => {
                    let replay = Replay {
                        client: &client,
                        admin_secret,
                        options: ctx.compare,
                        transport: unit.transport,
                        frame_timeout: ctx.frame_timeout,
                        webhook: ctx.webhook,
                    };
                    let method = crate::method_files::for_case(&unit.path);
                    let before = method.as_ref().map_or(&[][..], |m| m.before);
                    let outcome = match run_all(&client, &plan.dir, before, admin_secret).await {
                        Ok(()) => run_steps(&replay, steps, &mut warnings).await,
                        Err(e) => Err(format!("method file failed: {e}")),
                    };
                    let after = method.as_ref().map_or(&[][..], |m| m.after);
                    warnings.extend(run_teardowns(&client, &plan.dir, after, admin_secret).await);
                    outcome
                }
                Work::Scenario(scenario) => {
                    let scenario_ctx = ScenarioContext {
                        client: &client,
                        admin_secret,
                        dir: &plan.dir,
                        timeout: ctx.frame_timeout,
                        events: Some(&engine.event_webhook),
                    };
                    scenario.run(&scenario_ctx, unit.transport).await
                }
            },
        };
        for failure in run_teardowns(&client, &plan.dir, &fixtures.after_each, admin_secret).await {
            warnings.push(failure);
        }
        let (status, reason) = match outcome {
            Ok(()) => (CaseStatus::Pass, String::new()),
            Err(reason) => (CaseStatus::Fail, reason),
        };
        result.cases.push(case_result(
            plan,
            &unit.path,
            unit.transport,
            status,
            reason,
            warnings,
            started.elapsed(),
        ));
    }
    result
        .notes
        .extend(run_teardowns(&client, &plan.dir, &fixtures.once_after, admin_secret).await);
    Ok(())
}

/// How the steps of one case are replayed.
pub struct Replay<'a> {
    pub client: &'a HttpClient,
    pub admin_secret: Option<&'a str>,
    pub options: CompareOptions,
    pub transport: Transport,
    pub frame_timeout: Duration,
    /// Role headers go to the auth webhook as a bearer token (see [`crate::auth_webhook`]).
    pub webhook: bool,
}

/// Runs the steps of one case in order; the first failing step fails the case. Steps that go
/// over a socket (see [`ws_eligible`]) carry their headers, admin secret included, in
/// `connection_init`; the admin-secret refusal checks stay on HTTP, as in `validate.py`.
pub async fn run_steps(
    replay: &Replay<'_>,
    steps: &[Step],
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let client = replay.client;
    let total = steps.len();
    for (index, step) in steps.iter().enumerate() {
        let over_socket =
            replay.transport != Transport::Http && ws_eligible(step, replay.transport);
        let via = if over_socket {
            format!(" over {}", replay.transport.name())
        } else {
            String::new()
        };
        let label = format!(
            "step {}/{total} {} {}{via}",
            index + 1,
            step.method_name(),
            step.url
        );
        let mut request = Request::from_step(step);
        if replay.webhook {
            webhook_auth(client, step, &mut request, replay.admin_secret)
                .await
                .map_err(|reason| format!("{label}: {reason}"))?;
        } else if let Some(secret) = replay.admin_secret {
            if index == 0 {
                check_secret_required(client, step, &request)
                    .await
                    .map_err(|reason| format!("{label}: {reason}"))?;
            }
            request.set_header("X-Hasura-Admin-Secret", secret);
        }
        let (expectation, reply) = if over_socket {
            let reply = send_step(
                client.base_url(),
                step,
                &request.headers,
                replay.transport,
                replay.frame_timeout,
            )
            .await
            .map_err(|e| format!("{label}: {e}"))?;
            (socket_expectation(step), reply)
        } else {
            let reply = client
                .send(&request)
                .await
                .map_err(|e| format!("{label}: {e}"))?;
            (step.clone(), reply)
        };
        match check_step(&expectation, &reply, replay.options) {
            StepVerdict::Pass => {}
            StepVerdict::PassWithWarning(warning) => warnings.push(format!("{label}: {warning}")),
            StepVerdict::Fail(reason) => return Err(format!("{label}: {reason}")),
        }
    }
    Ok(())
}

/// Webhook mode, as `validate.check_query` does it: a step with headers is first sent with a
/// random bearer token, which must be refused, then with its headers as the bearer token the
/// webhook decodes; a step without headers is admin, with the admin secret.
async fn webhook_auth(
    client: &HttpClient,
    step: &Step,
    request: &mut Request,
    admin_secret: Option<&str>,
) -> Result<(), String> {
    if step.headers.is_empty() {
        if let Some(secret) = admin_secret {
            request.set_header("X-Hasura-Admin-Secret", secret);
        }
        return Ok(());
    }
    let mut forbidden = request.clone();
    forbidden.headers = vec![(
        "Authorization".to_string(),
        crate::auth_webhook::random_bearer(),
    )];
    let reply = client
        .send(&forbidden)
        .await
        .map_err(|e| format!("request with a random bearer token: {e}"))?;
    if !is_refusal(step, &reply) {
        return Err(format!(
            "request with a random bearer token was not refused: {} {}",
            reply.status,
            compact(&reply.body, 160)
        ));
    }
    request.headers = vec![(
        "Authorization".to_string(),
        crate::auth_webhook::bearer_for(&step.headers),
    )];
    Ok(())
}

/// The negative checks of admin-secret mode (HARNESS 4.4): without a secret and with a wrong
/// one the request must be refused (401/404, or 200 with errors on a GraphQL endpoint).
async fn check_secret_required(
    client: &HttpClient,
    step: &Step,
    request: &Request,
) -> Result<(), String> {
    let mut without = request.clone();
    without
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("x-hasura-admin-secret"));
    let mut wrong = without.clone();
    wrong.set_header("X-Hasura-Admin-Secret", &random_secret());
    for (what, attempt) in [
        ("without an admin secret", &without),
        ("with a wrong admin secret", &wrong),
    ] {
        let reply = client
            .send(attempt)
            .await
            .map_err(|e| format!("request {what}: {e}"))?;
        if !is_refusal(step, &reply) {
            return Err(format!(
                "request {what} was not refused: {} {}",
                reply.status,
                compact(&reply.body, 160)
            ));
        }
    }
    Ok(())
}

/// Whether a reply refuses an unauthenticated request.
pub fn is_refusal(step: &Step, reply: &Reply) -> bool {
    let graphql_endpoint = step.url.contains("graphql") || step.url.contains("/relay");
    matches!(reply.status, 401 | 404)
        || (graphql_endpoint && reply.status == 200 && is_error_body(&reply.body))
}

fn case_result(
    plan: &FolderPlan,
    path: &str,
    transport: Transport,
    status: CaseStatus,
    reason: String,
    warnings: Vec<String>,
    duration: Duration,
) -> CaseResult {
    CaseResult {
        path: transport.result_key(path),
        transport,
        folder: plan.folder.clone(),
        status,
        reason,
        warnings,
        duration,
    }
}

/// Cases that add sources read their URLs from `HASURA_GRAPHQL_PG_SOURCE_URL_1` and `_2`, as
/// Hasura's harness provides them: (variable, database name) for each one the folder's files use.
fn extra_source_databases(plan: &FolderPlan, db_name: &str) -> Vec<(String, String)> {
    let texts: Vec<String> = std::fs::read_dir(&plan.dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    (1..=2)
        .map(|n| format!("HASURA_GRAPHQL_PG_SOURCE_URL_{n}"))
        .filter(|variable| texts.iter().any(|t| t.contains(variable.as_str())))
        .enumerate()
        .map(|(i, variable)| (variable, format!("{db_name}_src{}", i + 1)))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::case_file::{case_from_value, parse_yaml};
    use serde_json::json;

    fn step(yaml: &str) -> Step {
        match case_from_value(&parse_yaml(yaml).unwrap()) {
            CaseFile::Steps(mut steps) => steps.remove(0),
            CaseFile::NotRunnable(r) => panic!("{r}"),
        }
    }

    fn folder(folder: &str, admin_secret: bool) -> FolderPlan {
        FolderPlan {
            folder: folder.into(),
            dir: PathBuf::from("/nonexistent"),
            fixtures: crate::style::plan(&crate::style::FixtureFiles::default(), None),
            class: None,
            admin_secret,
            env: Vec::new(),
            cases: Vec::new(),
        }
    }

    fn planned(path: &str, transports: &[&str]) -> PlannedCase {
        PlannedCase {
            path: path.into(),
            file: PathBuf::from(path),
            transports: transports.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn keys(units: &[Unit<'_>]) -> Vec<String> {
        units
            .iter()
            .map(|u| u.transport.result_key(&u.path))
            .collect()
    }

    #[test]
    fn units_follow_class_transports_and_step_kinds() {
        let query = planned("q/a.yaml", &["http", "websocket"]);
        let mutation = planned("q/m.yaml", &["http", "websocket"]);
        let http_only = planned("q/h.yaml", &["http"]);
        let both = planned("q/s.yaml", &["http", "websocket", "subscription"]);
        let steps = |query: &str| {
            CaseFile::Steps(vec![step(&format!(
                "url: /v1/graphql\nstatus: 200\nresponse: {{data: {{}}}}\nquery: {{query: '{query}'}}\n"
            ))])
        };
        let loaded = vec![
            (&query, steps("query { a }")),
            (&mutation, steps("mutation { a }")),
            (&http_only, steps("query { a }")),
            (&both, steps("query { a }")),
        ];
        let plan = folder("q", false);
        let (units, skipped) = plan_units(&plan, &loaded, &Transport::ALL);
        assert!(skipped.is_empty());
        assert_eq!(
            keys(&units),
            vec![
                "q/a.yaml",
                "q/a.yaml@websocket",
                "q/a.yaml@graphql-transport-ws",
                "q/m.yaml",
                "q/h.yaml",
                "q/s.yaml",
                "q/s.yaml@websocket",
                "q/s.yaml@graphql-transport-ws",
                "q/s.yaml@subscription",
            ]
        );
        let (units, _) = plan_units(&plan, &loaded, &[Transport::Http]);
        assert_eq!(units.len(), 4);
    }

    #[test]
    fn scenario_units_need_a_socket_transport() {
        let steps_file = planned("subscriptions/live_queries/steps.yaml", &["http"]);
        let loaded = vec![(&steps_file, CaseFile::NotRunnable("step file".into()))];
        let plan = folder("subscriptions/live_queries", true);
        let (units, skipped) = plan_units(&plan, &loaded, &[Transport::Http]);
        assert!(units.is_empty());
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].status, CaseStatus::NotRunnable);
        let (units, skipped) = plan_units(
            &plan,
            &loaded,
            &[Transport::GraphqlTransportWs, Transport::Subscription],
        );
        assert!(skipped.is_empty());
        assert_eq!(
            keys(&units),
            vec!["subscriptions/live_queries/steps.yaml@graphql-transport-ws"]
        );
        let basic = folder("subscriptions/basic", true);
        let (units, _) = plan_units(&basic, &[], &[Transport::Websocket]);
        assert_eq!(units.len(), 9);
        assert!(units.iter().all(|u| u.transport == Transport::Websocket));
    }

    #[test]
    fn refusals() {
        let rql = step("url: /v1/query\nstatus: 200\nquery: {}\n");
        let gql = step("url: /v1/graphql\nstatus: 200\nquery: {query: '{a}'}\n");
        let reply = |status, body| Reply {
            status,
            headers: vec![],
            body,
        };
        assert!(is_refusal(&rql, &reply(401, json!({}))));
        assert!(is_refusal(&rql, &reply(404, json!({}))));
        assert!(!is_refusal(&rql, &reply(200, json!({"error": "x"}))));
        assert!(is_refusal(
            &gql,
            &reply(200, json!({"errors": [{"message": "x"}]}))
        ));
        assert!(!is_refusal(&gql, &reply(200, json!({"data": {}}))));
    }
}
