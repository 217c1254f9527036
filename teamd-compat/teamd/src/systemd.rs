//! Is the SIGTERM we got the stop half of a restart of our own systemd unit?
//! Then the exit is warm (the team is left to the teamd systemd starts next)
//! instead of C teamd's cold one (ports released, device deleted).
//!
//! systemd (checked against its `src/core/job.c`, `dbus-unit.c`, `dbus-job.c`
//! of the 249–252 era; Debian 12 ships 252): `systemctl restart` installs a
//! job of type `restart` on the unit, and `try-restart` one of type
//! `try-restart` that is collapsed to `restart` when installed on an active
//! unit (to `nop` on an inactive one). A `restart` job runs as a stop (SIGTERM
//! to the main process, our case) and keeps its type until the stop is done;
//! only then is it changed into a `start` job. So while we handle SIGTERM, the
//! unit's `Job` property `(uo)` names the job (`/` when there is none), whose
//! `JobType` is `restart` for both commands. `stop`, system shutdown and
//! `systemctl kill` give `stop` or no job: cold. `reload-or-restart` on our
//! unit (it has ExecReload) is a reload: SIGHUP, no exit at all.
//!
//! The unit is the one `GetUnitByPID` finds for our PID, and it must be ours:
//! a teamd spawned by another service (NetworkManager passes its own
//! `INVOCATION_ID` on) lives in that service's unit, whose restart is none of
//! our business, so its `MainPID` must be us. Any error or a slow answer
//! means cold: a cold exit is what C teamd always does.

use std::time::Duration;

use zbus::{OwnedObjectPath, OwnedVariant};

const DEST: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SERVICE: &str = "org.freedesktop.systemd1.Service";
const JOB: &str = "org.freedesktop.systemd1.Job";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// How long the question may take before the exit goes ahead cold: systemd
/// answers in milliseconds, but a stopping system may have no bus left.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether systemd started this process: it sets `INVOCATION_ID` for every
/// service process (since v232) and `NOTIFY_SOCKET` for Type=notify ones.
/// Without either there is no unit to ask about.
pub fn started_by_systemd(var: impl Fn(&str) -> Option<String>) -> bool {
    ["INVOCATION_ID", "NOTIFY_SOCKET"]
        .iter()
        .any(|k| var(k).is_some_and(|v| !v.is_empty()))
}

/// What systemd said about our unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A restart job is running on our unit (named): exit warm.
    Restart(String),
    /// Our unit, with no job or another one (`stop`, ...): exit cold.
    NoRestart { unit: String, job: Option<String> },
    /// The unit holding our PID has another main process: not ours to judge.
    NotMainProcess { unit: String, main_pid: u32 },
}

/// The job types that mean "a new teamd follows at once".
pub fn is_restart(job_type: &str) -> bool {
    // try-restart is collapsed to restart on installation; accepting it costs
    // nothing should a systemd ever show it uncollapsed
    matches!(job_type, "restart" | "try-restart")
}

async fn property(
    conn: &zbus::Connection,
    path: &OwnedObjectPath,
    interface: &str,
    name: &str,
) -> zbus::Result<OwnedVariant> {
    // a plain Properties.Get each time: no proxy, so no cached value (systemd
    // marks JobType const, which a caching proxy would never re-read)
    let reply = conn
        .call_method(
            Some(DEST),
            path.as_str(),
            Some(PROPERTIES),
            "Get",
            &(interface, name),
        )
        .await?;
    reply.body().deserialize::<OwnedVariant>()
}

/// Asks systemd over `conn` about the unit of process `pid`.
pub async fn ask(conn: &zbus::Connection, pid: u32) -> zbus::Result<Verdict> {
    let reply = conn
        .call_method(
            Some(DEST),
            MANAGER_PATH,
            Some(MANAGER),
            "GetUnitByPID",
            &(pid,),
        )
        .await?;
    let unit_path: OwnedObjectPath = reply.body().deserialize()?;
    let unit = String::try_from(property(conn, &unit_path, UNIT, "Id").await?)?;
    let main_pid = u32::try_from(property(conn, &unit_path, SERVICE, "MainPID").await?)?;
    if main_pid != pid {
        return Ok(Verdict::NotMainProcess { unit, main_pid });
    }
    let job = zbus::Variant::from(property(conn, &unit_path, UNIT, "Job").await?);
    let (_id, job_path): (u32, OwnedObjectPath) = job.downcast()?;
    if job_path.as_str() == "/" {
        return Ok(Verdict::NoRestart { unit, job: None });
    }
    let job_type = String::try_from(property(conn, &job_path, JOB, "JobType").await?)?;
    Ok(if is_restart(&job_type) {
        Verdict::Restart(unit)
    } else {
        Verdict::NoRestart {
            unit,
            job: Some(job_type),
        }
    })
}

/// The whole question on the system bus, bounded by [`QUERY_TIMEOUT`]; `Err`
/// says why there is no answer.
pub async fn ask_system_bus(pid: u32) -> Result<Verdict, String> {
    let query = async {
        let conn = zbus::Connection::system().await?;
        ask(&conn, pid).await
    };
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", QUERY_TIMEOUT.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;
    use std::sync::{Arc, Mutex};

    #[test]
    fn only_a_systemd_environment_is_asked() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(started_by_systemd(env(&[("INVOCATION_ID", "0123abcd")])));
        assert!(started_by_systemd(env(&[("NOTIFY_SOCKET", "/run/x")])));
        assert!(!started_by_systemd(env(&[("INVOCATION_ID", "")])));
        assert!(!started_by_systemd(env(&[("HOME", "/root")])));
    }

    #[test]
    fn restart_job_types() {
        assert!(is_restart("restart"));
        assert!(is_restart("try-restart"));
        for t in [
            "stop",
            "start",
            "reload",
            "reload-or-start",
            "verify-active",
            "nop",
        ] {
            assert!(!is_restart(t), "{t}");
        }
    }

    /// What the fake systemd knows: (unit id, main pid, job type if any).
    #[derive(Clone)]
    struct World(Arc<Mutex<(String, u32, Option<String>)>>);

    struct Manager;
    struct Unit(World);
    struct Service(World);
    struct Job(World);

    const UNIT_PATH: &str = "/org/freedesktop/systemd1/unit/teamd_40team0_2eservice";
    const JOB_PATH: &str = "/org/freedesktop/systemd1/job/4242";

    // The signatures below are systemd's (bus_manager_vtable, bus_unit_vtable,
    // bus_service_vtable, bus_job_vtable): GetUnitByPID(u) -> o, Id s, Job (uo),
    // MainPID u, JobType s.
    #[zbus::interface(name = "org.freedesktop.systemd1.Manager")]
    impl Manager {
        #[zbus(name = "GetUnitByPID")]
        fn get_unit_by_pid(&self, pid: u32) -> zbus::fdo::Result<OwnedObjectPath> {
            if pid == 0 {
                return Err(zbus::fdo::Error::Failed(
                    "PID 0 does not belong to any loaded unit.".into(),
                ));
            }
            Ok(OwnedObjectPath::try_from(UNIT_PATH).unwrap())
        }
    }

    #[zbus::interface(name = "org.freedesktop.systemd1.Unit")]
    impl Unit {
        #[zbus(property, name = "Id")]
        fn id(&self) -> String {
            self.0 .0.lock().unwrap().0.clone()
        }

        #[zbus(property, name = "Job")]
        fn job(&self) -> (u32, OwnedObjectPath) {
            let has_job = self.0 .0.lock().unwrap().2.is_some();
            if has_job {
                (4242, OwnedObjectPath::try_from(JOB_PATH).unwrap())
            } else {
                (0, OwnedObjectPath::try_from("/").unwrap())
            }
        }
    }

    #[zbus::interface(name = "org.freedesktop.systemd1.Service")]
    impl Service {
        #[zbus(property, name = "MainPID")]
        fn main_pid(&self) -> u32 {
            self.0 .0.lock().unwrap().1
        }
    }

    #[zbus::interface(name = "org.freedesktop.systemd1.Job")]
    impl Job {
        #[zbus(property, name = "JobType")]
        fn job_type(&self) -> zbus::fdo::Result<String> {
            self.0
                 .0
                .lock()
                .unwrap()
                .2
                .clone()
                .ok_or_else(|| zbus::fdo::Error::UnknownObject("no job".into()))
        }
    }

    /// A p2p connection to a fake systemd serving `world`.
    async fn systemd(world: &World) -> (zbus::Connection, zbus::Connection) {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let server = zbus::connection::Builder::unix_stream(a)
            .server(zbus::Guid::generate())
            .p2p()
            .serve_at(MANAGER_PATH, Manager)
            .serve_at(UNIT_PATH, Unit(world.clone()))
            .serve_at(UNIT_PATH, Service(world.clone()))
            .serve_at(JOB_PATH, Job(world.clone()))
            .build();
        let client = zbus::connection::Builder::unix_stream(b).p2p().build();
        let (server, client) = tokio::join!(server, client);
        (server.expect("server"), client.expect("client"))
    }

    #[tokio::test]
    async fn the_restart_job_of_our_own_unit_means_warm() {
        let world = World(Arc::new(Mutex::new((
            "teamd@team0.service".into(),
            77,
            Some("restart".into()),
        ))));
        let (_server, client) = systemd(&world).await;
        assert_eq!(
            ask(&client, 77).await.unwrap(),
            Verdict::Restart("teamd@team0.service".into())
        );
        world.0.lock().unwrap().2 = Some("stop".into());
        assert_eq!(
            ask(&client, 77).await.unwrap(),
            Verdict::NoRestart {
                unit: "teamd@team0.service".into(),
                job: Some("stop".into())
            }
        );
        world.0.lock().unwrap().2 = None;
        assert_eq!(
            ask(&client, 77).await.unwrap(),
            Verdict::NoRestart {
                unit: "teamd@team0.service".into(),
                job: None
            }
        );
        // a teamd in NetworkManager's unit: NM's restart is not ours
        {
            let mut w = world.0.lock().unwrap();
            *w = ("NetworkManager.service".into(), 12, Some("restart".into()));
        }
        assert_eq!(
            ask(&client, 77).await.unwrap(),
            Verdict::NotMainProcess {
                unit: "NetworkManager.service".into(),
                main_pid: 12
            }
        );
        // systemd refusing the PID is an error, i.e. cold
        assert!(ask(&client, 0).await.is_err());
    }
}
