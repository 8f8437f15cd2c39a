//! Test and benchmark support: a real server on a real socket, and a Rust device client that drives
//! the `shared` sans-IO sync client over tokio-tungstenite.

pub mod pg;

use futures_util::{SinkExt, StreamExt};
use server::{AppState, Config, app};
use shared::{DocKey, DocumentId, Event, SyncClient};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Start on 127.0.0.1 (a free port, or `port`) with a demo data dir.
    pub async fn start(data_dir: &Path, port: u16) -> TestServer {
        Self::start_with(data_dir, port, |_| {}).await
    }

    /// [`Self::start`] with some settings changed first.
    pub async fn start_with(
        data_dir: &Path,
        port: u16,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut cfg = Config {
            demo: true,
            ..Config::new(
                SocketAddr::from(([127, 0, 0, 1], port)),
                data_dir.to_path_buf(),
                data_dir.join("no-dist"),
            )
        };
        // RUST_LOG=… shows the server's log under the test (off by default: the output stays
        // the tests' own).
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        cfg.database = pg::database_for(data_dir);
        tweak(&mut cfg);
        let (state, _) = AppState::start(&cfg).await.expect("server starts");
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let limits = cfg.listen_limits;
        let task = tokio::spawn(async move {
            let router = app(st.clone());
            let shutdown = async move {
                let _ = rx.await;
                st.hub.stop().await;
            };
            server::serve::serve(listener, router, limits, shutdown, Duration::from_secs(3)).await;
        });
        TestServer {
            addr,
            state,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Graceful stop, as on SIGTERM: sync closes, storage drains.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
        self.state.shutdown().await;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Login {
    pub token: String,
    pub peer_id: String,
}

/// One HTTP client for the whole process: a benchmark polls durable heads thousands of times.
/// A request unanswered for 20 s fails (a server that stops answering must fail a test, not hang it).
pub static HTTP: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client")
});

pub async fn login(base: &str, user: &str) -> Login {
    let res = HTTP
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": user, "password": "danvan-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login {user}");
    res.json().await.unwrap()
}

pub async fn durable_heads(base: &str, token: &str) -> serde_json::Value {
    try_durable_heads(base, token).await.expect("durable heads")
}

/// `None` when the request fails (server down or overloaded) rather than panicking.
pub async fn try_durable_heads(base: &str, token: &str) -> Option<serde_json::Value> {
    let res = HTTP
        .get(format!("{base}/api/durable-heads"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    Some(res.json::<serde_json::Value>().await.ok()?["heads"].clone())
}

/// Ask the server whether the device's current heads of `id` are durable.
pub async fn durable_check(
    base: &str,
    token: &str,
    id: &DocumentId,
    doc: &automerge::Automerge,
) -> Option<bool> {
    let body = serde_json::json!({ "have": { id.to_string(): hex_heads(doc) } });
    let res = HTTP
        .post(format!("{base}/api/durable-heads"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .ok()?;
    res.json::<serde_json::Value>().await.ok()?["covered"][id.to_string()].as_bool()
}

/// Wait until the server confirms the device's current heads of `id` are durable, keeping the
/// device's socket serviced meanwhile (its changes may wait for the server's answer to go out).
pub async fn wait_covered(base: &str, token: &str, dev: &mut Device, id: &DocumentId) {
    for _ in 0..100 {
        if durable_check(base, token, id, dev.client.doc(id).unwrap()).await == Some(true) {
            return;
        }
        assert!(dev.pump_until(|_| false, Duration::from_millis(50)).await);
    }
    panic!("the server never confirmed the device's heads of {id} as durable");
}

/// A member of `commune` with one device, written straight into the database: a hundred argon2
/// checks would measure the password hash, not the storm. (One account each, as in a commune:
/// the server bounds the sockets of one account.)
pub fn device_login(srv: &TestServer, commune: &str, i: usize, hash: &str) -> Login {
    device_login_in(&srv.state.db, commune, i, hash)
}

/// [`device_login`] in a database another process serves (the sync benchmark).
pub fn device_login_in(db: &server::db::Db, commune: &str, i: usize, hash: &str) -> Login {
    let uid = db
        .create_user(
            &format!("storm{i:03}"),
            &format!("Máy {i}"),
            hash,
            &server::access::Role::Member,
            commune,
        )
        .unwrap();
    let token = server::auth::random_hex(32);
    let peer_id = format!("dv-u{uid}-storm{i:03}");
    let now = server::clock::now_ms();
    db.insert_token(
        uid,
        &server::auth::token_hash(&token),
        &peer_id,
        now,
        now + server::auth::TOKEN_LIFETIME_MS,
    )
    .unwrap();
    Login { token, peer_id }
}

/// The demo's communes.
pub const COMMUNES: [&str; 8] = [
    "xa-ka-don",
    "xa-lac-xuan",
    "xa-ka-do",
    "xa-pro",
    "xa-quang-lap",
    "xa-tu-tra",
    "tt-d-ran",
    "tt-thanh-my",
];

/// Where device `i` writes when `per_doc` devices share each notes document: the demo communes
/// in turn, then quarters going back (within the six years the server accepts).
pub fn spread(i: usize, per_doc: usize) -> (&'static str, shared::Quarter) {
    let group = i / per_doc.max(1);
    let mut q = server::clock::current_quarter();
    for _ in 0..(group / COMMUNES.len()) % 24 {
        q = q.prev();
    }
    (COMMUNES[group % COMMUNES.len()], q)
}

/// A field note `id` of `quarter` by `author`, as the sync tests write them (override fields with
/// `Note { title: …, ..field_note(…) }`).
pub fn field_note(id: String, quarter: shared::Quarter, author: &str) -> shared::schema::Note {
    shared::schema::Note {
        title: format!("Ghi chép {id}"),
        id,
        activity_date: quarter.first_day(),
        content: "Họp dân, 20 người tham dự.".into(),
        author: author.into(),
        created_at: server::clock::now_ms(),
        ..Default::default()
    }
}

/// Connect a device for each login and have every one track `key`; the document's ID.
pub async fn devices_on(
    addr: SocketAddr,
    logins: &[Login],
    key: &DocKey,
) -> (Vec<Device>, DocumentId) {
    let mut devices = Vec::new();
    for l in logins {
        devices.push(
            Device::connect_as(addr, &l.token, &l.peer_id)
                .await
                .unwrap(),
        );
    }
    let mut id = None;
    for d in &mut devices {
        id = Some(d.track(key, true).await);
    }
    (devices, id.expect("at least one login"))
}

/// Log in as `user` and connect a device with that login (the usual start of a sync test).
pub async fn logged_in_device(srv: &TestServer, user: &str) -> (Login, Device) {
    let l = login(&srv.url(), user).await;
    let d = Device::connect(srv.addr, &l).await;
    (l, d)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A device: the shared sync client driven over a real WebSocket.
pub struct Device {
    pub client: SyncClient,
    pub ws: Ws,
    pub unavailable: Vec<DocumentId>,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    /// Binary frames received (sync messages, the handshake and durable-heads pushes).
    pub frames_received: usize,
    /// Durable-heads pushes received.
    pub pushes_received: usize,
    /// Protocol errors reported by the client (the server's `error` messages included).
    pub errors: Vec<String>,
    /// The last durable heads the server pushed, by document.
    pub pushed: std::collections::HashMap<DocumentId, Vec<automerge::ChangeHash>>,
}

pub async fn open_ws(addr: SocketAddr, token: &str) -> Result<Ws, tungstenite::Error> {
    let mut req = format!("ws://{addr}/sync").into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    // 16 KiB buffers, as the server's sockets (`web.rs`): tungstenite zero-fills its read buffer
    // to capacity before every read, and a bench runs 2,000 of these devices on one core.
    let config = tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(16 * 1024);
    Ok(
        tokio_tungstenite::connect_async_with_config(req, Some(config), false)
            .await?
            .0,
    )
}

impl Device {
    /// Connect and finish the handshake as `peer_id` (which must be the login's).
    pub async fn connect(addr: SocketAddr, login: &Login) -> Device {
        Self::connect_as(addr, &login.token, &login.peer_id)
            .await
            .expect("handshake")
    }

    pub async fn connect_as(
        addr: SocketAddr,
        token: &str,
        peer_id: &str,
    ) -> Result<Device, String> {
        let ws = open_ws(addr, token).await.map_err(|e| e.to_string())?;
        let mut d = Device {
            client: SyncClient::new(peer_id),
            ws,
            unavailable: vec![],
            bytes_sent: 0,
            bytes_received: 0,
            frames_received: 0,
            pushes_received: 0,
            errors: vec![],
            pushed: Default::default(),
        };
        d.handshake().await?;
        Ok(d)
    }

    /// Connect again after the socket closed (a server restart), keeping the documents and their
    /// unsynced changes, as a phone does.
    pub async fn reconnect(&mut self, addr: SocketAddr, token: &str) -> Result<(), String> {
        self.client.disconnected();
        self.ws = open_ws(addr, token).await.map_err(|e| e.to_string())?;
        self.errors.clear();
        self.handshake().await
    }

    async fn handshake(&mut self) -> Result<(), String> {
        let ev = self.client.connected();
        self.handle(ev).await;
        // Generous: under a connection storm the server answers late, and a phone would simply wait.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !self.client.is_connected() {
            if let Some(e) = self.errors.first() {
                return Err(e.clone());
            }
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let ev = self.client.receive(&b);
                    self.handle(ev).await;
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(None) => return Err("closed during handshake".into()),
                Err(_) => return Err("handshake timed out".into()),
            }
        }
        Ok(())
    }

    pub async fn handle(&mut self, events: Vec<Event>) {
        for e in events {
            match e {
                Event::Send(b) => {
                    self.bytes_sent += b.len();
                    let _ = self.ws.send(Message::Binary(b.into())).await;
                }
                Event::Unavailable(id) => self.unavailable.push(id),
                Event::ProtocolError(e) => self.errors.push(e),
                Event::Durable { doc, heads } => {
                    self.pushes_received += 1;
                    self.pushed.insert(doc, heads);
                }
                Event::Connected { .. } | Event::DocChanged(_) => {}
            }
        }
    }

    pub async fn track(&mut self, key: &DocKey, create: bool) -> DocumentId {
        let (id, ev) = self.client.track(key, create);
        self.handle(ev).await;
        id
    }

    pub async fn change(&mut self, id: &DocumentId, f: impl FnOnce(&mut automerge::Automerge)) {
        let ((), ev) = self.client.change(id, f).expect("tracked document");
        self.handle(ev).await;
    }

    /// Process frames until no frame arrives for `idle`.
    pub async fn pump(&mut self, idle: Duration) {
        self.pump_until(|_| false, idle).await;
    }

    /// Process frames until `done` holds or no frame arrives for `idle`. Returns false on close.
    pub async fn pump_until(&mut self, done: impl Fn(&Device) -> bool, idle: Duration) -> bool {
        while !done(self) {
            match self.pump_one(idle).await {
                Some(true) => {}
                Some(false) => return false,
                None => return true,
            }
        }
        true
    }

    /// Wait up to `wait` for one frame and process it: `Some(true)` if one came (or a control
    /// frame), `Some(false)` if the socket closed, `None` if nothing came in time.
    pub async fn pump_one(&mut self, wait: Duration) -> Option<bool> {
        match tokio::time::timeout(wait, self.ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                self.bytes_received += b.len();
                self.frames_received += 1;
                let ev = self.client.receive(&b);
                self.handle(ev).await;
                Some(true)
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => Some(false),
            Ok(Some(Ok(_))) => Some(true),
            Err(_) => None,
        }
    }
}

impl Device {
    /// Whether the server's pushed durable heads cover every change of our copy of `id`.
    pub fn pushed_covers(&self, id: &DocumentId) -> bool {
        match (self.client.doc(id), self.pushed.get(id)) {
            (Some(doc), Some(heads)) => shared::unsynced::unsynced_changes(doc, heads) == 0,
            _ => false,
        }
    }
}

pub fn hex_heads(doc: &automerge::Automerge) -> Vec<String> {
    doc.get_heads().iter().map(|h| h.to_string()).collect()
}

/// True if every change of the device's copy of `id` is covered by the server's durable heads
/// (ancestry check on the device's copy).
pub fn covered(doc: &automerge::Automerge, durable: &serde_json::Value, id: &DocumentId) -> bool {
    durable_of(durable, id).is_some_and(|h| shared::unsynced::unsynced_changes(doc, &h) == 0)
}

/// The durable heads of `id` in a `/api/durable-heads` answer (`None` if it names none).
pub fn durable_of(
    durable: &serde_json::Value,
    id: &DocumentId,
) -> Option<Vec<automerge::ChangeHash>> {
    let list = durable.get(id.to_string())?.as_array()?;
    Some(
        list.iter()
            .filter_map(|h| h.as_str()?.parse().ok())
            .collect(),
    )
}

/// Runs the `#[ignore]`d test `name` alone in a fresh process of this test binary, and fails if it
/// does. For tests that measure the process (RSS, threads): in one test binary the other modules'
/// tests run beside them and would disturb the figures.
pub fn alone(name: &str) {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} alone:\n{stdout}"
    );
}

/// A viewer whose node is one commune, logged in.
pub async fn commune_viewer(srv: &TestServer, commune: &str) -> Login {
    let hash = server::auth::hash_password("danvan-demo");
    srv.state
        .db
        .create_user(
            "xemkadon",
            "Xem Ka Đơn",
            &hash,
            &shared::vocab::Role::Viewer,
            commune,
        )
        .unwrap();
    login(&srv.url(), "xemkadon").await
}

/// Wait until the read model has indexed the notes document at its durable heads.
pub async fn settled(srv: &TestServer, key: &DocKey) {
    let id = key.doc_id().to_string();
    // The durable mirror follows samod's saves, which lag behind a change on a busy machine: wait
    // for the live heads to be durable first, or "indexed = durable" could hold for older heads.
    let live = srv
        .state
        .hub
        .change(&srv.state.storage, key, |d| d.get_heads())
        .await
        .unwrap();
    for _ in 0..200 {
        let live = live.clone();
        let covered = srv
            .state
            .storage
            .with_durable(id.clone(), move |am| {
                live.iter().all(|h| shared::unsynced::has_change(am, h))
            })
            .await;
        if covered == Some(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for _ in 0..200 {
        let durable = srv
            .state
            .storage
            .with_durable(id.clone(), |am| hex_heads(am).join(" "))
            .await;
        let indexed = srv.state.db.indexed_heads(&id).unwrap();
        if durable.is_some()
            && durable.as_deref().map(|d| {
                let mut a: Vec<&str> = d.split(' ').collect();
                a.sort();
                a
            }) == indexed.as_deref().map(|d| {
                let mut a: Vec<&str> = d.split(' ').collect();
                a.sort();
                a
            })
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the read model never caught up with {id}");
}

/// [`settled`] for every stored notes document of the communes this quarter and the last (the
/// seeded ones are indexed in the background, and listed only once they are).
pub async fn all_settled(srv: &TestServer) {
    let quarter = server::clock::current_quarter();
    for n in srv.state.db.nodes().unwrap() {
        if n.level != shared::vocab::OrgLevel::Commune {
            continue;
        }
        for q in [quarter, quarter.prev()] {
            let key = DocKey::notes(&n.id, q);
            let stored = srv
                .state
                .storage
                .with_durable(key.doc_id().to_string(), |_| ())
                .await;
            if stored.is_some() {
                settled(srv, &key).await;
            }
        }
    }
}

/// GET `path` with a bearer token: the status and the body read as `T` (if it is one).
pub async fn get<T: serde::de::DeserializeOwned>(
    srv: &TestServer,
    token: &str,
    path: &str,
) -> (u16, Option<T>) {
    let r = HTTP
        .get(format!("{}{path}", srv.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.ok())
}

/// Write a note through the server's hub (as a device's change would land), durably.
/// A document as it is durably stored (the test fails if it cannot be read or is absent).
pub async fn stored(srv: &TestServer, doc: String) -> automerge::Automerge {
    srv.state
        .storage
        .load_doc(doc)
        .await
        .expect("storage readable")
        .expect("document stored")
}

pub async fn put_note(srv: &TestServer, key: &DocKey, n: shared::schema::Note) {
    srv.state
        .hub
        .change(&srv.state.storage, key, move |d| {
            shared::schema::put_note(d, &n)
        })
        .await
        .unwrap()
        .unwrap();
}

/// The device's sync socket is closed by the server (not merely idle), within a second of `since`.
pub async fn closed_within_a_second(device: &mut Device, since: std::time::Instant) {
    let open = device.pump_until(|_| false, Duration::from_secs(2)).await;
    assert!(!open, "the socket must be closed, not idle");
    assert!(
        since.elapsed() < Duration::from_secs(1),
        "closed after {:?}",
        since.elapsed()
    );
}
