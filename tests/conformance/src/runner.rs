//! Running one folder: a fresh database, one engine, the fixture life-cycle around the case
//! files, and each case's steps checked in order (a case passes iff every step passes).

use crate::case_file::{CaseFile, Step, load_case};
use crate::compare::{CompareOptions, StepVerdict, check_step, compact, is_error_body};
use crate::database::DbServer;
use crate::discovery::{FolderPlan, PlannedCase};
use crate::engine::{Engine, EngineConfig, log_path_for, random_secret};
use crate::fixtures::{run_all, run_teardowns};
use crate::report::{CaseResult, CaseStatus, FolderResult};
use crate::transport::{HttpClient, Reply, Request, Transport};
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
}

struct LoadedCase<'a> {
    case: &'a PlannedCase,
    steps: Vec<Step>,
}

/// Runs one folder; `index` makes its database name (`conf_<index>`) unique in the run.
pub async fn run_folder(ctx: &RunContext, plan: &FolderPlan, index: usize) -> FolderResult {
    let mut result = FolderResult {
        folder: plan.folder.clone(),
        style: plan.fixtures.style_name(),
        cases: Vec::new(),
        notes: Vec::new(),
    };
    let mut runnable = Vec::new();
    for case in &plan.cases {
        match load_case(&case.file) {
            CaseFile::Steps(steps) => runnable.push(LoadedCase { case, steps }),
            CaseFile::NotRunnable(reason) => result.cases.push(case_result(
                plan,
                case,
                CaseStatus::NotRunnable,
                reason,
                Vec::new(),
                Duration::ZERO,
            )),
        }
    }
    if runnable.is_empty() {
        return result;
    }
    let db_name = format!("conf_{index}");
    let outcome = run_with_engine(ctx, plan, &db_name, &runnable, &mut result).await;
    if let Err(reason) = outcome {
        for loaded in &runnable {
            result.cases.push(case_result(
                plan,
                loaded.case,
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
    let order: Vec<&str> = plan.cases.iter().map(|c| c.path.as_str()).collect();
    result
        .cases
        .sort_by_key(|c| order.iter().position(|p| *p == c.path));
    result
}

/// Starts the engine and runs the cases; `Err` = every runnable case fails with that reason.
async fn run_with_engine(
    ctx: &RunContext,
    plan: &FolderPlan,
    db_name: &str,
    runnable: &[LoadedCase<'_>],
    result: &mut FolderResult,
) -> Result<(), String> {
    let database_url = ctx
        .db
        .create_database(db_name)
        .await
        .map_err(|e| format!("database setup failed: {e}"))?;
    let admin_secret = plan.admin_secret.then(random_secret);
    let mut env = plan.env.clone();
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
    let outcome = run_cases(
        ctx,
        plan,
        &engine,
        admin_secret.as_deref(),
        runnable,
        result,
    )
    .await;
    if let Some(note) = engine.stop().await {
        result.notes.push(note);
    }
    outcome
}

async fn run_cases(
    ctx: &RunContext,
    plan: &FolderPlan,
    engine: &Engine,
    admin_secret: Option<&str>,
    runnable: &[LoadedCase<'_>],
    result: &mut FolderResult,
) -> Result<(), String> {
    let client =
        HttpClient::new(&engine.base_url, ctx.request_timeout).map_err(|e| e.to_string())?;
    let fixtures = &plan.fixtures;
    run_all(&client, &plan.dir, &fixtures.once_before, admin_secret)
        .await
        .map_err(|e| e.to_string())?;
    for loaded in runnable {
        let started = Instant::now();
        let mut warnings = Vec::new();
        let outcome = match run_all(&client, &plan.dir, &fixtures.before_each, admin_secret).await {
            Err(e) => Err(e.to_string()),
            Ok(()) => {
                run_steps(
                    &client,
                    &loaded.steps,
                    admin_secret,
                    ctx.compare,
                    &mut warnings,
                )
                .await
            }
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
            loaded.case,
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

/// Runs the steps of one case in order; the first failing step fails the case.
pub async fn run_steps(
    client: &HttpClient,
    steps: &[Step],
    admin_secret: Option<&str>,
    options: CompareOptions,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let total = steps.len();
    for (index, step) in steps.iter().enumerate() {
        let label = format!(
            "step {}/{total} {} {}",
            index + 1,
            step.method_name(),
            step.url
        );
        let mut request = Request::from_step(step);
        if let Some(secret) = admin_secret {
            if index == 0 {
                check_secret_required(client, step, &request)
                    .await
                    .map_err(|reason| format!("{label}: {reason}"))?;
            }
            request.set_header("X-Hasura-Admin-Secret", secret);
        }
        let reply = client
            .send_over(Transport::Http, &request)
            .await
            .map_err(|e| format!("{label}: {e}"))?;
        match check_step(step, &reply, options) {
            StepVerdict::Pass => {}
            StepVerdict::PassWithWarning(warning) => warnings.push(format!("{label}: {warning}")),
            StepVerdict::Fail(reason) => return Err(format!("{label}: {reason}")),
        }
    }
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
            .send_over(Transport::Http, attempt)
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
    case: &PlannedCase,
    status: CaseStatus,
    reason: String,
    warnings: Vec<String>,
    duration: Duration,
) -> CaseResult {
    CaseResult {
        path: case.path.clone(),
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
