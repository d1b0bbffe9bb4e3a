//! One engine per connection, on a thread of its own: the engine blocks on
//! HTTP work through the runtime handle, which must never happen on a
//! runtime worker, and a slow statement of one connection must not stall
//! the others. Statements reach the thread through a channel; answers come
//! back through a oneshot. A statement whose waiter goes away (the client
//! cancelled, or left) is interrupted, so it makes no further requests.

use crate::Shared;
use skyql_engine::{Engine, Interrupt, Remote, Table};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Table, skyql_engine::Error>>;

/// What the engine thread is asked to do with a statement.
enum Job {
    Run(String),
    /// Its result columns only (a table without rows).
    Describe(String),
}

/// The handle a connection keeps to its engine thread. Dropping it ends the
/// thread once its current statement is done.
pub struct EngineSession {
    tx: mpsc::Sender<(Job, Reply)>,
    interrupt: Option<Interrupt>,
    /// What the last statement's report says the client must hear about
    /// (groups missing or skipped under `--on-error`, retries), sent to it
    /// as NOTICE messages.
    notes: Arc<Mutex<Vec<String>>>,
}

impl EngineSession {
    pub fn start(shared: &Arc<Shared>, name: String) -> std::io::Result<EngineSession> {
        let (tx, rx) = mpsc::channel::<(Job, Reply)>();
        let (itx, irx) = mpsc::channel::<Option<Interrupt>>();
        let registry = shared.registry.clone();
        let remote = Remote {
            client: shared.client.clone(),
            rt: shared.rt.clone(),
            await_timeout: shared.await_timeout,
        };
        let on_error = shared.on_error.clone();
        let notes = Arc::new(Mutex::new(Vec::new()));
        let thread_notes = notes.clone();
        std::thread::Builder::new().name(name).spawn(move || {
            let mut engine = Engine::with_remote(registry, remote);
            engine.set_on_error(on_error);
            let _ = itx.send(engine.interrupt_handle().ok());
            while let Ok((job, reply)) = rx.recv() {
                let answer = match job {
                    Job::Run(sql) => {
                        let answer = run_one(&mut engine, &sql);
                        // A failed statement's error already says what failed.
                        if let Ok(mut n) = thread_notes.lock() {
                            *n = match &answer {
                                Ok(_) => {
                                    engine.last_report().map(|r| r.notes()).unwrap_or_default()
                                }
                                Err(_) => Vec::new(),
                            };
                        }
                        answer
                    }
                    Job::Describe(sql) => describe_one(&mut engine, &sql),
                };
                let _ = reply.send(answer);
            }
        })?;
        let interrupt = irx.recv().ok().flatten();
        Ok(EngineSession {
            tx,
            interrupt,
            notes,
        })
    }

    /// Runs one statement on the engine thread; dropping the future before
    /// it resolves interrupts the statement.
    pub async fn run(&self, sql: String) -> Result<Table, skyql_engine::Error> {
        self.ask(Job::Run(sql)).await
    }

    /// The notes of the statement that ran last, taken (each is heard once).
    pub fn take_notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    /// The result columns a read would have (`$n` parameters unbound).
    pub async fn describe(&self, sql: String) -> Result<Table, skyql_engine::Error> {
        self.ask(Job::Describe(sql)).await
    }

    async fn ask(&self, job: Job) -> Result<Table, skyql_engine::Error> {
        let (tx, rx) = oneshot::channel();
        self.tx.send((job, tx)).map_err(|_| ended())?;
        let mut guard = InterruptOnDrop {
            interrupt: self.interrupt.as_ref(),
            armed: true,
        };
        let answer = rx.await.map_err(|_| ended());
        guard.armed = false;
        answer?
    }
}

fn ended() -> skyql_engine::Error {
    skyql_engine::Error::Internal("the session's engine thread ended".into())
}

/// Interrupts the running statement unless disarmed (it finished).
struct InterruptOnDrop<'a> {
    interrupt: Option<&'a Interrupt>,
    armed: bool,
}

impl Drop for InterruptOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed
            && let Some(i) = self.interrupt
        {
            i.interrupt();
        }
    }
}

fn describe_one(engine: &mut Engine, sql: &str) -> Result<Table, skyql_engine::Error> {
    let statements = skyql_engine::split_statements(sql)?;
    let [one] = statements.as_slice() else {
        return Err(skyql_engine::Error::Internal(
            "one statement at a time reaches the engine".into(),
        ));
    };
    let columns = engine.describe(one)?;
    let mut t = Table::new(columns.iter().map(|c| c.0.clone()));
    t.column_types = columns.into_iter().map(|c| c.1).collect();
    Ok(t)
}

fn run_one(engine: &mut Engine, sql: &str) -> Result<Table, skyql_engine::Error> {
    let statements = skyql_engine::split_statements(sql)?;
    match statements.as_slice() {
        [one] => engine.execute(one),
        [] => Ok(Table::default()),
        _ => Err(skyql_engine::Error::Internal(
            "one statement at a time reaches the engine".into(),
        )),
    }
}
